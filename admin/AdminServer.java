package admin;

import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import proxy.Backend;
import proxy.BackendPool;
import proxy.Json;
import proxy.ProxyServer;
import strategies.Strategy;

/**
 * The admin listener, on its own port: {@code GET /stats} (JSON), {@code GET /metrics} (Prometheus
 * text), and run-time changes: {@code POST /strategy?name=NAME}, {@code POST /drain?backend=HOST:PORT}
 * ({@code &off} to undo), {@code DELETE /backend?backend=HOST:PORT}. Bad changes get 400 with the
 * reason. Loopback clients only, unless a token is set: then any client that sends
 * {@code Authorization: Bearer TOKEN}. Thread-safe: each call reads or swaps thread-safe state.
 */
public final class AdminServer {
    private final ProxyServer proxy;
    private final TrafficStats stats;
    private final Function<String, Strategy> strategies;
    private final String token;
    private final Undertow undertow;
    private volatile String strategyName;

    private AdminServer(ProxyServer proxy, String strategyName, Function<String, Strategy> strategies, String bind, int port, String token) {
        this.proxy = proxy;
        this.stats = new TrafficStats();
        this.strategies = strategies;
        this.strategyName = strategyName;
        this.token = token;
        proxy.addObserver(stats);
        this.undertow = Undertow.builder().setIoThreads(1).setWorkerThreads(1).addHttpListener(port, bind).setHandler(this::handle).build();
        undertow.start();
    }

    /**
     * Starts the admin listener.
     *
     * @param strategies builds a strategy from its name, or throws IllegalArgumentException saying why not
     * @param token      null: loopback clients only
     */
    public static AdminServer start(ProxyServer proxy, String strategyName, Function<String, Strategy> strategies,
                                    String bind, int port, String token) {
        return new AdminServer(proxy, strategyName, strategies, bind, port, token);
    }

    public int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    public void stop() {
        undertow.stop();
    }

    /** Whether a client may use the admin API: with a token, whoever presents it; without, loopback only. */
    public static boolean isAllowed(InetAddress client, String authorization, String token) {
        if (token != null) {
            return ("Bearer " + token).equals(authorization);
        }
        return client != null && client.isLoopbackAddress();
    }

    private void handle(HttpServerExchange exchange) {
        InetSocketAddress source = exchange.getSourceAddress();
        if (!isAllowed(source == null ? null : source.getAddress(), exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION), token)) {
            answer(exchange, 403, "text/plain", "403 Forbidden: the admin API answers loopback clients, or a bearer token\n");
            return;
        }
        String method = exchange.getRequestMethod().toString();
        String route = method + " " + exchange.getRequestPath();
        try {
            switch (route) {
                case "GET /stats" -> answer(exchange, 200, "application/json", StatsReport.json(proxy.pool(), stats, strategyName));
                case "GET /metrics" -> answer(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", StatsReport.prometheus(proxy.pool(), stats));
                case "POST /strategy" -> switchStrategy(exchange);
                case "POST /drain" -> drain(exchange);
                case "DELETE /backend" -> remove(exchange);
                default -> answer(exchange, 404, "text/plain", "404 Not Found: try GET /stats, GET /metrics, POST /strategy, POST /drain, DELETE /backend\n");
            }
        } catch (IllegalArgumentException e) {
            answer(exchange, 400, "text/plain", "400 Bad Request: " + e.getMessage() + "\n");
        }
    }

    private void switchStrategy(HttpServerExchange exchange) {
        String name = parameter(exchange, "name");
        proxy.setStrategy(strategies.apply(name));
        strategyName = name;
        System.out.println("strategy changed to " + name);
        answer(exchange, 200, "application/json", "{\"strategy\":" + Json.quote(name) + "}\n");
    }

    private void drain(HttpServerExchange exchange) {
        Backend backend = backendNamed(parameter(exchange, "backend"));
        boolean draining = !exchange.getQueryParameters().containsKey("off");
        proxy.pool().drain(backend, draining);
        System.out.println("backend " + backend.name() + (draining ? " draining" : " back in rotation after draining"));
        answer(exchange, 200, "application/json", "{\"backend\":" + Json.quote(backend.name()) + ",\"draining\":" + draining + "}\n");
    }

    private void remove(HttpServerExchange exchange) {
        Backend backend = backendNamed(parameter(exchange, "backend"));
        if (proxy.pool().primaries().size() == 1 && proxy.pool().primaries().contains(backend)) {
            throw new IllegalArgumentException("cannot remove the last backend; add another first");
        }
        proxy.pool().remove(backend);
        System.out.println("backend " + backend.name() + " removed");
        answer(exchange, 200, "application/json", "{\"removed\":" + Json.quote(backend.name()) + "}\n");
    }

    private Backend backendNamed(String name) {
        BackendPool pool = proxy.pool();
        Optional<Backend> found = pool.all().stream().filter(backend -> backend.name().equals(name)).findFirst();
        return found.orElseThrow(() -> new IllegalArgumentException("no backend " + name + "; the pool has "
                + String.join(", ", pool.all().stream().map(Backend::name).toList())));
    }

    private static String parameter(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        if (values == null || values.getFirst().isBlank()) {
            throw new IllegalArgumentException("missing ?" + name + "=");
        }
        return values.getFirst().trim().toLowerCase(Locale.ROOT);
    }

    private static void answer(HttpServerExchange exchange, int status, String contentType, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
        exchange.getResponseSender().send(body);
    }

    /** For the banner. */
    public List<String> routes() {
        return List.of("GET /stats", "GET /metrics", "POST /strategy?name=", "POST /drain?backend=", "DELETE /backend?backend=");
    }
}
