package proxy.upstream;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.util.ConduitFactory;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The fields a trailer section may not carry across the proxy, in either direction (RFC 9110 section 6.5.1):
 * framing, routing, connection management, authentication and the forwarding fields, which a peer could
 * otherwise send after the checks on the head. HTTP/1.1 requests' trailers are filtered by {@link StrictChunkedDecoder};
 * HTTP/2 requests' and responses' here, as their body ends: ProxyHandler copies trailers from one side to the other as
 * it received them. Stateless.
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

    /** Wraps a response's body so its trailers are filtered as the body ends; {@link ResponseHeadGuard} adds it to chunked answers only. */
    public static StreamSinkConduit filterResponse(ConduitFactory<StreamSinkConduit> factory, HttpServerExchange exchange) {
        return new ResponseFilter(factory.create(), exchange);
    }

    /**
     * Wraps an HTTP/2 request's body so its trailers are filtered once it ends: Undertow attaches a stream's trailing
     * HEADERS to the exchange as they arrive, and ProxyHandler sends them on to the backend as chunked trailers.
     */
    public static StreamSourceConduit filterHttp2Request(ConduitFactory<StreamSourceConduit> factory, HttpServerExchange exchange) {
        return new RequestFilter(factory.create(), exchange);
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

    /** Filters an HTTP/2 request's trailers when its body has been read to the end, before ProxyHandler forwards them. Confined to the stream's IO thread. */
    private static final class RequestFilter extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final HttpServerExchange exchange;

        RequestFilter(StreamSourceConduit next, HttpServerExchange exchange) {
            super(next);
            this.exchange = exchange;
        }

        private long ended(long read) {
            if (read == -1) {
                HeaderMap trailers = exchange.getAttachment(HttpAttachments.REQUEST_TRAILERS);
                if (trailers != null) {
                    strip(trailers);
                }
            }
            return read;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return (int) ended(next.read(dst));
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return ended(next.read(dsts, offset, length));
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            return IoUtils.transfer(new ConduitReadableByteChannel(this), count, throughBuffer, target);
        }
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
