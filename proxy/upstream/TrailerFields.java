package proxy.upstream;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.util.ConduitFactory;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.StreamSinkConduit;

/**
 * The fields a trailer section may not carry across the proxy, in either direction (RFC 9110 section 6.5.1):
 * framing, routing, connection management, authentication and the forwarding fields, which a peer could
 * otherwise send after the checks on the head. Requests' trailers are filtered by {@link StrictChunkedDecoder};
 * responses' here, just before Undertow writes the last chunk: ProxyHandler copies a backend's trailers to the
 * client's response as it received them. Stateless.
 */
public final class TrailerFields {
    static final Set<String> NEVER_FORWARDED = Set.of(
            "content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection", "te",
            "trailer", "upgrade", "expect", "content-encoding", "content-type", "content-range", "authorization",
            "cookie", "set-cookie", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "forwarded");

    private TrailerFields() {}

    public static boolean isForwarded(String name) {
        return !NEVER_FORWARDED.contains(name.toLowerCase(Locale.ROOT));
    }

    /** Wraps a response's body so its trailers are filtered as the body ends. */
    public static StreamSinkConduit filterResponse(ConduitFactory<StreamSinkConduit> factory, HttpServerExchange exchange) {
        return new ResponseFilter(factory.create(), exchange);
    }

    private static void strip(HeaderMap trailers) {
        List<String> refused = new ArrayList<>();
        for (HeaderValues field : trailers) {
            if (!isForwarded(field.getHeaderName().toString())) {
                refused.add(field.getHeaderName().toString());
            }
        }
        refused.forEach(trailers::remove);
    }

    /** Filters the trailers ProxyHandler attached before the last chunk is written. Confined to the exchange's IO thread. */
    private static final class ResponseFilter extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final HttpServerExchange exchange;

        ResponseFilter(StreamSinkConduit next, HttpServerExchange exchange) {
            super(next);
            this.exchange = exchange;
        }

        @Override
        public void terminateWrites() throws IOException {
            HeaderMap trailers = exchange.getAttachment(HttpAttachments.RESPONSE_TRAILERS);
            if (trailers != null) {
                strip(trailers);
            }
            super.terminateWrites();
        }
    }
}
