package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import config.ConfigFile;
import demo.DemoServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import loadbalancer.LoadBalancer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Each command-line flag and each config key changes what a running load balancer does: one row per flag,
 * each starting {@code LoadBalancer} as a user would (a child process, stopped by its PID) with the flag
 * set, and checking the effect the manual promises from the outside, with real backends; each row runs
 * again with its settings written into a {@code --config} file (an upstream's keys inside a named upstream),
 * and the route keys have rows of their own. Which flags and keys need a row comes from picocli's model
 * of LoadBalancer and from {@link ConfigFile}'s key lists, so a new one without a row (or a reason in
 * {@link #NO_ROW}) fails {@link #everyFlagAndKeyHasARowOrSaysWhyNot}. Parsing alone is {@code CommandLineTest}'s job.
 */
class FlagsTakeEffectTest {
    private final TestSupport support = new TestSupport();
    private final List<LoadBalancerProcess> started = new ArrayList<>();

    /** One row of the table: the flag, and the check that it took effect. */
    record Row(String flag, Check check) {
        @Override
        public String toString() {
            return flag;
        }
    }

    /** Starts what it needs through the test, then asserts the flag's effect. */
    @FunctionalInterface
    interface Check {
        void run(FlagsTakeEffectTest test) throws Exception;
    }

    static Stream<Row> flags() {
        return Stream.of(
                new Row("--backend URL,weight=N under the default strategy", FlagsTakeEffectTest::weightUnderTheDefaultStrategy),
                new Row("--strategy unweighted-round-robin", FlagsTakeEffectTest::unweightedRoundRobin),
                new Row("--backup", FlagsTakeEffectTest::backup),
                new Row("--explain", FlagsTakeEffectTest::explain),
                new Row("--retry-budget", FlagsTakeEffectTest::retryBudget),
                new Row("--max-conns", FlagsTakeEffectTest::maxConns),
                new Row("--seed", FlagsTakeEffectTest::seed),
                new Row("--rise/--fall", FlagsTakeEffectTest::riseAndFall),
                new Row("--health-timeout", FlagsTakeEffectTest::healthTimeout),
                new Row("--hash-key client", FlagsTakeEffectTest::hashKeyClient),
                new Row("--hash-key path", test -> test.hashKey("path", i -> at("/p/" + i))),
                new Row("--hash-key header:X-User", test -> test.hashKey("header:X-User", i -> at("/").header("X-User", "user-" + i))),
                new Row("--hash-key cookie:session", test -> test.hashKey("cookie:session", i -> at("/").header("Cookie", "theme=dark; session=s" + i))),
                new Row("--idle-timeout", FlagsTakeEffectTest::idleTimeout),
                new Row("--max-body-size", FlagsTakeEffectTest::maxBodySize),
                new Row("--max-client-conns", FlagsTakeEffectTest::maxClientConns),
                new Row("--tunnel-idle-timeout", FlagsTakeEffectTest::tunnelIdleTimeout),
                new Row("--allow-underscores-in-headers", FlagsTakeEffectTest::allowUnderscoresInHeaders),
                new Row("--timeout", FlagsTakeEffectTest::timeout),
                new Row("--body-timeout (not --timeout's)", FlagsTakeEffectTest::bodyTimeout),
                new Row("--drain-timeout", FlagsTakeEffectTest::drainTimeout),
                new Row("--max-header-size", FlagsTakeEffectTest::maxHeaderSize),
                new Row("--max-response-header-size", FlagsTakeEffectTest::maxResponseHeaderSize),
                new Row("--max-fails/--fail-timeout", FlagsTakeEffectTest::maxFailsAndFailTimeout),
                new Row("--panic", FlagsTakeEffectTest::panic),
                new Row("--health-path/--health-interval", FlagsTakeEffectTest::healthInterval),
                new Row("--access-log", FlagsTakeEffectTest::accessLog),
                new Row("--forwarded", FlagsTakeEffectTest::forwarded),
                new Row("--trust-forwarded", FlagsTakeEffectTest::trustForwarded),
                new Row("--admin-port/--admin-token", FlagsTakeEffectTest::adminPortAndToken),
                new Row("--demo-backends", FlagsTakeEffectTest::demoBackends),
                new Row("--connect-timeout", FlagsTakeEffectTest::connectTimeout),
                new Row("--io-threads", FlagsTakeEffectTest::ioThreads));
    }

    /**
     * Flags with no row here, each with why: what observing it end to end would take, and which test pins it
     * instead. A flag in neither {@link #flags} nor here fails {@link #everyFlagAndKeyHasARowOrSaysWhyNot}.
     */
    static final Map<String, String> NO_ROW = Map.ofEntries(
            Map.entry("--help", "prints the usage and exits; nothing runs (CommandLineTest)"),
            Map.entry("--version", "prints the version and exits; nothing runs (CommandLineTest)"),
            Map.entry("--list-strategies", "prints the strategies and exits; nothing runs (CommandLineTest)"),
            Map.entry("--port", "every row: LoadBalancerProcess starts with --port 0 and talks to the port it says it listens on"),
            Map.entry("--bind", "every row: LoadBalancerProcess starts with --bind 127.0.0.1; any other address would leave loopback"),
            Map.entry("--config", "the file rows here run through it; ConfigFileTest"),
            Map.entry("--check-config", "exits after checking; ConfigFileTest.checkConfigPrintsWhatWouldRunOrEveryProblem"),
            Map.entry("--watch-config", "reloads on a file change; ConfigFileTest.sighupPostReloadAndWatchingTheFileReloadItAndABadFileChangesNothing"),
            Map.entry("--hash-balance-factor", "bounded-load hashing moves a key only when its backend is over C times the mean load: "
                    + "StrategyPicksTest pins the bound with in-flight counts no client can hold steady from outside"),
            Map.entry("--slow-start", "the ramp of a returning backend's share over the duration: HealthRulesTest and ModelTest pin it on the "
                    + "model; from outside it is a statistical trend over seconds"),
            Map.entry("--admin-bind", "a non-loopback address leaves loopback; CommandLineTest: one without --admin-token is refused"),
            Map.entry("--admin-token-file", "AdminSecurityTest starts the process with it and logs in with the file's token"),
            Map.entry("--tls", "TlsListenerTest: https:// with a self-signed certificate, end to end"),
            Map.entry("--tls-cert", "TlsListenerTest: the certificate a client sees, by SNI"),
            Map.entry("--tls-key", "TlsListenerTest: with --tls-cert"),
            Map.entry("--tls-key-password-file", "TlsListenerTest: an encrypted key and a .p12 opened with it"),
            Map.entry("--redirect-http", "TlsListenerTest: a plain request gets 308 to https://"),
            Map.entry("--http2", "TlsListenerTest: --no-http2 offers only http/1.1 in ALPN"),
            Map.entry("--h2c", "Http2EdgeTest and TlsListenerTest: cleartext HTTP/2 with prior knowledge"),
            Map.entry("--backend-ca", "HttpsBackendTest: an https:// backend signed by the given CA"),
            Map.entry("--backend-insecure", "HttpsBackendTest: an https:// backend whose certificate is not checked"));

    /** The route keys, each with a row of its own: the route it adds in front of a catch-all to upstream a, and what proves it. */
    static Stream<Row> routeKeys() {
        return Stream.of(
                new Row("route key host", test -> test.routeKey("host: b.test", "GET /x HTTP/1.1\r\nHost: b.test", "GET /x HTTP/1.1\r\nHost: a.test")),
                new Row("route key path", test -> test.routeKey("path: /b", "GET /b/x HTTP/1.1\r\nHost: lb", "GET /bx HTTP/1.1\r\nHost: lb")),
                new Row("route key method", test -> test.routeKey("method: POST", "POST /x HTTP/1.1\r\nHost: lb", "GET /x HTTP/1.1\r\nHost: lb")),
                new Row("route key header", test -> test.routeKey("header: \"X-Canary: 1\"", "GET /x HTTP/1.1\r\nHost: lb\r\nX-Canary: 1",
                        "GET /x HTTP/1.1\r\nHost: lb\r\nX-Canary: 2")),
                new Row("route key upstream", test -> test.routeKey("path: /", "GET /x HTTP/1.1\r\nHost: lb", null)),
                new Row("route key strip-prefix", FlagsTakeEffectTest::stripPrefix),
                new Row("route key request-headers", FlagsTakeEffectTest::requestHeaders),
                new Row("route key response-headers", FlagsTakeEffectTest::responseHeaders),
                new Row("route key name", FlagsTakeEffectTest::routeName));
    }

    /** Each row again (but those of a flag that is no file key), its settings written into a --config file: an upstream's keys in a named upstream with a catch-all route, the rest as global keys. */
    static Stream<Row> keys() {
        return flags().filter(row -> flagsNamed(row.flag()).noneMatch(flag -> LoadBalancer.NOT_FILE_KEYS.contains(flag.substring(2))))
                .map(row -> new Row("file: " + row.flag(), test -> {
            test.form = flagsNamed(row.flag()).anyMatch(flag -> ConfigFile.UPSTREAM_KEYS.contains(flag.substring(2))) ? Form.UPSTREAM : Form.GLOBAL;
            row.check().run(test);
        }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flags")
    void takesEffect(Row row) throws Exception {
        row.check().run(this);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"keys", "routeKeys"})
    void keyTakesEffect(Row row) throws Exception {
        row.check().run(this);
    }

    @Test
    void everyFlagAndKeyHasARowOrSaysWhyNot() {
        Set<String> covered = flags().flatMap(row -> flagsNamed(row.flag())).collect(Collectors.toSet());
        List<String> options = new CommandLine(new LoadBalancer()).getCommandSpec().options().stream().map(OptionSpec::longestName).toList();
        List<String> missing = options.stream().filter(name -> !covered.contains(name) && !NO_ROW.containsKey(name)).toList();
        assertEquals(List.of(), missing, "flags with no row in FlagsTakeEffectTest.flags() and no reason in NO_ROW: "
                + "add a row that fails when the flag is ignored");
        assertEquals(List.of(), NO_ROW.keySet().stream().filter(name -> !options.contains(name) || covered.contains(name)).sorted().toList(),
                "NO_ROW entries for flags that are gone or have a row now");
        // The global keys are the flags' names (LoadBalancer.fileKeys): each row runs again from a file. An upstream's keys are the
        // same names inside a named upstream: each needs a row run that way, or a reason.
        assertEquals(List.of(), ConfigFile.UPSTREAM_KEYS.stream().map(key -> "--" + key)
                .filter(flag -> !covered.contains(flag) && !NO_ROW.containsKey(flag)).toList(), "upstream keys with no row and no reason");
        Set<String> routeRows = routeKeys().map(row -> row.flag().substring("route key ".length())).collect(Collectors.toSet());
        assertEquals(List.of(), ConfigFile.ROUTE_KEYS.stream().filter(key -> !routeRows.contains(key)).toList(),
                "route keys with no row in FlagsTakeEffectTest.routeKeys()");
    }

    /** The flags a row's name mentions: "--rise/--fall" names two. */
    static Stream<String> flagsNamed(String rowName) {
        return Pattern.compile("--[a-z0-9-]+").matcher(rowName).results().map(MatchResult::group);
    }

    @AfterEach
    void stopEverything() throws InterruptedException, IOException {
        for (LoadBalancerProcess process : started) {
            process.close();
        }
        support.close();
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
    }

    /** How a row's settings reach the load balancer: as flags, or in a --config file. */
    enum Form { FLAGS, GLOBAL, UPSTREAM }

    private Form form = Form.FLAGS;
    private final List<Path> files = new ArrayList<>();

    private LoadBalancerProcess start(String... args) throws IOException, InterruptedException {
        LoadBalancerProcess process = form == Form.FLAGS ? LoadBalancerProcess.start(args)
                : LoadBalancerProcess.start("--config", configFile(yaml(args, form == Form.UPSTREAM)).toString());
        started.add(process);
        return process;
    }

    private Path configFile(String yaml) throws IOException {
        Path file = Files.createTempFile("flags", ".yaml");
        files.add(file);
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    /**
     * {@code args} as a config file: each flag's long name a key, a repeated flag a list, a flag without a
     * value {@code true}; with {@code inUpstream}, an upstream's keys go into upstream "app" with a catch-all route.
     */
    static String yaml(String[] args, boolean inUpstream) {
        CommandSpec spec = new CommandLine(new LoadBalancer()).getCommandSpec();
        Map<String, List<String>> settings = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            OptionSpec option = spec.findOption(args[i]);
            assertTrue(option != null, "not a flag: " + args[i]);
            String value = option.typeInfo().isBoolean() ? "true" : args[++i];
            settings.computeIfAbsent(option.longestName().substring(2), key -> new ArrayList<>()).add(value);
        }
        StringBuilder global = new StringBuilder();
        StringBuilder upstream = new StringBuilder();
        settings.forEach((key, values) -> {
            boolean list = key.equals("backend") || key.equals("backup") || values.size() > 1;
            String value = list ? "[" + String.join(", ", values.stream().map(FlagsTakeEffectTest::scalar).toList()) + "]" : scalar(values.get(0));
            if (inUpstream && ConfigFile.UPSTREAM_KEYS.contains(key)) {
                upstream.append("    ").append(key).append(": ").append(value).append('\n');
            } else {
                global.append(key).append(": ").append(value).append('\n');
            }
        });
        return upstream.isEmpty() ? global.toString()
                : global + "upstreams:\n  app:\n" + upstream + "routes:\n  - path: /\n    upstream: app\n";
    }

    /** A YAML scalar: plain when it is a plain word, else double-quoted. */
    private static String scalar(String value) {
        return value.matches("[A-Za-z0-9._/-]+") ? value : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private HttpResponse<String> send(LoadBalancerProcess lb, HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpRequest built = request.build();
        URI uri = URI.create(lb.url() + built.uri().getRawPath() + (built.uri().getRawQuery() == null ? "" : "?" + built.uri().getRawQuery()));
        HttpRequest.Builder copy = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).method(built.method(),
                built.bodyPublisher().orElse(HttpRequest.BodyPublishers.noBody()));
        built.headers().map().forEach((name, values) -> values.forEach(value -> copy.header(name, value)));
        return support.http.send(copy.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request for {@code path}; {@link #send} aims it at the load balancer. */
    private static HttpRequest.Builder at(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1" + path));
    }

    private HttpResponse<String> get(LoadBalancerProcess lb, String path) throws IOException, InterruptedException {
        return support.http.send(HttpRequest.newBuilder(URI.create(lb.url() + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String backendOf(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        return TestSupport.json(response).get("backend").getAsString();
    }

    /**
     * The README's first own-backends example: weights 1 and 3 with no --strategy split 40 requests
     * 10/30, as nginx's and HAProxy's default round robin would, counted by the client and by the backends.
     */
    private void weightUnderTheDefaultStrategy() throws Exception {
        DemoServer light = support.demo("light"), heavy = support.demo("heavy");
        LoadBalancerProcess lb = start("--backend", light.url(), "--backend", heavy.url() + ",weight=3");
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            served.add(backendOf(get(lb, "/")));
        }
        assertEquals(10, served.stream().filter("light"::equals).count(), "served: " + served);
        assertEquals(30, served.stream().filter("heavy"::equals).count(), "served: " + served);
        assertEquals(10, light.requestCount());
        assertEquals(30, heavy.requestCount());
        // Smooth, not in bursts: the light backend's turns are spread out, never four heavy picks in a row.
        assertFalse(String.join("", served).contains("heavyheavyheavyheavy"), "spread out: " + served);
    }

    /** The textbook round robin, kept under a name that says so, ignores the same weights: 20/20. */
    private void unweightedRoundRobin() throws Exception {
        DemoServer light = support.demo("light"), heavy = support.demo("heavy");
        LoadBalancerProcess lb = start("--backend", light.url(), "--backend", heavy.url() + ",weight=3", "--strategy", "unweighted-round-robin");
        for (int i = 0; i < 40; i++) {
            backendOf(get(lb, "/"));
        }
        assertEquals(20, light.requestCount());
        assertEquals(20, heavy.requestCount());
    }

    private void backup() throws Exception {
        DemoServer primary = support.demo("primary"), backup = support.demo("backup");
        LoadBalancerProcess lb = start("--backend", primary.url(), "--backup", backup.url());
        for (int i = 0; i < 3; i++) {
            assertEquals("primary", backendOf(get(lb, "/")), "the backup takes nothing while the primary can");
        }
        primary.stopListening();
        for (int i = 0; i < 3; i++) {
            assertEquals("backup", backendOf(get(lb, "/")), "with the primary refusing, the backup answers");
        }
    }

    private void explain() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--explain");
        String explained = get(lb, "/").headers().firstValue("X-LB-Explain").orElse("");
        assertTrue(explained.contains("picked 127.0.0.1:" + a.port()) && explained.contains("attempt 1"), "X-LB-Explain: " + explained);
    }

    private void retryBudget() throws Exception {
        DemoServer live = support.demo("live");
        LoadBalancerProcess lb = start("--backend", "http://127.0.0.1:" + TestSupport.deadPort(), "--backend", live.url(), "--retry-budget", "0");
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            statuses.add(get(lb, "/").statusCode());
        }
        // Round robin sends every other request to the dead backend first; with no budget it is not
        // moved on to the live one (the default budget would make all four 200).
        assertEquals(List.of(503, 200, 503, 200), statuses);
    }

    private void maxConns() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(1500), 0));
        LoadBalancerProcess lb = start("--backend", slow.url(), "--max-conns", "1");
        CompletableFuture<HttpResponse<String>> first = support.http.sendAsync(
                HttpRequest.newBuilder(URI.create(lb.url() + "/first")).build(), HttpResponse.BodyHandlers.ofString());
        TestSupport.await(() -> slow.requestCount() == 1, "the first request is at the backend");
        assertEquals(503, get(lb, "/second").statusCode(), "the backend is full: 503 at once rather than a second request in flight");
        assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
        assertEquals(1, slow.requestCount());
    }

    private void seed() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        List<List<String>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            LoadBalancerProcess lb = start("--backend", a.url(), "--backend", b.url(), "--backend", c.url(), "--strategy", "random", "--seed", "42");
            List<String> picks = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                picks.add(backendOf(get(lb, "/")));
            }
            runs.add(picks);
            lb.close();
        }
        assertEquals(runs.get(0), runs.get(1), "the same seed, the same sequence of backends");
        assertTrue(new HashSet<>(runs.get(0)).size() > 1, "and it is random, not one backend: " + runs.get(0));
    }

    private void riseAndFall() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        LoadBalancerProcess lb = start("--backend", a.url(), "--backend", b.url(), "--health-path", "/health", "--health-interval", "50ms",
                "--rise", "3", "--fall", "1");
        b.stopListening();
        lb.awaitLine("127.0.0.1:" + b.port() + " DOWN after 1 failed health check", Duration.ofSeconds(10));
        b.listenAgain();
        lb.awaitLine("127.0.0.1:" + b.port() + " UP after 3 good health checks", Duration.ofSeconds(10));
    }

    private void healthTimeout() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(500), 0)), a = support.demo("a");
        // Any path but /health answers after the demo's delay: 500 ms is within the 1 s default, not within 100 ms.
        LoadBalancerProcess lb = start("--backend", slow.url(), "--backend", a.url(), "--health-path", "/slow-health",
                "--health-interval", "100ms", "--health-timeout", "100ms", "--fall", "1");
        lb.awaitLine("127.0.0.1:" + slow.port() + " DOWN after 1 failed health check", Duration.ofSeconds(10));
        assertTrue(lb.lines().stream().noneMatch(line -> line.contains("127.0.0.1:" + a.port() + " DOWN")), "the fast one stays up");
    }

    /** Over three backends, {@code key} spreads twenty different values and keeps each value on one backend. */
    private void hashKey(String key, IntFunction<HttpRequest.Builder> requestFor) throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        LoadBalancerProcess lb = start("--backend", a.url(), "--backend", b.url(), "--backend", c.url(), "--strategy", "hash", "--hash-key", key);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            String first = backendOf(send(lb, requestFor.apply(i)));
            used.add(first);
            assertEquals(first, backendOf(send(lb, requestFor.apply(i))), "value " + i + " stays on its backend");
        }
        // Hashing the one client address (the default key) would send all twenty to one backend.
        assertTrue(used.size() >= 2, "twenty values of " + key + " all went to " + used);
    }

    private void hashKeyClient() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        LoadBalancerProcess lb = start("--backend", a.url(), "--backend", b.url(), "--backend", c.url(), "--strategy", "hash", "--hash-key", "client");
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            InetAddress client = InetAddress.getByName("127.0.0." + (10 + i));
            String first = backendFrom(client, lb.port(), "/a?" + i);
            used.add(first);
            assertEquals(first, backendFrom(client, lb.port(), "/other/path?" + i), "client " + client + " stays on its backend whatever the path");
        }
        assertTrue(used.size() >= 2, "twenty client addresses all went to " + used);
    }

    /** One GET from the given loopback address, on a raw socket: the JDK client cannot choose its source address. */
    private static String backendFrom(InetAddress client, int port, String path) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(client, 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(10_000);
            TestSupport.write(socket.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb\r\n\r\n");
            String response = TestSupport.readOneResponse(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            return JsonParser.parseString(response.substring(response.indexOf("\r\n\r\n") + 4)).getAsJsonObject().get("backend").getAsString();
        }
    }

    private void idleTimeout() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--idle-timeout", "300ms");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), lb.port())) {
            socket.setSoTimeout(10_000);
            TestSupport.write(socket.getOutputStream(), "GET / HTTP/1.1\r\nHost: lb\r\n\r\n");
            assertTrue(TestSupport.readOneResponse(socket.getInputStream()).startsWith("HTTP/1.1 200"));
            long idleSince = System.nanoTime();
            InputStream in = socket.getInputStream();
            assertEquals(-1, in.read(), "the idle keep-alive connection is closed, not answered");
            long idleMillis = (System.nanoTime() - idleSince) / 1_000_000;
            assertTrue(idleMillis >= 200 && idleMillis < 8_000, "closed after " + idleMillis + " ms idle; --idle-timeout is 300 ms (default: 60 s)");
        }
    }

    private void maxBodySize() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--max-body-size", "1k");
        HttpResponse<String> small = support.http.send(HttpRequest.newBuilder(URI.create(lb.url() + "/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1024])).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, small.statusCode(), "1k is 1,024 bytes (as in nginx's client_max_body_size), so 1,024 fit");
        assertEquals(1024, TestSupport.json(small).get("bodyLength").getAsLong());
        HttpResponse<String> large = support.http.send(HttpRequest.newBuilder(URI.create(lb.url() + "/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1025])).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, large.statusCode(), "1,025 bytes are over --max-body-size 1k");
        assertEquals(1, a.requestCount(), "the refused body never reached the backend");
    }

    private void maxClientConns() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--max-client-conns", "1");
        try (Socket first = new Socket(InetAddress.getLoopbackAddress(), lb.port())) {
            first.setSoTimeout(10_000);
            TestSupport.write(first.getOutputStream(), "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(TestSupport.readOneResponse(first.getInputStream()).startsWith("HTTP/1.1 200 "));
            try (Socket second = new Socket(InetAddress.getLoopbackAddress(), lb.port())) {
                second.setSoTimeout(10_000);
                TestSupport.write(second.getOutputStream(), "GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
                String response = TestSupport.readOneResponse(second.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 200 "), "served: the idle first made room: " + response);
                assertTrue(isClosed(first), "--max-client-conns 1: the idle keep-alive connection was closed for the second");
            }
        }
    }

    /** Whether the peer closed or reset the connection (a reset counts: the proxy may close with bytes unread). */
    private static boolean isClosed(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    private void tunnelIdleTimeout() throws Exception {
        RawBackend backend = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            for (byte[] frame; (frame = connection.getInputStream().readNBytes(4)).length == 4; ) {
                TestSupport.write(connection.getOutputStream(), new String(frame, StandardCharsets.ISO_8859_1));
            }
        });
        LoadBalancerProcess lb = start("--backend", backend.url(), "--tunnel-idle-timeout", "500ms");
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), lb.port())) {
            client.setSoTimeout(10_000);
            TestSupport.write(client.getOutputStream(), "GET /ws HTTP/1.1\r\nHost: lb\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
            assertTrue(TestSupport.readHead(client.getInputStream()).startsWith("HTTP/1.1 101 "));
            TestSupport.write(client.getOutputStream(), "ping");
            assertEquals("ping", new String(client.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1));
            long silentSince = System.nanoTime();
            assertEquals(-1, client.getInputStream().read(), "the silent tunnel is closed");
            long millis = (System.nanoTime() - silentSince) / 1_000_000;
            assertTrue(millis >= 400 && millis < 8_000, "closed after " + millis + " ms silent; --tunnel-idle-timeout is 500ms (default: 10m)");
        }
    }

    private void allowUnderscoresInHeaders() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--allow-underscores-in-headers");
        String response = TestSupport.rawExchange(lb.port(), "GET /u HTTP/1.1\r\nHost: lb\r\nX_Client_Id: 7\r\nConnection: close\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        assertTrue(backend.requestHeads().get(0).contains("\r\nX_Client_Id: 7\r\n"), "passed on with the flag: " + backend.requestHeads().get(0));
    }

    private void timeout() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofSeconds(4), 0));
        LoadBalancerProcess lb = start("--backend", slow.url(), "--timeout", "300ms");
        long started = System.nanoTime();
        HttpResponse<String> response = get(lb, "/");
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(504, response.statusCode());
        assertTrue(millis >= 250 && millis < 3_500, "504 at the 300 ms --timeout, before the backend's 4 s answer: " + millis + " ms");
        assertTrue(response.body().length() > 0 && response.body().length() < 200, "a short plain-text body: " + response.body());
    }
    /**
     * A request body that stops arriving gets 408 at --body-timeout, not at --timeout (set far above it here):
     * taking the body's wait from --timeout would leave the client waiting past the socket's 10 s read.
     */
    private void bodyTimeout() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--body-timeout", "300ms", "--timeout", "30s");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), lb.port())) {
            socket.setSoTimeout(10_000);
            long started = System.nanoTime();
            TestSupport.write(socket.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: lb\r\nContent-Length: 10\r\n\r\nab");
            String response = TestSupport.readOneResponse(socket.getInputStream());
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(response.startsWith("HTTP/1.1 408 "), "the stalled body gets 408: " + response);
            assertTrue(millis >= 250 && millis < 8_000, "408 at the 300 ms --body-timeout, not --timeout's 30 s: " + millis + " ms");
        }
    }

    /** On SIGTERM the proxy waits --drain-timeout for requests in flight, not its 10 s default, before it exits. */
    private void drainTimeout() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofSeconds(8), 0));
        LoadBalancerProcess lb = start("--backend", slow.url(), "--drain-timeout", "300ms");
        CompletableFuture<HttpResponse<String>> held = support.http.sendAsync(
                HttpRequest.newBuilder(URI.create(lb.url() + "/held")).build(), HttpResponse.BodyHandlers.ofString());
        TestSupport.await(() -> slow.requestCount() == 1, "the request is at the backend");
        long stopping = System.nanoTime();
        lb.close();
        long millis = (System.nanoTime() - stopping) / 1_000_000;
        assertTrue(millis < 5_000, "exited " + millis + " ms after SIGTERM: --drain-timeout 300ms gives up on the 8 s request "
                + "(the 10 s default waits for its answer)");
        assertTrue(held.handle((response, failure) -> failure != null || response.statusCode() != 200).get(10, TimeUnit.SECONDS),
                "the held request did not get the backend's late answer");
    }

    private void maxHeaderSize() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--max-header-size", "2k");
        String fits = TestSupport.rawExchange(lb.port(), "GET /small HTTP/1.1\r\nHost: lb\r\nX-Pad: " + "p".repeat(1000) + "\r\nConnection: close\r\n\r\n");
        assertTrue(fits.startsWith("HTTP/1.1 200 "), "1 KiB of headers fit in 2k: " + fits);
        String over = TestSupport.rawExchange(lb.port(), "GET /large HTTP/1.1\r\nHost: lb\r\nX-Pad: " + "p".repeat(3000) + "\r\nConnection: close\r\n\r\n");
        assertTrue(over.startsWith("HTTP/1.1 431 ") || over.startsWith("HTTP/1.1 400 "), "3 KiB of headers are over --max-header-size 2k: " + over);
        assertEquals(1, backend.requestHeads().size(), "only the small request reached the backend");
    }

    private void maxResponseHeaderSize() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nX-Pad: " + "p".repeat(3000) + "\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--max-response-header-size", "2k");
        String response = TestSupport.rawExchange(lb.port(), "GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 502 "), "a 3 KiB response head is over 2k (fits the 64k default): " + response);
        assertTrue(backend.requestHeads().size() >= 1, "the backend was asked");
    }

    /** One failure ejects the refusing backend (the default takes three), for --fail-timeout (the default is 10 s). */
    private void maxFailsAndFailTimeout() throws Exception {
        DemoServer live = support.demo("live");
        int dead = TestSupport.deadPort();
        LoadBalancerProcess lb = start("--backend", "http://127.0.0.1:" + dead, "--backend", live.url(), "--max-fails", "1", "--fail-timeout", "700ms");
        for (int i = 0; i < 2; i++) {
            assertEquals("live", backendOf(get(lb, "/")), "the refused attempt moves on to the live backend");
        }
        lb.awaitLine("backend 127.0.0.1:" + dead + " ejected for 700 ms after 1 failure", Duration.ofSeconds(10));
    }

    /** With the only backend failing its health check, --panic still sends it requests (503 without). */
    private void panic() throws Exception {
        RawBackend backend = support.raw((connection, head) -> TestSupport.write(connection.getOutputStream(), head.startsWith("GET /health ")
                ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--health-path", "/health", "--health-interval", "50ms", "--fall", "1", "--panic");
        lb.awaitLine(" DOWN after 1 failed health check", Duration.ofSeconds(10));
        HttpResponse<String> response = get(lb, "/anyway");
        assertEquals(200, response.statusCode(), "every backend down: --panic tries them anyway: " + response.body());
        assertTrue(backend.requestHeads().stream().anyMatch(head -> head.startsWith("GET /anyway ")));
    }

    /** Health checks at --health-path every --health-interval: six within 3 s at 100 ms (the 2 s default makes two). */
    private void healthInterval() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        start("--backend", backend.url(), "--health-path", "/ready", "--health-interval", "100ms");
        TestSupport.await(() -> backend.requestHeads().stream().filter(head -> head.startsWith("GET /ready ")).count() >= 6,
                Duration.ofSeconds(3), "six checks of /ready within 3 s");
    }

    private void accessLog() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--access-log", "combined");
        assertEquals(200, get(lb, "/logged?x=1").statusCode());
        lb.awaitLine("\"GET /logged?x=1 HTTP/1.1\" 200 ", Duration.ofSeconds(10));
    }

    private void forwarded() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--forwarded");
        assertTrue(TestSupport.rawExchange(lb.port(), "GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200 "));
        assertTrue(backend.requestHeads().get(0).contains("\r\nForwarded: for="), "an RFC 7239 header: " + backend.requestHeads().get(0));
    }

    /** A trusted proxy's X-Forwarded-For is appended to; from anyone else (the default) it is replaced. */
    private void trustForwarded() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--trust-forwarded", "127.0.0.1/32");
        assertTrue(TestSupport.rawExchange(lb.port(), "GET / HTTP/1.1\r\nHost: lb\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n")
                .startsWith("HTTP/1.1 200 "));
        assertTrue(backend.requestHeads().get(0).contains("\r\nX-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n"), backend.requestHeads().get(0));
    }

    /** The admin API on --admin-port answers /stats, and only with the --admin-token (on loopback it needs none by default). */
    private void adminPortAndToken() throws Exception {
        DemoServer a = support.demo("a");
        LoadBalancerProcess lb = start("--backend", a.url(), "--admin-port", "0", "--admin-token", "correct-horse-battery-staple");
        lb.awaitLine("Admin:", Duration.ofSeconds(10));
        Matcher admin = Pattern.compile("Admin: +(http://[^/]+)/").matcher(String.join("\n", lb.lines()));
        assertTrue(admin.find(), String.join("\n", lb.lines()));
        URI stats = URI.create(admin.group(1) + "/stats");
        assertEquals(401, support.http.send(HttpRequest.newBuilder(stats).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> allowed = support.http.send(HttpRequest.newBuilder(stats).header("Authorization", "Bearer correct-horse-battery-staple").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, allowed.statusCode(), allowed.body());
        assertTrue(allowed.body().contains("127.0.0.1:" + a.port()), "the stats name the backend: " + allowed.body());
    }

    /**
     * A backend whose connect never completes: a listening socket with a backlog of one that never accepts,
     * its queue filled by two connections, so Linux drops the proxy's SYN. --connect-timeout 300ms gives up
     * at once (the 5 s default would keep the client waiting past 3 s).
     */
    private void connectTimeout() throws Exception {
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket first = new Socket(InetAddress.getLoopbackAddress(), full.getLocalPort());
             Socket second = new Socket(InetAddress.getLoopbackAddress(), full.getLocalPort())) {
            try (Socket probe = new Socket()) {
                assertThrows(SocketTimeoutException.class, () -> probe.connect(full.getLocalSocketAddress(), 300), "the queue is full: a connect hangs");
            }
            LoadBalancerProcess lb = start("--backend", "http://127.0.0.1:" + full.getLocalPort(), "--connect-timeout", "300ms");
            long started = System.nanoTime();
            HttpResponse<String> response = get(lb, "/");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(response.statusCode() == 502 || response.statusCode() == 503 || response.statusCode() == 504, response.statusCode() + " " + response.body());
            assertTrue(millis < 3_000, "answered " + millis + " ms after the 300 ms --connect-timeout (the default is 5 s)");
        }
    }

    /**
     * Backend connections are pooled per IO thread: with --io-threads 1, twelve client connections one after
     * another all reuse one backend connection. With one thread per core (the default) they land on several
     * threads and open several, so on a machine with two or more cores an ignored flag fails the row.
     */
    private void ioThreads() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        LoadBalancerProcess lb = start("--backend", backend.url(), "--io-threads", "1");
        for (int i = 0; i < 12; i++) {
            String response = TestSupport.rawExchange(lb.port(), "GET /" + i + " HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n");
            assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        }
        assertEquals(12, backend.requestConnections().size());
        assertEquals(1, new HashSet<>(backend.requestConnections()).size(), "one IO thread, one pooled backend connection: " + backend.requestConnections());
    }

    /** Without --backend, --demo-backends N starts N demo backends and balances over them (the default is three). */
    private void demoBackends() throws Exception {
        LoadBalancerProcess lb = start("--demo-backends", "2");
        Set<String> served = new HashSet<>();
        for (int i = 0; i < 9; i++) {
            served.add(backendOf(get(lb, "/")));
        }
        assertEquals(2, served.size(), "served by " + served);
    }

    /**
     * Starts a load balancer from a file with upstreams a and b (raw backends) whose routes are {@code route}
     * to b in front of a catch-all to a; {@code toB} must reach b, and {@code toA} (when given) a.
     */
    private void routeKey(String route, String toB, String toA) throws Exception {
        RawBackend a = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
        RawBackend b = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
        LoadBalancerProcess lb = startRouted(a, b, route, "");
        assertEquals("b", body(TestSupport.rawExchange(lb.port(), toB + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")), toB);
        assertEquals(1, b.requestHeads().size());
        if (toA != null) {
            assertEquals("a", body(TestSupport.rawExchange(lb.port(), toA + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")), toA);
            assertEquals(1, a.requestHeads().size());
        }
    }

    private LoadBalancerProcess startRouted(RawBackend a, RawBackend b, String route, String globals) throws Exception {
        Path file = configFile(globals + """
                upstreams:
                  a: { backend: ["%s"] }
                  b: { backend: ["%s"] }
                routes:
                  - %s
                    upstream: b
                  - path: /
                    upstream: a
                """.formatted(a.url(), b.url(), route.replace("\n", "\n    ")));
        LoadBalancerProcess lb = LoadBalancerProcess.start("--config", file.toString());
        started.add(lb);
        return lb;
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private void stripPrefix() throws Exception {
        RawBackend a = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
        RawBackend b = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
        LoadBalancerProcess lb = startRouted(a, b, "path: /v1\nstrip-prefix: /v1", "");
        assertEquals("b", body(TestSupport.rawExchange(lb.port(), "GET /v1/items?q=1 HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n")));
        assertTrue(b.requestHeads().get(0).startsWith("GET /items?q=1 HTTP/1.1\r\n"), b.requestHeads().get(0));
    }

    private void requestHeaders() throws Exception {
        RawBackend a = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
        RawBackend b = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
        LoadBalancerProcess lb = startRouted(a, b, "path: /\nrequest-headers: { set: { X-Route: v1 }, remove: [Cookie] }", "");
        assertEquals("b", body(TestSupport.rawExchange(lb.port(), "GET / HTTP/1.1\r\nHost: lb\r\nCookie: s=1\r\nX-Route: forged\r\nConnection: close\r\n\r\n")));
        String head = b.requestHeads().get(0);
        assertTrue(head.contains("\r\nX-Route: v1\r\n") && !head.contains("forged") && !head.contains("Cookie"), head);
    }

    private void responseHeaders() throws Exception {
        RawBackend a = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
        RawBackend b = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nX-Secret: s\r\nContent-Length: 1\r\n\r\nb"));
        LoadBalancerProcess lb = startRouted(a, b, "path: /\nresponse-headers: { set: { Cache-Control: no-store }, remove: [X-Secret] }", "");
        String response = TestSupport.rawExchange(lb.port(), "GET / HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n");
        String head = response.substring(0, response.indexOf("\r\n\r\n") + 2);
        assertTrue(head.contains("\r\nCache-Control: no-store\r\n") && !head.contains("max-age") && !head.contains("X-Secret"), head);
    }

    private void routeName() throws Exception {
        RawBackend a = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
        RawBackend b = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
        LoadBalancerProcess lb = startRouted(a, b, "name: checkout\npath: /pay", "access-log: combined\n");
        assertEquals("b", body(TestSupport.rawExchange(lb.port(), "GET /pay HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n")));
        lb.awaitLine("route=checkout upstream=b", Duration.ofSeconds(10));
    }
}
