package proxy.request;

import proxy.upstream.TrailerFields;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;
import proxy.exchange.ClientFault;

/**
 * The client edge for HTTP/2 requests (RFC 9113 §8.2): what Undertow 2.4.4's HTTP/2 parser lets through and an
 * HTTP/1.1 backend must never see. Undertow itself resets streams with upper-case names, pseudo-headers missing,
 * duplicated, unknown or after regular fields, names that are not lower-case tokens (it adds {@code Host} itself),
 * {@code Connection}, {@code Transfer-Encoding} and a {@code TE} other
 * than {@code trailers}; it forwards {@code Keep-Alive}, {@code Proxy-Connection} and {@code Upgrade}, a NUL in a
 * value (written raw into the backend's request head), and values with leading or trailing whitespace, which this
 * refuses. A {@code content-length} is held to the DATA received by {@link Http2DeclaredLength}. Undertow replaces
 * a {@code host} field with {@code :authority} before any handler runs, so routing and backends see one authority.
 * Stateless.
 */
final class Http2RequestGuard {
    private static final HttpString PROXY_CONNECTION = new HttpString("Proxy-Connection");
    private static final HttpString[] CONNECTION_SPECIFIC = {Headers.CONNECTION, Headers.KEEP_ALIVE, PROXY_CONNECTION,
            Headers.TRANSFER_ENCODING, Headers.UPGRADE};

    private Http2RequestGuard() {}

    /** Whether {@code exchange} came over HTTP/2 (TLS with ALPN h2, or h2c). */
    static boolean isHttp2(HttpServerExchange exchange) {
        return Protocols.HTTP_2_0.equals(exchange.getProtocol());
    }

    /** The client's fault in an HTTP/2 request's fields, or null; on success a declared length is enforced on the body. */
    static ClientFault check(HttpServerExchange exchange) {
        HeaderMap headers = exchange.getRequestHeaders();
        for (HttpString name : CONNECTION_SPECIFIC) {
            if (headers.contains(name)) {
                return ClientFault.MALFORMED_HTTP2;
            }
        }
        HeaderValues te = headers.get(Headers.TE);
        if (te != null && (te.size() != 1 || !te.getFirst().equals("trailers"))) {
            return ClientFault.MALFORMED_HTTP2;
        }
        for (HeaderValues field : headers) {
            for (String value : field) {
                if (!isCleanValue(value)) {
                    return ClientFault.MALFORMED_HTTP2;
                }
            }
        }
        HeaderValues length = headers.get(Headers.CONTENT_LENGTH);
        if (length != null) {
            // Undertow's HTTP/2 parser takes "+5" and "010" as numbers: the backend gets the proxy's canonical length, as
            // over HTTP/1.1, never a spelling an HTTP/1.1 reader might frame differently (RFC 9110 §8.6: 1*DIGIT).
            if (length.size() != 1 || !RequestFramingGuard.isPlainLength(length.getFirst())) {
                return ClientFault.BAD_FRAMING;
            }
            long declared = Long.parseLong(length.getFirst());
            headers.put(Headers.CONTENT_LENGTH, declared);
            if (declared > 0 && !exchange.isRequestComplete()) {
                exchange.addRequestWrapper((factory, ignored) -> new Http2DeclaredLength(factory.create(), declared));
            }
        }
        if (!exchange.isRequestComplete()) {
            exchange.addRequestWrapper(TrailerFields::filterHttp2Request);
        }
        return null;
    }

    // RFC 9113 §8.2.1: no NUL, CR or LF anywhere, no SP or HTAB at either end.
    private static boolean isCleanValue(String value) {
        int last = value.length() - 1;
        if (last >= 0 && (isBlank(value.charAt(0)) || isBlank(value.charAt(last)))) {
            return false;
        }
        for (int i = 0; i <= last; i++) {
            char c = value.charAt(i);
            if (c == 0 || c == '\r' || c == '\n') {
                return false;
            }
        }
        return true;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }
}
