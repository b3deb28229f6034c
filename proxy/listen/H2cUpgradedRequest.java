package proxy.listen;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Protocols;

/**
 * Under Undertow's {@code Http2UpgradeHandler} (--h2c): the HTTP/1.1 request that asked for {@code Upgrade: h2c}
 * is served as HTTP/2 stream 1 (RFC 7540 §3.2), and Undertow copies its header fields whole, the upgrade's own
 * among them, which are connection-specific and would make {@link Http2RequestGuard} refuse the request. They
 * served the hop that is now over, so they go; the request is then checked and forwarded like any other.
 * Stateless, thread-safe.
 */
public final class H2cUpgradedRequest implements HttpHandler {
    private static final HttpString HTTP2_SETTINGS = new HttpString("HTTP2-Settings");

    private final HttpHandler next;

    public H2cUpgradedRequest(HttpHandler next) {
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        HeaderMap headers = exchange.getRequestHeaders();
        if (Protocols.HTTP_2_0.equals(exchange.getProtocol()) && headers.contains(HTTP2_SETTINGS)
                && "h2c".equalsIgnoreCase(headers.getFirst(Headers.UPGRADE))) {
            headers.remove(HTTP2_SETTINGS);
            headers.remove(Headers.UPGRADE);
            headers.remove(Headers.CONNECTION);
        }
        next.handleRequest(exchange);
    }
}
