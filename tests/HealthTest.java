package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import model.Backend;
import model.BackendPool;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * Backends that die and come back, with real demo servers that stop listening and listen again on their own ports:
 * passive detection ejects a failing backend and readmits it later; active checks take a dead one
 * down and bring it back; clients see no failure while one of three comes and goes.
 */
class HealthTest {
    /** Checks a path the demo backends answer 400, one bad answer taking a backend down. */
    private static final HealthChecks ALWAYS_FAILING_CHECK = new HealthChecks("/bytes?n=not-a-number", Duration.ofMillis(50), Duration.ofMillis(500), 1, 1);

    private final TestSupport support = new TestSupport();
    private final List<DemoServer> restarted = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        restarted.forEach(DemoServer::stop);
        support.close();
    }

    @Test
    void aBackendThatKeepsFailingIsEjectedAndNoLongerTried() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        ProxyServer proxy = support.proxy("http://127.0.0.1:" + TestSupport.deadPort(), a.url(), b.url());
        List<CompletedRequest> seen = observe(proxy);

        for (int i = 0; i < 30; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode());
        }

        awaitTrue(() -> seen.size() == 30, "30 requests reported");
        assertEquals(2, proxy.pool().eligible().size(), "the dead backend is out of rotation");
        assertTrue(seen.subList(10, 30).stream().allMatch(request -> request.attempts() == 1),
                "once ejected, the dead backend costs no request a retry");
    }

    @Test
    void anEjectedBackendComesBackAfterTheFailTimeout() throws Exception {
        DemoServer a = support.demo("a");
        int port = TestSupport.deadPort();
        HealthSettings quick = new HealthSettings(HealthChecks.OFF, new PassiveEjection(2, Duration.ofMillis(300), 50), Duration.ZERO, false);
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, quick), new RoundRobin(), List.of(a.url(), "http://127.0.0.1:" + port));

        for (int i = 0; i < 6; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode());
        }
        assertEquals(1, proxy.pool().eligible().size(), "ejected after 2 refused connects");

        DemoServer revived = restart("revived", port);
        awaitTrue(() -> proxy.pool().eligible().size() == 2, "readmitted after 300 ms");
        for (int i = 0; i < 4; i++) {
            support.get(proxy, "/");
        }
        assertTrue(revived.requestCount() >= 1, "the revived backend takes traffic again");
    }

    @Test
    void activeChecksTakeADeadBackendDownAndBringItBack() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        HealthSettings checks = new HealthSettings(new HealthChecks("/health", Duration.ofMillis(100), Duration.ofMillis(500), 2, 2), PassiveEjection.OFF, Duration.ZERO, false);
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, checks), new RoundRobin(), List.of(a.url(), b.url()));
        Backend backendB = proxy.pool().primaries().get(1);

        b.stopListening(); // its port stays bound, so nothing else can take it before it comes back
        awaitTrue(() -> !backendB.health().isCheckedUp(), "b DOWN after 2 failed checks");
        for (int i = 0; i < 6; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode(), "no request goes to the backend that is down");
        }

        b.listenAgain();
        awaitTrue(() -> backendB.health().isCheckedUp(), "b UP after 2 good checks");
        assertEquals(2, proxy.pool().eligible().size());
    }

    @Test
    void clientsSeeNoFailureWhileOneOfThreeBackendsDiesAndReturns() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        HealthSettings both = new HealthSettings(new HealthChecks("/health", Duration.ofMillis(100), Duration.ofMillis(500), 2, 2),
                new PassiveEjection(3, Duration.ofMillis(500), 50), Duration.ZERO, false);
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, both), new RoundRobin(), List.of(a.url(), b.url(), c.url()));

        List<Integer> statuses = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 600; i++) {
                try {
                    statuses.add(support.get(proxy, "/load?i=" + i).statusCode());
                } catch (Exception e) {
                    statuses.add(-1);
                }
            }
        });
        for (int cycle = 0; cycle < 3 && !load.isDone(); cycle++) {
            Thread.sleep(150);
            b.stopListening(); // killed while requests flow...
            Thread.sleep(300);
            b.listenAgain(); // ...and back on its port, which it held meanwhile
        }
        load.get(60, TimeUnit.SECONDS);

        assertEquals(600, statuses.size());
        assertTrue(statuses.stream().allMatch(status -> status == 200), "failed: " + statuses.stream().filter(s -> s != 200).toList());
    }

    @Test
    void backupsTakeRequestsOnlyWhenNoPrimaryCan() throws Exception {
        DemoServer primary = support.demo("primary"), backup = support.demo("backup");
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS,
                new BackendPool(List.of(Backend.of(primary.url())), List.of(Backend.of(backup.url()))), "round-robin", new RoundRobin());
        try {
            for (int i = 0; i < 5; i++) {
                assertEquals("primary", TestSupport.json(support.get(proxy, "/")).get("backend").getAsString());
            }
            primary.stop();
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = support.get(proxy, "/");
                assertEquals(200, response.statusCode(), "the request the dead primary refused went to the backup at once");
                assertEquals("backup", TestSupport.json(response).get("backend").getAsString());
            }
            assertEquals(5, backup.requestCount());
        } finally {
            proxy.stop();
        }
    }

    @Test
    void aDrainingBackendFinishesWhatItHasAndTakesNothingNew() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(500), 0)), other = support.demo("other");
        ProxyServer proxy = support.proxy(slow.url(), other.url());
        Backend slowBackend = proxy.pool().primaries().get(0);

        CompletableFuture<HttpResponse<String>> inFlight = support.http.sendAsync(TestSupport.request(proxy, "/").build(),
                HttpResponse.BodyHandlers.ofString());
        awaitTrue(() -> slow.requestCount() == 1, "the first request is on the slow backend");
        assertTrue(proxy.pool().drain(slowBackend, true));
        for (int i = 0; i < 6; i++) {
            assertEquals("other", TestSupport.json(support.get(proxy, "/")).get("backend").getAsString());
        }
        assertEquals(200, inFlight.get(5, TimeUnit.SECONDS).statusCode(), "the request in flight finished");
        assertEquals(1, slow.requestCount());

        proxy.pool().drain(slowBackend, false);
        support.get(proxy, "/");
        support.get(proxy, "/");
        assertEquals(2, slow.requestCount(), "back in rotation once the drain is lifted");
    }

    @Test
    void withEveryBackendDownTheAnswerIs503AtOnceUnlessPanicModeTriesThemAnyway() throws Exception {
        DemoServer a = support.demo("a");
        HealthSettings checks = new HealthSettings(ALWAYS_FAILING_CHECK, PassiveEjection.OFF, Duration.ZERO, false);
        ProxyServer strict = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, checks), new RoundRobin(), List.of(a.url()));
        awaitTrue(() -> strict.pool().eligible().isEmpty(), "a is DOWN: its health path answers 400");
        long started = System.nanoTime();
        assertEquals(503, support.get(strict, "/").statusCode());
        // At once: well under the 30 s request timeout (was < 500 ms, close to what a loaded two-core box takes).
        assertTrue((System.nanoTime() - started) / 1_000_000 < 2_000, "503 at once");

        HealthSettings panicking = new HealthSettings(ALWAYS_FAILING_CHECK, PassiveEjection.OFF, Duration.ZERO, true);
        ProxyServer panic = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                ProxySettings.Backends.DEFAULTS, panicking), new RoundRobin(), List.of(a.url()));
        awaitTrue(() -> panic.pool().eligible().isEmpty(), "a is DOWN for this one too");
        assertEquals(200, support.get(panic, "/").statusCode(), "panic mode sends it to a anyway, which does answer");
    }

    private DemoServer restart(String name, int port) {
        DemoServer server = DemoServer.start(name, port, DemoServer.Faults.NONE);
        restarted.add(server);
        return server;
    }

    private static List<CompletedRequest> observe(ProxyServer proxy) {
        List<CompletedRequest> seen = new CopyOnWriteArrayList<>();
        proxy.addObserver(seen::add);
        return seen;
    }

    /** Polls every 20 ms for up to 5 s. */
    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 250 && !condition.getAsBoolean(); i++) {
            Thread.sleep(20);
        }
        assertTrue(condition.getAsBoolean(), "timed out waiting: " + what);
    }
}
