package proxy.listen;

import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;
import proxy.ProxyServer;

/**
 * A plain-HTTP listener that sends every request to the TLS listener: {@code 308 Permanent Redirect} (method and
 * body kept, RFC 9110 §15.4.9) to {@code https://HOST[:PORT]/same/target}, as nginx's {@code return 301
 * https://$host$request_uri} does. The host comes from the request's {@code Host}, port dropped; a host that is not
 * a plain name or address gets 400 rather than a redirect built from it. Thread-safe; {@link #stop()} once.
 */
public final class HttpsRedirect {
    private final Undertow server;

    private HttpsRedirect(Undertow server) {
        this.server = server;
    }

    /** Listens on {@code bind:port} and redirects to the TLS listener on {@code httpsPort}. */
    public static HttpsRedirect start(String bind, int port, int httpsPort) {
        Undertow server = Undertow.builder().addHttpListener(port, bind).setIoThreads(1).setWorkerThreads(1)
                .setHandler(new Redirecting(httpsPort)).build();
        try {
            server.start();
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + " for --redirect-http: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage())
                    + ProxyServer.listenFix(e.getCause(), "--redirect-http", "--bind"), e);
        }
        return new HttpsRedirect(server);
    }

    /** The port it listens on: the chosen one when started with port 0. */
    public int port() {
        return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    public void stop() {
        server.stop();
    }

    private record Redirecting(int httpsPort) implements HttpHandler {
        @Override
        public void handleRequest(HttpServerExchange exchange) {
            String host = hostOf(exchange.getRequestHeaders().getFirst(Headers.HOST));
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            if (host == null) {
                exchange.setStatusCode(400);
                exchange.getResponseSender().send("400 Bad Request: this port only redirects to https, and needs a Host to redirect to\n");
                return;
            }
            String target = exchange.getRequestURI() + (exchange.getQueryString().isEmpty() ? "" : "?" + exchange.getQueryString());
            String location = "https://" + host + (httpsPort == 443 ? "" : ":" + httpsPort) + target;
            exchange.setStatusCode(308);
            exchange.getResponseHeaders().put(Headers.LOCATION, location);
            exchange.getResponseSender().send("308 Permanent Redirect: " + location + "\n");
        }

        /** The host part of a Host header if it is a plain DNS name, IPv4 or bracketed IPv6 address, else null. */
        static String hostOf(String header) {
            if (header == null || header.isEmpty()) {
                return null;
            }
            String host = header.startsWith("[") ? header.substring(0, header.indexOf(']') + 1) : header.replaceFirst(":\\d*$", "");
            return host.matches("[A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]+\\]") ? host : null;
        }
    }
}
