package proxy.request;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.Cookie;
import java.net.InetSocketAddress;
import model.RequestView;

/**
 * The strategy's view of a live Undertow exchange. Reads lazily, so a strategy that looks at nothing
 * costs one small object per request. Used on the exchange's IO thread only.
 */
public final class ExchangeRequestView implements RequestView {
    private final HttpServerExchange exchange;

    public ExchangeRequestView(HttpServerExchange exchange) {
        this.exchange = exchange;
    }

    @Override
    public String clientAddress() {
        return clientAddressOf(exchange);
    }

    /** The client's IP address as text, or null when the connection has none (not a socket). */
    public static String clientAddressOf(HttpServerExchange exchange) {
        InetSocketAddress source = exchange.getSourceAddress();
        return source == null || source.getAddress() == null ? null : source.getAddress().getHostAddress();
    }

    @Override
    public String method() {
        return exchange.getRequestMethod().toString();
    }

    @Override
    public String path() {
        return exchange.getRequestPath();
    }

    @Override
    public String header(String name) {
        return exchange.getRequestHeaders().getFirst(name);
    }

    @Override
    public String cookie(String name) {
        Cookie cookie = exchange.getRequestCookie(name);
        return cookie == null ? null : cookie.getValue();
    }
}
