package admin;

import model.PoolEvent;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import demo.DemoControl;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import model.Backend;
import model.BackendPool;
import model.BackendSpec;
import model.Strategy;
import org.xnio.Options;
import org.xnio.Sequence;
import config.UpstreamConfig;
import proxy.ConfigReloader;
import proxy.ProxyServer;
import strategies.Strategies;
import text.Json;
import tls.ServerTls;

/**
 * The admin listener, on its own port: {@code GET /} (the live dashboard), {@code GET /stats} (JSON),
 * {@code GET /history} (the last minutes, per second, JSON), {@code GET /metrics} (Prometheus text or
 * OpenMetrics), {@code GET /events}, and run-time changes: {@code POST
 * /break} and {@code /heal ?backend=B} (demo backends only), {@code POST /strategy?name=NAME}, {@code POST /drain?backend=B}
 * ({@code &off} to undo), {@code POST /backend?backend=http://HOST:PORT}, {@code DELETE /backend?backend=B},
 * {@code POST /weight?backend=B&weight=N}, where B is a backend's name or address; each takes {@code &upstream=NAME}
 * (the first upstream without it), as {@code /stats} and {@code /history} do. Bad changes get 400 with the
 * reason. Who may call it is {@link AdminAccess}'s decision, taken before any route runs.
 * Thread-safe: each call reads or swaps thread-safe state.
 */
public final class AdminServer {
    private final ProxyServer proxy;
    private final TrafficStats stats;
    private final History history;
    private final PrometheusMetrics metrics;
    private volatile Map<String, String> labels = Map.of();
    private final Function<String, Strategy> strategies;
    private final DemoControl demos;
    private final Undertow undertow;
    private final AdminAccess access;
    private final String strategyName; // the first upstream's at start
    private final Map<String, String> switchedStrategies = new ConcurrentHashMap<>(); // by upstream, as switched here
    private volatile ConfigReloader reloader;

