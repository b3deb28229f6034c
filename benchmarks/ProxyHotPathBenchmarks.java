///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION JMH: our own per-request code on the proxy's hot path, with its allocation per request (-prof gc).
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS org.openjdk.jmh:jmh-core:1.37
//DEPS org.openjdk.jmh:jmh-generator-annprocess:1.37
//DEPS io.undertow:undertow-core:2.4.4.Final
//DEPS org.bouncycastle:bcpkix-jdk18on:1.87
//DEPS org.snakeyaml:snakeyaml-engine:3.2
//SOURCES ../model/*.java ../proxy/*.java ../proxy/*/*.java ../config/*.java ../strategies/Strategies.java
//SOURCES ../text/Json.java ../text/Units.java ../tls/*.java

// In package proxy, not benchmarks: the code measured is package-private there.
package proxy;

import config.RouteConfig;
import config.RouteTable;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import model.Backend;
import model.BackendPool;
import model.HealthMonitor;
import model.Routing;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import proxy.listen.ThreadLocalBufferPool;
import proxy.request.HopByHopHeaders;
import proxy.upstream.BackendConnections;
import proxy.upstream.BackendSettings;
import proxy.upstream.BalancingProxyClient;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * The cost and the allocation of what our code does per proxied request, outside Undertow's parsing and
 * I/O: the gateway's header clean-up (hop-by-hop and client forwarding headers, request and response),
 * the candidate choice ({@code findTarget}: attempts, eligible list, round-robin pick) and the in-flight
 * and latency bookkeeping around one backend round trip; the route lookup among 200 routes; and a buffer taken from and returned to our
 * {@link ThreadLocalBufferPool} beside Undertow's {@code DefaultByteBufferPool}. Each runs on a fresh request's headers, as the
 * proxy sees them (a browser-like GET). Run with {@code -prof gc} to read bytes allocated per request.
 *
 * <pre>./jbang benchmarks/ProxyHotPathBenchmarks.java            # 3 × 1 s per benchmark, with -prof gc
 * ./jbang benchmarks/ProxyHotPathBenchmarks.java --quick    # one short iteration each
 * ./jbang benchmarks/ProxyHotPathBenchmarks.java headerCleanUp   # the benchmarks whose name starts so</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m"})
@State(Scope.Thread)
public class ProxyHotPathBenchmarks {
    private static final HttpString[] CLIENT_FORWARDING = {Headers.X_FORWARDED_FOR, Headers.X_FORWARDED_PROTO,
            Headers.X_FORWARDED_HOST, Headers.X_FORWARDED_PORT, Headers.X_FORWARDED_SERVER, Headers.FORWARDED};

    private BackendPool pool;
    private HealthMonitor health;
    private BackendConnections connections;
    private BalancingProxyClient client;
    private Backend backend;
    private final ByteBufferPool ourBuffers = new ThreadLocalBufferPool(true, 16 * 1024, 64, 256);
    private final ByteBufferPool undertowBuffers = new DefaultByteBufferPool(true, 16 * 1024, -1, 4);

    private RouteTable routes200;

    @Setup(Level.Trial)
    public void setUp() {
        // 200 routes: 100 exact hosts, 50 wildcards, 50 path prefixes on any host.
        List<RouteConfig> routes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            routes.add(route("svc-" + i + ".example.com", "/api"));
        }
        for (int i = 0; i < 50; i++) {
            routes.add(route("*.zone-" + i + ".example.com", "/"));
        }
        for (int i = 0; i < 50; i++) {
            routes.add(route(null, "/p-" + i + "/"));
        }
        routes200 = new RouteTable(routes);
        pool = new BackendPool(List.of(Backend.of("http://127.0.0.1:9001"), Backend.of("http://127.0.0.1:9002")));
        ProxySettings settings = ProxySettings.FOR_TESTS;
        health = new HealthMonitor(pool, settings.health(), message -> { });
        Routing routing = new Routing(pool, settings.health(), settings.backends().maxInFlightPerBackend(), StrategyOptions.defaults().random(),
                "round-robin", Strategies.byName("round-robin").orElseThrow().create(StrategyOptions.defaults()));
        connections = new BackendConnections(BackendSettings.DEFAULTS, org.xnio.Xnio.getInstance(), null);
        pool.addListener(connections);
        client = new BalancingProxyClient(pool, connections, routing, health, settings);
        backend = pool.all().get(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        health.stop();
        connections.closeAll();
    }

