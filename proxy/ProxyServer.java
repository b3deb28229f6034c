package proxy;

import model.PoolEvent;
import proxy.listen.H2cUpgradedRequest;
import proxy.listen.RequestLineTap;
import proxy.listen.PlainHttpOnTlsPort;
import config.GatewayConfig;
import config.RouteConfig;
import config.RouteTable;
import config.UpstreamConfig;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.ConnectorStatistics;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import io.undertow.server.protocol.http2.Http2UpgradeHandler;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import model.Backend;
import model.BackendPool;
import model.HealthMonitor;
import model.Strategy;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Sequence;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;
import tls.BackendTls;
import tls.CertificateProblem;
import proxy.exchange.GatewayHandler;
import proxy.exchange.Router;
import proxy.listen.ClientConnectionCap;
import proxy.listen.LazyReadSuspension;
import proxy.listen.ParseFailureAnswer;
import proxy.listen.ProtocolSettings;
import proxy.listen.ThreadLocalBufferPool;
import proxy.observe.EventLog;
import proxy.observe.TrafficObserver;
import proxy.request.ForwardedHeaders;
import proxy.upstream.BackendConnections;
import proxy.upstream.BackendSettings;
import proxy.upstream.Upstream;
import tls.ServerTls;

/**
 * The running load balancer: a listening socket whose requests go through graceful-shutdown →
 * {@link GatewayHandler} → {@link Router} → the chosen {@link Upstream}'s Undertow {@link ProxyHandler} →
 * {@link BalancingProxyClient}; {@link #reload} swaps the routes and upstreams whole.
 * Every proxied request stays on the IO thread that accepted it, from picking a backend to streaming the
 * answer back. We open the listening channel ourselves rather than through {@code Undertow.builder()}
 * because Undertow's own way to stop accepting ({@code ListenerInfo.suspend()}) also closes every open
 * connection, in-flight requests included, and a drain must not. Thread-safe; {@link #stop()} once.
 */
public final class ProxyServer {
    /**
     * What the proxy does at its edges besides routing, fixed before it accepts a connection.
     *
     * @param explain   add an X-LB-Explain header to every response
     * @param forwarded which peers' forwarding headers to keep, and whether to add RFC 7239 Forwarded
     * @param observers told about every completed request (the access log)
     * @param protocols TLS and HTTP/2 toward clients, and how https:// backends are trusted
     */
    public record Setup(boolean explain, ForwardedHeaders forwarded, List<TrafficObserver> observers, ProtocolSettings protocols) {
        public static final Setup NONE = new Setup(false, ForwardedHeaders.REPLACE_ALL, List.of(), ProtocolSettings.NONE);

        public Setup {
            observers = List.copyOf(observers);
        }

        /** Plain HTTP/1.1 to clients, https:// backends checked against the JDK's trust store. */
        public Setup(boolean explain, ForwardedHeaders forwarded, List<TrafficObserver> observers) {
            this(explain, forwarded, observers, ProtocolSettings.NONE);
        }
    }

    private final ProxySettings settings;
    private final Xnio xnio;
    private final BackendTls flagsTrust;   // --backend-ca / --backend-insecure; null: the JDK's trust store
    /** Connections to backends, one set per way of trusting https:// ones: the flags', and each upstream's own. */
    private final Map<UpstreamConfig.BackendTrust, Trusted> trusted = new ConcurrentHashMap<>();
    private final Router router;
    private volatile boolean explain;
    private final EventLog events = new EventLog();
    private final GatewayHandler gateway;
    private final GracefulShutdownHandler shutdown;
    private final XnioWorker worker;
    private final AcceptingChannel<StreamConnection> listener;
    private final HttpOpenListener http;
    private final ChannelListener<StreamConnection> open; // Undertow's: HTTP/1.1, or ALPN choosing it or HTTP/2
    private final LongAdder connectionsAccepted = new LongAdder();
    private final ServerTls tls;           // null: plain HTTP
    private final UndertowXnioSsl ssl;     // wraps each accepted connection when tls is set
    private final OptionMap sslOptions;
    private final boolean h2c;             // cleartext HTTP/2 by prior knowledge on the plain listener
    private final ClientConnectionCap cap;