    private AdminServer(ProxyServer proxy, String strategyName, Function<String, Strategy> strategies, String bind, int port, String token,
                        DemoControl demos) {
        this.proxy = proxy;
        this.stats = new TrafficStats();
        this.strategies = strategies;
        this.strategyName = strategyName;
        this.demos = demos;
        proxy.addObserver(stats);
        // Started before the access rules exist, since port 0 is only known afterwards: the rules are
        // fixed before the constructor returns, and a request that comes in earlier is refused (handle).
        this.metrics = new PrometheusMetrics(proxy, this::label);
        proxy.addObserver(metrics);
        this.history = new History(proxy::pools, stats);
        history.start();
        this.undertow = listening(Undertow.builder().setIoThreads(1).setWorkerThreads(2), proxy.tls(), bind, port).setHandler(this::handle).build();
        try {
            undertow.start();
        } catch (RuntimeException e) {
            // Undertow wraps the bind's IOException in a RuntimeException: say where and what to do instead.
            history.stop();
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot listen on " + bind + ":" + port + " for the admin API: " + cause.getMessage()
                    + ProxyServer.listenFix(cause, "--admin-port", "--admin-bind"), e);
        }
        this.access = new AdminAccess(new OwnAddress(bind, port()), token);
    }

    /**
     * HTTPS when the proxy's listener speaks it, with its certificates (its SSL context: a reload's new certificates
     * serve here too) and its protocols and suites; the admin token and session cookie then never cross the network
     * in the clear. Plain HTTP otherwise.
     */
    private static Undertow.Builder listening(Undertow.Builder builder, ServerTls tls, String bind, int port) {
        if (tls == null) {
            return builder.addHttpListener(port, bind);
        }
        return builder.addHttpsListener(port, bind, tls.context())
                .setSocketOption(Options.SSL_ENABLED_PROTOCOLS, Sequence.of(ServerTls.PROTOCOLS))
                .setSocketOption(Options.SSL_ENABLED_CIPHER_SUITES, Sequence.of(tls.cipherSuites()));
    }

    /** Whether the admin port speaks HTTPS (it does when the proxy's listener does). */
    public boolean isHttps() {
        return proxy.tls() != null;
    }

    /**
     * Starts the admin listener.
     *
     * @param strategies builds a strategy from its name, or throws IllegalArgumentException saying why not
     * @param token      null: loopback clients only
     */
    public static AdminServer start(ProxyServer proxy, String strategyName, Function<String, Strategy> strategies,
                                    String bind, int port, String token) {
        return start(proxy, strategyName, strategies, bind, port, token, DemoControl.none());
    }

    /** As above, with break and heal for the demo backends this process started. */
    public static AdminServer start(ProxyServer proxy, String strategyName, Function<String, Strategy> strategies,
                                    String bind, int port, String token, DemoControl demos) {
        return new AdminServer(proxy, strategyName, strategies, bind, port, token, demos);
    }

    public int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    public void stop() {
        history.stop();
        undertow.stop();
    }

    /** The path that logs a browser in once without typing the token, for the banner; null without a token. */
    public String oneTimeLoginPath() {
        return access.oneTimeLoginPath();
    }

    /** Shorter lifetimes of the banner's login link (counted from start) and of each login session, for tests; by default 10 min and 12 h. */
    public void setLoginLifetimes(java.time.Duration link, java.time.Duration session) {
        access.setLifetimes(link, session);
    }

    /** Closes the history's current second now rather than at the timer's next tick: lets a test fill the 300-second ring in no time. */
    public void closeSecondNow() {
        history.tick();
    }

    /** Names to show instead of backends' addresses, such as the demo's "demo-1", by backend name (HOST:PORT). */
    public void setLabels(Map<String, String> labels) {
        this.labels = Map.copyOf(labels);
    }

    /** What POST /reload runs: the same reload as SIGHUP's. */
    public void setReloader(ConfigReloader reloader) {
        this.reloader = reloader;
    }

    /** " (until the next reload of FILE)" when a configuration file is in use: a run-time change lasts only that long. */
    private String untilReload() {
        ConfigReloader current = reloader;
        return current == null || current.file() == null ? "" : " (until the next reload of " + current.file() + ")";
    }

    /** {@code json} with a "note" saying the next reload replaces the change, when a configuration file is in use. */
    private String noted(String json) {
        String note = untilReload();
        return note.isEmpty() ? json : json.substring(0, json.lastIndexOf('}')) + ",\"note\":"
                + Json.quote("the next reload of " + reloader.file() + " replaces this change") + "}\n";
    }

    /** POST /reload: 200 with the changes, or 409 with every problem of a refused configuration (the old one keeps serving). */
    private void reload(HttpServerExchange exchange) {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this::handle); // reads the file and resolves backends' names: not on the IO thread
            return;
        }
        ConfigReloader current = reloader;
        if (current == null) {
            answer(exchange, 409, "text/plain", "409 Conflict: there is no configuration file to reload; start with --config FILE\n");
            return;
        }
        ConfigReloader.Result result = current.reload("POST /reload");
        answer(exchange, result.applied() ? 200 : 409, "application/json", "{\"applied\":" + result.applied() + ",\"lines\":["
                + String.join(",", result.lines().stream().map(Json::quote).toList()) + "]}\n");
    }

    /** An upstream's strategy as switched here, if it was; else as configured (the first upstream's as given at start). */
    private String strategyOf(String upstream) {
        String switched = switchedStrategies.get(upstream);
        if (switched != null) {
            return switched;
        }
        if (firstUpstream().equals(upstream)) {
            return strategyName;
        }
        UpstreamConfig config = proxy.config().upstream(upstream);
        return config == null ? "" : config.picking().strategy();
    }

    private String firstUpstream() {
        return proxy.pools().keySet().iterator().next();
    }

    /** The upstream {@code ?upstream=} names, or the first one without it. */
    private String upstreamOf(HttpServerExchange exchange) {
        Deque<String> values = exchange.getQueryParameters().get("upstream");
        if (values == null || values.getFirst().isBlank()) {
            return firstUpstream();
        }
        String name = values.getFirst().trim();
        if (!proxy.pools().containsKey(name)) {
            throw new IllegalArgumentException("no upstream " + name + "; there are " + String.join(", ", proxy.pools().keySet()));
        }
        return name;
    }

    /** A backend's name where it has one (the demo's "demo-1"), else its address. */
    private String label(String address) {
        return labels.getOrDefault(address, address);
    }

    private void handle(HttpServerExchange exchange) {
        if (access == null) {
            answer(exchange, 503, "text/plain", "503 Service Unavailable: the admin API is starting\n");
            return;
        }
        if (!access.admit(exchange)) {
            return;
        }
        String method = exchange.getRequestMethod().toString();
        String route = method + " " + exchange.getRequestPath();
        try {
            switch (route) {
                case "GET /" -> answer(exchange, 200, "text/html; charset=utf-8", Dashboard.HTML);
                case "GET /events" -> answer(exchange, 200, "application/json", events());
                case "GET /strategies" -> answer(exchange, 200, "application/json",
                        "[" + String.join(",", Strategies.ALL.stream().map(entry -> Json.quote(entry.name())).toList()) + "]");
                case "POST /break", "POST /heal" -> breakOrHeal(exchange, route.endsWith("break"));
                case "GET /stats" -> {
                    String upstream = upstreamOf(exchange);
                    answer(exchange, 200, "application/json", StatsReport.json(upstream, proxy.pools().get(upstream), stats, history,
                            strategyOf(upstream), this::label, proxy.pools(), this::strategyOf));
                }
                case "GET /history" -> answer(exchange, 200, "application/json", history.json(upstreamOf(exchange), this::label, proxy.events().recent()));
                case "GET /uplot.js", "GET /uplot.css" -> answer(exchange, 200,
                        route.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8", Dashboard.uplot(route.endsWith(".js")));
                case "GET /metrics" -> {
                    String accept = exchange.getRequestHeaders().getFirst(Headers.ACCEPT);
                    answer(exchange, 200, PrometheusMetrics.contentType(accept), metrics.scrape(accept));
                }
                case "POST /strategy" -> switchStrategy(exchange);
                case "POST /drain" -> drain(exchange);
                case "DELETE /backend" -> remove(exchange);
                case "POST /backend" -> add(exchange);
                case "POST /weight" -> reweigh(exchange);
                case "POST /reload" -> reload(exchange);
                default -> answer(exchange, 404, "text/plain", "404 Not Found: try GET / (the dashboard), /stats, /history, /metrics, /events\n");
            }
        } catch (IllegalArgumentException e) {
            answer(exchange, 400, "text/plain", "400 Bad Request: " + e.getMessage() + "\n");
        }
    }

    private void switchStrategy(HttpServerExchange exchange) {
        String name = parameter(exchange, "name");
        String upstream = upstreamOf(exchange);
        proxy.setStrategy(upstream, name, strategies.apply(name));
        switchedStrategies.put(upstream, name);
        boolean single = proxy.pools().size() == 1;
        proxy.events().record(PoolEvent.of(PoolEvent.Kind.STRATEGY, "strategy changed to " + name + (single ? "" : " for upstream " + upstream) + untilReload()));
        answer(exchange, 200, "application/json", noted("{\"strategy\":" + Json.quote(name) + ",\"upstream\":" + Json.quote(upstream) + "}\n"));
    }

    /** The events, each naming its backend as the dashboard does, with the address as a field of its own. */
    private String events() {
        return "[" + String.join(",", proxy.events().recent().stream()
                .map(event -> "{\"time\":" + Json.quote(event.time().toString())
                        + ",\"kind\":" + Json.quote(event.kind().name().toLowerCase(Locale.ROOT))
                        + ",\"backend\":" + (event.backend() == null ? "null" : Json.quote(label(event.backend())))
                        + ",\"address\":" + (event.backend() == null ? "null" : Json.quote(event.backend()))
                        + ",\"text\":" + Json.quote(History.labelled(event.text(), event.backend(), this::label)) + "}").toList()) + "]";
    }

    /** {@code "backend":NAME,"address":HOST:PORT}: how an answer names the backend it changed. */
    private String named(Backend backend) {
        return "\"backend\":" + Json.quote(label(backend.name())) + ",\"address\":" + Json.quote(backend.name());
    }

    /** Makes a demo backend this process started reset every connection (break), or behave again (heal). */
    private void breakOrHeal(HttpServerExchange exchange, boolean breakIt) {
        Backend backend = backendNamed(exchange).backend();
        if (breakIt) {
            demos.breakBackend(backend.name());
        } else {
            demos.heal(backend.name());
        }
        proxy.events().record(new PoolEvent(breakIt ? PoolEvent.Kind.BROKEN : PoolEvent.Kind.HEALED, backend.name(),
                "demo backend " + backend.name() + (breakIt ? " broken: it resets every connection" : " healed")));
        // What the break caused ends with it: waiting out the ejection would punish a backend that is fine again.
        boolean readmitted = !breakIt && proxy.readmitNow(backend, "healed");
        answer(exchange, 200, "application/json", "{" + named(backend) + ",\"broken\":" + breakIt
                + (breakIt ? "" : ",\"readmitted\":" + readmitted) + "}\n");
    }

    private void drain(HttpServerExchange exchange) {
        Found found = backendNamed(exchange);
        Backend backend = found.backend();
        boolean draining = !exchange.getQueryParameters().containsKey("off");
        found.pool().drain(backend, draining);
        proxy.events().record(new PoolEvent(draining ? PoolEvent.Kind.DRAINED : PoolEvent.Kind.UNDRAINED, backend.name(),
                "backend " + backend.name() + (draining ? " draining" : " back in rotation after draining") + untilReload()));
        answer(exchange, 200, "application/json", noted("{" + named(backend) + ",\"draining\":" + draining + "}\n"));
    }

    private void add(HttpServerExchange exchange) {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this::handle); // the backend's host name is resolved, which may wait on DNS: not on the IO thread
            return;
        }
        // ?backend=, as removing one is asked; ?url= is the older spelling, still understood.
        Map<String, Deque<String>> query = exchange.getQueryParameters();
        String spec = query.containsKey("backend") ? query.get("backend").getFirst() : query.containsKey("url") ? query.get("url").getFirst() : "";
        Backend backend = BackendSpec.parse(spec);
        BackendPool pool = proxy.pools().get(upstreamOf(exchange));
        if (pool.all().stream().anyMatch(existing -> existing.name().equals(backend.name()))) {
            throw new IllegalArgumentException(backend.name() + " is in the pool already");
        }
        pool.add(backend);
        proxy.events().record(new PoolEvent(PoolEvent.Kind.ADDED, backend.name(), "backend " + backend.name() + " added" + untilReload()));
        answer(exchange, 200, "application/json", noted("{\"added\":" + Json.quote(backend.name()) + "}\n"));
    }

    private void reweigh(HttpServerExchange exchange) {
        Found found = backendNamed(exchange);
        Backend backend = found.backend();
        String value = parameter(exchange, "weight");
        int weight = BackendSpec.parseWeight(value, "weight=" + value);
        found.pool().reweigh(backend, weight);
        proxy.events().record(new PoolEvent(PoolEvent.Kind.WEIGHT, backend.name(), "backend " + backend.name() + " weight set to " + weight + untilReload()));
        answer(exchange, 200, "application/json", noted("{" + named(backend) + ",\"weight\":" + weight + "}\n"));
    }

    private void remove(HttpServerExchange exchange) {
        Found found = backendNamed(exchange);
        Backend backend = found.backend();
        BackendPool pool = found.pool();
        if (pool.primaries().size() == 1 && pool.primaries().contains(backend)) {
            throw new IllegalArgumentException("cannot remove the last backend; add another first");
        }
        pool.remove(backend);
        proxy.events().record(new PoolEvent(PoolEvent.Kind.REMOVED, backend.name(), "backend " + backend.name() + " removed" + untilReload()));
        answer(exchange, 200, "application/json", noted("{\"removed\":" + Json.quote(label(backend.name())) + ",\"address\":"
                + Json.quote(backend.name()) + "}\n"));
    }

    /** A backend and the pool it was found in. */
    private record Found(BackendPool pool, Backend backend) {}

    /**
     * The backend {@code ?backend=} names, by its name (the demo's "demo-1") or its address (HOST:PORT), in
     * the upstream {@code ?upstream=} names, or without it in the first upstream that has it.
     */
    private Found backendNamed(HttpServerExchange exchange) {
        String name = parameter(exchange, "backend");
        boolean anyUpstream = !exchange.getQueryParameters().containsKey("upstream");
        Map<String, BackendPool> pools = anyUpstream ? proxy.pools() : Map.of("", proxy.pools().get(upstreamOf(exchange)));
        List<String> known = new ArrayList<>();
        for (BackendPool pool : pools.values()) {
            for (Backend backend : pool.all()) {
                if (backend.name().equals(name) || label(backend.name()).equals(name)) {
                    return new Found(pool, backend);
                }
                known.add(label(backend.name()).equals(backend.name()) ? backend.name() : label(backend.name()) + " (" + backend.name() + ")");
            }
        }
        throw new IllegalArgumentException("no backend " + name + "; the pool has " + String.join(", ", known));
    }

    private static String parameter(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        if (values == null || values.getFirst().isBlank()) {
            throw new IllegalArgumentException("missing ?" + name + "=");
        }
        return values.getFirst().trim().toLowerCase(Locale.ROOT);
    }

    static void answer(HttpServerExchange exchange, int status, String contentType, String body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
        exchange.getResponseSender().send(body);
    }
}
