package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each command-line flag changes what a running load balancer does: one row per flag, each starting
 * {@code LoadBalancer} as a user would (a child process, stopped by its PID) with the flag set, and
 * checking the effect the README promises from the outside, with real demo backends. Parsing alone is
 * {@code CommandLineTest}'s job; here a flag the front door forgot to pass on fails its row.
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
                new Row("--timeout", FlagsTakeEffectTest::timeout));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flags")
    void takesEffect(Row row) throws Exception {
        row.check().run(this);
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (LoadBalancerProcess process : started) {
            process.close();
        }
        support.close();
    }

    private LoadBalancerProcess start(String... args) throws IOException, InterruptedException {
        LoadBalancerProcess process = LoadBalancerProcess.start(args);
        started.add(process);
        return process;
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
}