    /** With {@code givenPool} and {@code givenStrategy} (both or neither), the one upstream runs over them instead of new ones. */
    private ProxyServer(ProxySettings settings, GatewayConfig config, BackendPool givenPool, String givenStrategyName, Strategy givenStrategy,
                        Setup options) throws IOException {
        this.settings = settings;
        this.explain = options.explain();
        ProtocolSettings protocols = options.protocols();
        this.tls = protocols.clientTls();
        this.h2c = protocols.h2c() && tls == null;
        Xnio xnio = Xnio.getInstance(ProxyServer.class.getClassLoader());
        this.xnio = xnio;
        this.flagsTrust = protocols.backendTls();
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        for (UpstreamConfig upstream : config.upstreams()) {
            BackendPool pool = givenPool != null ? givenPool : poolOf(upstream);
            pool.addListener(trusted(upstream).connections());
            Strategy strategy = givenStrategy != null ? givenStrategy : upstream.picking().create();
            String strategyName = givenStrategy != null ? givenStrategyName : upstream.picking().strategy();
            upstreams.put(upstream.name(), upstream(upstream, pool, strategyName, strategy, null));
        }
        this.router = new Router(table(config, upstreams));
        this.gateway = new GatewayHandler(router, settings.limits().maxBodyBytes(), settings.limits().maxHeaderBytes(),
                settings.timeouts().response().toMillis(), settings.timeouts().body().toMillis());
        // Before the listener accepts: the first request is logged and its forwarding headers judged like every other.
        options.observers().forEach(gateway::addObserver);
        gateway.setForwardedHeaders(options.forwarded());
        this.shutdown = new GracefulShutdownHandler(gateway);

        int idleMillis = (int) settings.listener().idleTimeout().toMillis();
        OptionMap httpOptions = OptionMap.builder()
                .set(UndertowOptions.MAX_HEADER_SIZE, settings.limits().maxHeaderBytes())
                .set(UndertowOptions.MAX_ENTITY_SIZE, settings.limits().maxBodyBytes())
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, idleMillis)
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis)
                .set(UndertowOptions.IDLE_TIMEOUT, idleMillis)
                .set(UndertowOptions.ALWAYS_SET_DATE, true) // ParseFailureAnswer relies on it: no real response equals Undertow's bare 400
                .set(UndertowOptions.ENABLE_STATISTICS, true) // client bytes and open connections, for /metrics
                // HTTP/2: prior knowledge on a plain listener only with --h2c; streams per connection as nginx's
                // http2_max_concurrent_streams (Undertow's default is unlimited); the header list as --max-header-size.
                .set(UndertowOptions.ENABLE_HTTP2, h2c)
                .set(UndertowOptions.HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 128)
                .set(UndertowOptions.HTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.limits().maxHeaderBytes())
                .set(UndertowOptions.HTTP2_SETTINGS_ENABLE_PUSH, false)
                .getMap();
        // Shared by the client connections and, through them, the backend connections Undertow's
        // ProxyConnectionPool opens (it takes the client connection's pool). At most 64 free 16 KiB
        // buffers per thread plus 256 shared: about 6 MiB of direct memory kept warm with two IO threads.
        ByteBufferPool buffers = new ThreadLocalBufferPool(true, 16 * 1024, 64, 256);
        HttpOpenListener http = new HttpOpenListener(buffers, httpOptions);
        this.cap = new ClientConnectionCap(settings.limits().maxClientConnections(), settings.listener().tunnelIdleTimeout().toMillis());
        HttpHandler root = cap.around(shutdown);
        // With --h2c, "Upgrade: h2c" switches the connection to HTTP/2 (RFC 7540 §3.2) as prior knowledge does; the
        // upgrading request is then served as stream 1 through our handlers. Outside them, so the 101 itself is
        // no tunnel. Without it, HopByHopHeaders drops the Upgrade and the request is served as HTTP/1.1.
        http.setRootHandler(h2c ? new Http2UpgradeHandler(new H2cUpgradedRequest(root)) : root);
        this.http = http;
        if (protocols.clientTls() != null) {
            // ALPN names http/1.1, the fallback for clients that offer nothing, and before it h2 unless --no-http2, so a
            // client offering both learns which it got; both end in the same handlers.
            AlpnOpenListener alpn = new AlpnOpenListener(buffers, httpOptions, "http/1.1", http);
            if (protocols.http2()) {
                Http2OpenListener http2 = new Http2OpenListener(buffers, httpOptions, Http2OpenListener.HTTP2);
                http2.setRootHandler(root);
                alpn.addProtocol(Http2OpenListener.HTTP2, http2, 10);
            }
            this.open = alpn;
        } else {
            this.open = http;
        }

        this.worker = xnio.createWorker(OptionMap.builder()
                .set(Options.WORKER_IO_THREADS, settings.listener().ioThreads())
                .set(Options.WORKER_TASK_CORE_THREADS, 2) // proxying never leaves the IO threads
                .set(Options.WORKER_TASK_MAX_THREADS, 2)
                .set(Options.TCP_NODELAY, true)
                .getMap());
        try {
            this.listener = worker.createStreamConnectionServer(
                    new InetSocketAddress(settings.listener().bindAddress(), settings.listener().port()),
                    ChannelListeners.openListenerAdapter(this::accepted),
                    OptionMap.builder().set(Options.BACKLOG, 1024).set(Options.REUSE_ADDRESSES, true).set(Options.TCP_NODELAY, true)
                            // Every connection costs heap (about 2 KiB idle), and the heap is small. XNIO splits
                            // its water marks over the IO threads and stops accepting at them: one slot past the
                            // cap per thread lets a newcomer in, for ClientConnectionCap to close an idle one.
                            .set(Options.CONNECTION_HIGH_WATER, settings.limits().maxClientConnections() + settings.listener().ioThreads())
                            .set(Options.CONNECTION_LOW_WATER, settings.limits().maxClientConnections() + settings.listener().ioThreads())
                            .getMap());
        } catch (IOException e) {
            worker.shutdownNow();
            throw e;
        }
        this.ssl = tls == null ? null : new UndertowXnioSsl(worker.getXnio(), OptionMap.EMPTY, tls.context());
        this.sslOptions = tls == null ? OptionMap.EMPTY : OptionMap.builder()
                .set(Options.SSL_ENABLED_PROTOCOLS, Sequence.of(ServerTls.PROTOCOLS))
                .set(Options.SSL_ENABLED_CIPHER_SUITES, Sequence.of(tls.cipherSuites()))
                .getMap();
        listener.resumeAccepts();
        upstreams.values().forEach(upstream -> upstream.health.start());
    }

    private Upstream upstream(UpstreamConfig upstream, BackendPool pool, String strategyName, Strategy strategy, HealthMonitor health) {
        ProxySettings upstreamSettings = Upstream.settingsFor(settings, upstream);
        Trusted trust = trusted(upstream);
        return new Upstream(upstream.name(), pool, strategyName, strategy, upstream.picking().slowStartRandom(), upstreamSettings, events, explain, trust.connections(),
                health != null ? health : new HealthMonitor(pool, upstreamSettings.health(), events::record, trust.context()));
    }

    /**
     * How an upstream's https:// backends are trusted, and the connections made that way.
     *
     * @param tls null: the JDK's trust store, host names checked
     */
    private record Trusted(BackendTls tls, BackendConnections connections) {
        SSLContext context() {
            return tls == null ? null : tls.context();
        }
    }

    /** @throws IllegalArgumentException naming the upstream and its backend-ca file, when that cannot serve as trust */
    private Trusted trusted(UpstreamConfig upstream) {
        UpstreamConfig.BackendTrust trust = upstream.backendTrust();
        Trusted known = trusted.get(trust);
        if (known != null) {
            return known;
        }
        BackendTls tls;
        if (trust.equals(UpstreamConfig.BackendTrust.FROM_FLAGS)) {
            tls = flagsTrust;
        } else if (Boolean.TRUE.equals(trust.insecure())) {
            tls = BackendTls.insecure();
            events.record(PoolEvent.of(PoolEvent.Kind.OTHER, "upstream " + upstream.name() + ": backend-insecure: its https:// backends' certificates are not checked"));
        } else if (trust.ca() != null) {
            try {
                tls = BackendTls.verifying(trust.ca());
            } catch (CertificateProblem e) {
                throw new IllegalArgumentException("upstream " + upstream.name() + ": backend-ca " + e.getMessage(), e);
            }
        } else { // backend-insecure: false under a global --backend-insecure: verify after all
            tls = flagsTrust != null && !flagsTrust.isInsecure() ? flagsTrust : null;
        }
        return trusted.computeIfAbsent(trust, key -> new Trusted(tls, new BackendConnections(BackendSettings.DEFAULTS, xnio, tls)));
    }

    private static BackendPool poolOf(UpstreamConfig upstream) {
        return new BackendPool(upstream.backends().stream().map(address -> new Backend(address.uri(), address.weight())).toList(),
                upstream.backups().stream().map(address -> new Backend(address.uri(), address.weight())).toList());
    }

    private static Router.Table table(GatewayConfig config, Map<String, Upstream> upstreams) {
        Router.Chosen[] chosen = new Router.Chosen[config.routes().size()];
        for (int i = 0; i < chosen.length; i++) {
            RouteConfig route = config.routes().get(i);
            chosen[i] = Router.Chosen.of(route, upstreams.get(route.upstream()));
        }
        return new Router.Table(config, new RouteTable(config.routes()), chosen, Map.copyOf(upstreams), List.copyOf(upstreams.keySet()));
    }

    /**
     * Starts listening and returns once connections are accepted.
     *
     * @throws IllegalStateException naming the address when it cannot listen (in use, not local), and the fix
     */
    public static ProxyServer start(ProxySettings settings, BackendPool pool, String strategyName, Strategy strategy) {
        return start(settings, pool, strategyName, strategy, ProtocolSettings.NONE);
    }

    /** As {@link #start(ProxySettings, BackendPool, String, Strategy)}, with TLS toward clients, backends, or both. */
    public static ProxyServer start(ProxySettings settings, BackendPool pool, String strategyName, Strategy strategy, ProtocolSettings protocols) {
        UpstreamConfig upstream = new UpstreamConfig(GatewayConfig.DEFAULT_UPSTREAM, addresses(pool.primaries()),
                addresses(pool.all().subList(pool.primaries().size(), pool.all().size())),
                new UpstreamConfig.Picking(strategyName, null, 1.25, null), settings.health(), settings.backends().maxInFlightPerBackend(),
                settings.backends().retryPercent());
        return start(settings, GatewayConfig.single(upstream), pool, strategyName, strategy,
                new Setup(false, ForwardedHeaders.REPLACE_ALL, List.of(), protocols));
    }

    /**
     * Starts listening with every upstream and route of {@code config}, and {@code options} in place
     * before the first connection is accepted.
     *
     * @throws IllegalStateException naming the address when it cannot listen (in use, not local), and the fix
     */
    public static ProxyServer start(ProxySettings settings, GatewayConfig config, Setup options) {
        return start(settings, config, null, null, null, options);
    }

    private static List<UpstreamConfig.Address> addresses(List<Backend> backends) {
        return backends.stream().map(backend -> new UpstreamConfig.Address(backend.uri(), backend.weight())).toList();
    }

    private static ProxyServer start(ProxySettings settings, GatewayConfig config, BackendPool pool, String strategyName, Strategy strategy,
                                     Setup options) {
        try {
            return new ProxyServer(settings, config, pool, strategyName, strategy, options);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + settings.listener().bindAddress() + ":" + settings.listener().port() + ": "
                    + e.getMessage() + listenFix(e, "--port", "--bind"), e);
        }
    }

    /**
     * What to do about a failed bind, in the command line's words: the proxy's listener and the admin
     * API's each name their own flags. Empty when the failure is not a bind's.
     */
    public static String listenFix(Throwable failure, String portFlag, String bindFlag) {
        if (!(failure instanceof BindException)) {
            return "";
        }
        return String.valueOf(failure.getMessage()).contains("in use")
                ? " (another program listens there: stop it, or choose another port with " + portFlag + ")"
                : " (" + bindFlag + " takes an address of this machine, such as 127.0.0.1 or 0.0.0.0)";
    }

    /**
     * Counts the client connection, then hands it to Undertow's HTTP/1.1 listener with
     * {@link LazyReadSuspension} under its source, {@link ClientConnectionCap}'s watches above it (which feed the
     * connection's {@link RequestLineTap}), and {@link ParseFailureAnswer} under its sink. A TLS connection gets {@link PlainHttpOnTlsPort} on its raw bytes,
     * then is wrapped, the way Undertow's own HTTPS
     * listener wraps it (server mode, our protocols and suites; the handshake runs as the first bytes arrive), and
     * the cap and {@link ParseFailureAnswer} sit above the encryption, where they see plain bytes and the connection
     * Undertow's exchanges name. It goes without {@link LazyReadSuspension}: Undertow's SSL conduit suspends and
     * resumes the socket's reads itself, for handshakes and renegotiation, and must see them done. An HTTP/2
     * connection is closed to make room only while no stream is open on it.
     */
    private void accepted(StreamConnection connection) {
        connectionsAccepted.increment();
        StreamConnection served = connection;
        if (ssl == null) {
            if (!h2c) { // an HTTP/2 connection reads continuously: frames of every stream arrive on it
                LazyReadSuspension.install(connection);
            }
        } else {
            PlainHttpOnTlsPort.install(connection); // under the encryption: it reads the raw first byte
            served = ssl.wrapExistingConnection(connection, sslOptions, false);
        }
        RequestLineTap requestLine = cap.accepted(served);
        ParseFailureAnswer.install(served, requestLine, gateway::answeredWithoutExchange);
        open.handleEvent(served);
        cap.opened(served);
    }

    /** The listener's TLS (its certificates can be replaced while serving), or null when it speaks plain HTTP. */
    public ServerTls tls() {
        return tls;
    }

    /**
     * Client connections the proxy tracks as open now: the connection cap's count, and the connections whose slot
     * (request-line tap, byte counts) it still keeps, which must both fall back to 0 as connections close,
     * whatever the protocol (they leak otherwise).
     */
    public List<Integer> connectionsTracked() {
        return List.of(cap.open(), cap.kept());
    }

    /** Client connections accepted since start. */
    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    /** Undertow's counts for the client side: bytes received and sent, connections open now. */
    public ConnectorStatistics clientStatistics() {
        return http.getConnectorStatistics();
    }

    /** The port it listens on: the chosen one when started with port 0. */
    public int port() {
        return listener.getLocalAddress(InetSocketAddress.class).getPort();
    }

    /** The first upstream's pool: the only one when the command line alone configures the proxy. */
    public BackendPool pool() {
        return first().pool;
    }

    /** Every upstream's pool by name, in the configuration's order. */
    public Map<String, BackendPool> pools() {
        Router.Table table = router.table();
        Map<String, BackendPool> pools = new LinkedHashMap<>();
        table.order().forEach(name -> pools.put(name, table.upstreams().get(name).pool));
        return pools;
    }

    /** The configuration serving new requests now. */
    public GatewayConfig config() {
        return router.table().config();
    }

    private Upstream first() {
        Router.Table table = router.table();
        return table.upstreams().get(table.order().get(0));
    }

    /** Backends going down, up, ejected, drained; strategy changes: printed, and the recent ones kept. */
    public EventLog events() {
        return events;
    }

    /** From the next request on, {@code strategy} picks; {@code name} (its command-line name) is what X-LB-Explain calls it. */
    public void setStrategy(String name, Strategy strategy) {
        first().routing.setStrategy(name, strategy);
    }

    /** As {@link #setStrategy(String, Strategy)}, for the upstream named {@code upstream}; false when there is none. */
    public boolean setStrategy(String upstream, String name, Strategy strategy) {
        Upstream found = router.table().upstreams().get(upstream);
        if (found == null) {
            return false;
        }
        found.routing.setStrategy(name, strategy);
        return true;
    }

    /** Ends {@code backend}'s ejection now in every upstream it serves, because {@code why} fixed its cause; false when it was not ejected. */
    public boolean readmitNow(Backend backend, String why) {
        boolean readmitted = false;
        for (Upstream upstream : router.table().upstreams().values()) {
            if (upstream.pool.all().contains(backend)) {
                readmitted |= upstream.health.readmitNow(backend, why);
            }
        }
        return readmitted;
    }

    /** Adds an {@code X-LB-Explain} header to every response, saying which strategy picked which backend, of which. */
    public void setExplain(boolean explain) {
        this.explain = explain;
        router.table().upstreams().values().forEach(upstream -> upstream.client.setExplain(explain));
    }

    /**
     * Serves {@code next} from the next request on, applied as a difference: an upstream kept by name
     * keeps its pool, and each backend kept by address keeps its health, ejection, in-flight count,
     * latency and pooled connections; its strategy, health monitor and retry budget are rebuilt only
     * when their settings changed. A removed backend takes no new request and finishes those it has;
     * a request already routed finishes on the old configuration. Returns what changed, one line each.
     */
    public synchronized List<String> reload(GatewayConfig next) {
        next.upstreams().forEach(this::trusted); // a CA file that cannot serve refuses the reload before anything changes
        Router.Table before = router.table();
        List<String> changes = new ArrayList<>();
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        List<HealthMonitor> retired = new ArrayList<>();
        List<HealthMonitor> started = new ArrayList<>();
        for (UpstreamConfig upstream : next.upstreams()) {
            Upstream was = before.upstreams().get(upstream.name());
            UpstreamConfig wasConfig = before.config().upstream(upstream.name());
            if (was == null || wasConfig == null) {
                BackendPool pool = poolOf(upstream);
                pool.addListener(trusted(upstream).connections());
                Upstream added = upstream(upstream, pool, upstream.picking().strategy(), upstream.picking().create(), null);
                started.add(added.health);
                upstreams.put(upstream.name(), added);
                changes.add("upstream " + upstream.name() + " added with " + upstream.backends().size() + " backends");
                continue;
            }
            reconcile(was.pool, upstream, changes);
            boolean samePicking = wasConfig.picking().equals(upstream.picking());
            boolean sameTrust = wasConfig.backendTrust().equals(upstream.backendTrust());
            boolean sameHealth = wasConfig.health().equals(upstream.health()) && sameTrust; // health checks trust as requests do
            if (samePicking && sameHealth && wasConfig.maxConns() == upstream.maxConns() && wasConfig.retryBudget() == upstream.retryBudget()) {
                upstreams.put(upstream.name(), was);
                continue;
            }
            if (!sameTrust) { // its backends' connections are made again, trusting the new way
                was.pool.removeListener(was.connections);
                was.pool.all().forEach(was.connections::left);
                was.pool.addListener(trusted(upstream).connections());
                changes.add("upstream " + upstream.name() + ": https:// backends trusted anew");
            }
            Strategy strategy = samePicking ? was.strategy : upstream.picking().create();
            Upstream rebuilt = upstream(upstream, was.pool, upstream.picking().strategy(), strategy, sameHealth ? was.health : null);
            if (!sameHealth) {
                retired.add(was.health);
                started.add(rebuilt.health);
            }
            upstreams.put(upstream.name(), rebuilt);
            changes.add("upstream " + upstream.name() + (samePicking ? "" : ": strategy " + upstream.picking().strategy())
                    + (sameHealth ? "" : ": health settings changed") + ": settings applied");
        }
        before.upstreams().forEach((name, was) -> {
            if (!upstreams.containsKey(name)) {
                retired.add(was.health);
                was.pool.removeListener(was.connections);
                was.pool.all().forEach(was.connections::left);
                changes.add("upstream " + name + " removed");
            }
        });
        if (!before.config().routes().equals(next.routes())) {
            changes.add("routes: " + next.routes().size() + " (were " + before.config().routes().size() + ")");
        }
        router.swap(table(next, upstreams));
        started.forEach(HealthMonitor::start);
        retired.forEach(HealthMonitor::retire);
        return changes;
    }

    /** Gives {@code pool} the backends {@code upstream} lists, reusing each live backend whose address stays. */
    private static void reconcile(BackendPool pool, UpstreamConfig upstream, List<String> changes) {
        Map<URI, Backend> live = new HashMap<>();
        pool.all().forEach(backend -> live.putIfAbsent(backend.uri(), backend));
        List<Backend> primaries = members(pool, upstream.backends(), live, upstream.name(), changes);
        List<Backend> backups = members(pool, upstream.backups(), live, upstream.name(), changes);
        live.values().forEach(left -> changes.add("upstream " + upstream.name() + ": backend " + left.name() + " removed"));
        pool.replace(primaries, backups);
    }

    private static List<Backend> members(BackendPool pool, List<UpstreamConfig.Address> addresses, Map<URI, Backend> live, String upstream,
                                         List<String> changes) {
        List<Backend> members = new ArrayList<>();
        for (UpstreamConfig.Address address : addresses) {
            Backend backend = live.remove(address.uri());
            if (backend == null) {
                backend = new Backend(address.uri(), address.weight());
                changes.add("upstream " + upstream + ": backend " + backend.name() + " added");
            } else if (backend.weight() != address.weight()) {
                pool.reweigh(backend, address.weight());
                changes.add("upstream " + upstream + ": backend " + backend.name() + " weight " + address.weight());
            }
            members.add(backend);
        }
        return members;
    }

    /** Which peers' forwarding headers to keep, and whether to add RFC 7239 {@code Forwarded}; by default nobody's, and no. */
    public void setForwardedHeaders(ForwardedHeaders forwarded) {
        gateway.setForwardedHeaders(forwarded);
    }

    /** Whether client header names with an underscore reach the backends; by default not, as nginx's {@code underscores_in_headers off}. */
    public void setAllowUnderscoresInHeaders(boolean allow) {
        gateway.setAllowUnderscoresInHeaders(allow);
    }

    /** From now on, tell {@code observer} about every completed request. */
    public void addObserver(TrafficObserver observer) {
        gateway.addObserver(observer);
    }

    /**
     * Stops accepting connections (new ones are refused), lets requests in flight finish up to the
     * drain timeout while answering 503 to any new request on an already open connection, and tunnels
     * (WebSocket) close in the same time, then closes everything. Returns whether every request and tunnel
     * finished in time.
     */
    public boolean stop() {
        IoUtils.safeClose(listener);
        Collection<Upstream> upstreams = router.table().upstreams().values();
        upstreams.forEach(upstream -> upstream.health.stop());
        shutdown.shutdown();
        long deadline = System.nanoTime() + settings.listener().drainTimeout().toNanos();
        boolean drained;
        try {
            drained = shutdown.awaitShutdown(settings.listener().drainTimeout().toMillis());
            // GracefulShutdownHandler counted a tunnel out at its 101; the cap counts it until it closes.
            while (drained && cap.openTunnels() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    drained = false;
                    break;
                }
                Thread.sleep(Math.min(20, TimeUnit.NANOSECONDS.toMillis(left) + 1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        worker.shutdownNow(); // closes the connections left: idle keep-alives, and requests past the drain timeout
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        upstreams.forEach(upstream -> upstream.pool.removeListener(upstream.connections));
        trusted.values().forEach(trust -> trust.connections().closeAll());
        return drained;
    }
}
