package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/** Demo backends broken on purpose, the way a class would break them, behind a real load balancer. */
class FaultInjectionTest {
    /** No ejection, so a faulty backend keeps its share and every fault reaches a client. */
    private static final HealthSettings NO_EJECTION = new HealthSettings(
            HealthChecks.OFF, PassiveEjection.OFF, Duration.ZERO, false);

    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void aSlowBackendTimesOutWithoutSlowingTheOthers() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofSeconds(5), 0));
        DemoServer fast = support.demo("fast");
        ProxySettings settings = new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), Duration.ofMillis(400), ProxySettings.Timeouts.DEFAULTS.body()),
                ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, NO_EJECTION);
        ProxyServer proxy = support.proxy(settings, new RoundRobin(), List.of(slow.url(), fast.url()));

        List<Long> fastMillis = new ArrayList<>(), slowMillis = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            long started = System.nanoTime();
            int status = support.get(proxy, "/").statusCode();
            long millis = (System.nanoTime() - started) / 1_000_000;
            (status == 200 ? fastMillis : slowMillis).add(millis);
            assertTrue(status == 200 || status == 504, "status " + status);
        }

        assertEquals(4, fastMillis.size(), "round robin alternates: half to each");
        assertTrue(slowMillis.stream().allMatch(millis -> millis >= 380 && millis < 2_000), "504s at the 400 ms timeout: " + slowMillis);
        // Under 380 ms: never held up by the slow backend's 400 ms timeout (was < 200 ms, which a loaded two-core box comes close to).
        assertTrue(fastMillis.stream().allMatch(millis -> millis < 380), "the fast backend stays fast: " + fastMillis);
    }

    @Test
    void aBackendThatResetsBeforeAnsweringGets502AtOnceThenIsEjected() throws Exception {
        DemoServer resetting = support.demo("resetting", new DemoServer.Faults(Duration.ZERO, Duration.ZERO, 0, DemoServer.Mode.RESET));
        DemoServer good = support.demo("good");
        ProxyServer proxy = support.proxy(resetting.url(), good.url());

        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long started = System.nanoTime();
            HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/order")
                    .POST(HttpRequest.BodyPublishers.ofString("item=" + i)).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue((System.nanoTime() - started) / 1_000_000 < 1_000, "answered at once");
            statuses.add(response.statusCode());
        }

        assertEquals(3, statuses.stream().filter(status -> status == 502).count(), "502 until 3 failures in a row eject it: " + statuses);
        assertTrue(statuses.subList(6, 20).stream().allMatch(status -> status == 200), statuses.toString());
        assertEquals(1, proxy.pool().eligible().size());
    }

    @Test
    void postsWhileABackendIsKilledAndRevivedAreNeverExecutedTwice() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = support.proxy(a.url(), b.url(), c.url());

        int sent = 300;
        int[] ok = {0};
        List<Integer> others = new ArrayList<>();
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < sent; i++) {
                try {
                    long started = System.nanoTime();
                    HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/pay")
                            .POST(HttpRequest.BodyPublishers.ofString("payment " + i)).build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) ok[0]++;
                    else others.add(response.statusCode());
                    assertTrue((System.nanoTime() - started) / 1_000_000 < 2_000, "a failure is answered at once");
                } catch (Exception e) {
                    others.add(-1);
                }
            }
        });
        for (int kill = 0; kill < 3 && !load.isDone(); kill++) {
            Thread.sleep(100);
            b.kill(Duration.ofMillis(200));
            Thread.sleep(250);
        }
        load.get(60, TimeUnit.SECONDS);

        long executed = a.requestCount() + b.requestCount() + c.requestCount();
        assertTrue(executed <= sent, executed + " executions for " + sent + " POSTs: some ran twice");
        long badGateways = others.stream().filter(status -> status == 502).count();
        assertTrue(executed >= ok[0] && executed <= ok[0] + badGateways,
                "every 200 is one execution, and a 502 at most one (it may or may not have reached the backend before it died): "
                        + executed + " executions, " + ok[0] + " OK, " + badGateways + " 502");
        assertTrue(others.stream().allMatch(status -> status == 502 || status == 503), "failures are 502/503: " + others);
    }

    @Test
    void theRetryBudgetStopsRetryStormsWhenEveryBackendIsDown() throws Exception {
        ProxySettings noEjection = new ProxySettings(ProxySettings.Listener.FOR_TESTS, ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, NO_EJECTION);
        ProxyServer proxy = support.proxy(noEjection, new RoundRobin(), List.of("http://127.0.0.1:" + TestSupport.deadPort(),
                "http://127.0.0.1:" + TestSupport.deadPort(), "http://127.0.0.1:" + TestSupport.deadPort()));
        List<CompletedRequest> seen = new CopyOnWriteArrayList<>();
        proxy.addObserver(seen::add);

        for (int i = 0; i < 200; i++) {
            assertEquals(503, support.get(proxy, "/").statusCode());
        }

        TestSupport.await(() -> seen.size() == 200, "every request reported");
        int attempts = seen.stream().mapToInt(CompletedRequest::attempts).sum();
        // Without a budget every request would try all 3: 600 connects. 20% of 200 requests allows 40 retries.
        assertTrue(attempts <= 200 + 40, attempts + " connection attempts for 200 requests");
        assertTrue(attempts >= 200 + 10, "the budget still allows some retries: " + attempts);
    }

    @Test
    void aBackendAtItsInFlightLimitTakesNoMoreAndTheRestAreTurnedAwayFast() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(1500), 0));
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                new ProxySettings.Backends(2, ProxySettings.Backends.DEFAULTS.retryPercent()), HealthSettings.DEFAULTS), new RoundRobin(), List.of(slow.url()));

        List<CompletableFuture<HttpResponse<String>>> first = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            first.add(support.http.sendAsync(TestSupport.request(proxy, "/").build(), HttpResponse.BodyHandlers.ofString()));
        }
        TestSupport.await(() -> slow.requestCount() == 2, "both requests at the backend");
        long started = System.nanoTime();
        HttpResponse<String> third = support.get(proxy, "/");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(503, third.statusCode());
        // Queued, it would wait for the backend's 1.5 s answer (was < 300 ms against a 600 ms answer: too close under load).
        assertTrue(millis < 1_000, "turned away at once, not queued: " + millis + " ms");
        for (CompletableFuture<HttpResponse<String>> response : first) {
            assertEquals(200, response.get(5, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(2, slow.requestCount());
    }

    @Test
    void aBackendThatNeverAcceptsTheConnectionIsSkippedAtTheConnectTimeout() throws Exception {
        DemoServer live = support.demo("live");
        // A listening socket that never accepts, its backlog filled first: the kernel then drops new
        // SYNs, so a connect hangs as it would on a black-holed host.
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket blackHole = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), blackHole.getLocalPort());
            for (int i = 0; i < 3; i++) {
                Socket filler = new Socket();
                fillers.add(filler);
                try {
                    filler.connect(address, 200);
                } catch (SocketTimeoutException full) {
                    break; // the backlog is full: nothing more gets through
                }
            }
            ProxySettings settings = new ProxySettings(new ProxySettings.Listener("127.0.0.1", 0, 1, Duration.ofSeconds(60), Duration.ofSeconds(2)),
                    new ProxySettings.Timeouts(Duration.ofMillis(300), Duration.ofSeconds(10), ProxySettings.Timeouts.DEFAULTS.body()),
                    ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS);
            ProxyServer proxy = support.proxy(settings, new RoundRobin(), List.of("http://127.0.0.1:" + blackHole.getLocalPort(), live.url()));

            long started = System.nanoTime();
            HttpResponse<String> response = support.get(proxy, "/");
            long millis = (System.nanoTime() - started) / 1_000_000;

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("live", TestSupport.json(response).get("backend").getAsString());
            assertTrue(millis >= 250 && millis < 2_000, "moved on at the 300 ms connect timeout, not the 10 s request timeout: " + millis + " ms");
        } finally {
            for (Socket filler : fillers) {
                filler.close();
            }
        }
    }
}