    /** The request headers a browser-like client sends, as Undertow's parser hands them over. */
    private static HeaderMap requestHeaders() {
        HeaderMap headers = new HeaderMap();
        headers.put(Headers.HOST, "127.0.0.1:8080");
        headers.put(Headers.USER_AGENT, "Mozilla/5.0");
        headers.put(Headers.ACCEPT, "*/*");
        headers.put(Headers.CONNECTION, "keep-alive");
        return headers;
    }

    /** The floor for the two below: building the headers alone. */
    @Benchmark
    public HeaderMap baselineHeaders() {
        return requestHeaders();
    }

    /** GatewayHandler's clean-up of the request's and the response's headers. */
    @Benchmark
    public HeaderMap headerCleanUp() {
        HeaderMap headers = requestHeaders();
        boolean close = HopByHopHeaders.connectionLists(headers, Headers.CLOSE.toString());
        HopByHopHeaders.stripRequest(headers);
        for (HttpString name : CLIENT_FORWARDING) {
            headers.remove(name);
        }
        HeaderMap response = new HeaderMap();
        response.put(Headers.CONTENT_LENGTH, "2");
        response.put(Headers.CONNECTION, close ? "close" : "keep-alive");
        HopByHopHeaders.stripResponse(response, 200);
        return response;
    }

    /** The floor for the one below: a bare exchange with its headers. */
    @Benchmark
    public HttpServerExchange baselineExchange() {
        HttpServerExchange exchange = new HttpServerExchange(null);
        exchange.getRequestHeaders().putAll(Headers.HOST, List.of("127.0.0.1:8080"));
        return exchange;
    }

    /** Choosing a backend for a new request: the attempts record, the candidates, the strategy's pick. */
    @Benchmark
    public ProxyClient.ProxyTarget candidateChoice() {
        HttpServerExchange exchange = new HttpServerExchange(null);
        exchange.getRequestHeaders().putAll(Headers.HOST, List.of("127.0.0.1:8080"));
        return client.findTarget(exchange);
    }

    private static RouteConfig route(String host, String path) {
        return new RouteConfig("r", host, path, null, null, null, "app", null, RouteConfig.HeaderChanges.NONE, RouteConfig.HeaderChanges.NONE, "bench");
    }

    /** Router's choice among 200 routes for an exact host with a port: one hash probe, then the path; 0 bytes allocated. */
    @Benchmark
    public int routeLookupExactHostOf200() {
        return routes200.match("svc-73.Example.com:8080", "/api/users", "GET", null);
    }

    /** A host two labels under a wildcard: a probe per label tried; 0 bytes allocated. */
    @Benchmark
    public int routeLookupWildcardOf200() {
        return routes200.match("a.b.zone-41.example.com", "/x", "GET", null);
    }

    /** No host route matches: the probes miss, then the 50 path prefixes are found by a probe per prefix of the path; 0 bytes allocated. */
    @Benchmark
    public int routeLookupPathOnlyOf200() {
        return routes200.match("www.other.test", "/p-49/page", "GET", null);
    }

    /** The same for the first path route in the file: as fast as the last one above, the lookup does not try routes in turn. */
    @Benchmark
    public int routeLookupPathOnlyFirstOf200() {
        return routes200.match("www.other.test", "/p-0/page", "GET", null);
    }

    /** The counters around one round trip: request handed to a backend, then finished with its latency. */
    @Benchmark
    public int bookkeeping() {
        backend.requestStarted();
        backend.requestFinished(1_000_000L);
        return backend.inFlight();
    }

    /** A read's buffer taken and given back, from the pool the listener and backend connections share. */
    @Benchmark
    public int bufferTakeAndReturn() {
        PooledByteBuffer buffer = ourBuffers.allocate();
        int room = buffer.getBuffer().remaining();
        buffer.close();
        return room;
    }

    /** The same from Undertow's DefaultByteBufferPool, sized as before: the comparison for the one above. */
    @Benchmark
    public int bufferTakeAndReturnUndertow() {
        PooledByteBuffer buffer = undertowBuffers.allocate();
        int room = buffer.getBuffer().remaining();
        buffer.close();
        return room;
    }

    public static void main(String[] args) throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder().addProfiler("gc");
        List<String> names = List.of(args).stream().filter(arg -> !arg.startsWith("--")).toList();
        for (String name : names.isEmpty() ? List.of("") : names) {
            options.include(ProxyHotPathBenchmarks.class.getName() + "." + name);
        }
        if (List.of(args).contains("--quick")) {
            options.warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(500));
        }
        new Runner(options.build()).run();
    }
}
