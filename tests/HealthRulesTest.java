package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import model.HealthChecks;
import model.PassiveEjection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import model.Backend;
import proxy.observe.CompletedRequest;
import proxy.observe.EventLog;
import model.HealthSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * The README's health rules on a running proxy with real backends: never more than half the pool
 * ejected, an ejection that repeats lasts longer, a backend's 502/503/504 counts as a failure (its 500
 * does not), a 3xx health answer is good, and slow start ramps a returning backend's share of proxied
 * requests (health checks not counted) up to its full share.
 */
class HealthRulesTest {
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    private static HealthSettings passive(int maxFails, Duration failTimeout) {
        return new HealthSettings(new HealthChecks(null, Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 2),
                new PassiveEjection(maxFails, failTimeout, 50), Duration.ZERO, false);
    }

    private ProxyServer proxy(HealthSettings health, String... backends) {
        return support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, health), new RoundRobin(), List.of(backends));
    }

    private static String dead() throws Exception {
        return "http://127.0.0.1:" + TestSupport.deadPort();
    }

    private static long ejected(ProxyServer proxy) {
        return proxy.pool().all().stream().filter(backend -> backend.health().isEjected()).count();
    }

    @Test
    void neverMoreThanHalfThePoolIsEjected() throws Exception {
        DemoServer live = support.demo("live");
        ProxyServer proxy = proxy(passive(1, Duration.ofSeconds(30)), dead(), dead(), dead(), live.url());
        for (int i = 0; i < 12; i++) {
            support.get(proxy, "/");
        }
        assertEquals(2, ejected(proxy), "three of four refuse, but only half the pool may be ejected");
        assertEquals(2, proxy.pool().eligible().size());
        assertEquals(2, proxy.events().recent().stream().filter(event -> event.text().contains("ejected for")).count());
    }

    @Test
    void anEjectionThatRepeatsLastsLonger() throws Exception {
        DemoServer live = support.demo("live");
        ProxyServer proxy = proxy(passive(1, Duration.ofMillis(200)), dead(), live.url());
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (readmissions(proxy).size() < 2 && System.nanoTime() < deadline) {
            assertEquals(200, support.get(proxy, "/").statusCode(), "a refused connect moves on to the live backend");
            Thread.sleep(10); // paced traffic: the dead backend is tried again soon after each readmission
        }
        List<EventLog.Event> ejections = proxy.events().recent().stream().filter(event -> event.text().contains("ejected for")).toList();
        List<EventLog.Event> readmissions = readmissions(proxy);
        assertTrue(ejections.size() >= 2 && readmissions.size() >= 2, proxy.events().recent().toString());
        assertTrue(ejections.get(0).text().contains("ejected for 200 ms"), ejections.get(0).text());
        assertTrue(ejections.get(1).text().contains("ejected for 400 ms"), "the second ejection in a row is twice as long: " + ejections.get(1).text());
        long secondOut = Duration.between(ejections.get(1).time(), readmissions.get(1).time()).toMillis();
        assertTrue(secondOut >= 380, "out for " + secondOut + " ms the second time");
    }

    private static List<EventLog.Event> readmissions(ProxyServer proxy) {
        return proxy.events().recent().stream().filter(event -> event.text().contains("back in rotation after its ejection")).toList();
    }

    @ParameterizedTest(name = "a backend answering {0}")
    @ValueSource(ints = {502, 503, 504, 500})
    void aBackendsGatewayErrorsCountAsFailuresButNotItsOwn500(int status) throws Exception {
        RawBackend failing = support.raw(RawBackend.answer("HTTP/1.1 " + status + " Trouble\r\nContent-Length: 7\r\n\r\ntrouble"));
        DemoServer live = support.demo("live");
        ProxyServer proxy = proxy(passive(2, Duration.ofSeconds(30)), failing.url(), live.url());
        for (int i = 0; i < 8; i++) {
            support.get(proxy, "/");
        }
        boolean gatewayError = status != 500;
        assertEquals(gatewayError ? 2 : 4, failing.requestHeads().size(),
                gatewayError ? "two " + status + "s in a row eject it" : "a backend's own 500 is an answer, not a failure");
        assertEquals(gatewayError, proxy.pool().primaries().get(0).health().isEjected());
        if (gatewayError) {
            assertTrue(proxy.events().recent().stream().anyMatch(event -> event.text().contains("(last: status " + status + ")")),
                    proxy.events().recent().toString());
        }
    }

    @Test
    void aRedirectAnsweringTheHealthCheckIsGoodAndA404IsNot() throws Exception {
        RawBackend redirecting = support.raw(RawBackend.answer("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"));
        RawBackend missing = support.raw(RawBackend.answer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
        HealthSettings checks = new HealthSettings(new HealthChecks("/health", Duration.ofMillis(50), Duration.ofMillis(500), 1, 1),
                new PassiveEjection(0, Duration.ofSeconds(10), 50), Duration.ZERO, false);
        ProxyServer proxy = proxy(checks, redirecting.url(), missing.url());
        Backend redirect = proxy.pool().primaries().get(0), notFound = proxy.pool().primaries().get(1);

        TestSupport.await(() -> !notFound.health().isCheckedUp(), "the backend answering 404 to its check is DOWN");
        TestSupport.await(() -> redirecting.requestHeads().size() >= 3, "three checks of the redirecting one");
        assertTrue(redirect.health().isCheckedUp(), "a 302 is a good check");
        assertEquals(List.of(redirect), proxy.pool().eligible());
    }

    @Test
    void slowStartRampsTheProxiedShareOfAReturningBackendUpToItsFullShare() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        Duration slowStart = Duration.ofSeconds(3);
        HealthSettings settings = new HealthSettings(new HealthChecks("/health", Duration.ofMillis(50), Duration.ofMillis(500), 1, 1),
                new PassiveEjection(0, Duration.ofSeconds(10), 50), slowStart, false);
        ProxyServer proxy = proxy(settings, a.url(), b.url());
        Backend backendB = proxy.pool().primaries().get(1);
        List<CompletedRequest> proxied = new CopyOnWriteArrayList<>(); // the proxy's own requests: health checks are not in here
        proxy.addObserver(proxied::add);

        b.stopListening();
        TestSupport.await(() -> !backendB.health().isCheckedUp(), "b down");
        b.listenAgain();
        TestSupport.await(() -> backendB.health().isCheckedUp(), "b up again");

        long justBack = sharesOfB(proxy, proxied, backendB, 60);
        TestSupport.await(() -> backendB.health().warmth(System.nanoTime(), slowStart.toNanos()) >= 1, Duration.ofSeconds(15), "the slow start is over");
        long warm = sharesOfB(proxy, proxied, backendB, 60);

        assertTrue(justBack < 20, "right after coming back, a small share of proxied requests: " + justBack + " of 60 (round robin alone: 30)");
        assertTrue(warm >= 27, "after the slow start, its full share: " + warm + " of 60");
    }

    /** Sends {@code n} requests and returns how many of them the proxy sent to {@code b}. */
    private long sharesOfB(ProxyServer proxy, List<CompletedRequest> proxied, Backend b, int n) throws Exception {
        proxied.clear();
        for (int i = 0; i < n; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode());
        }
        TestSupport.await(() -> proxied.size() == n, "every request reported");
        return proxied.stream().filter(request -> request.backend() == b).count();
    }
}
