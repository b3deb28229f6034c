package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import model.Backend;
import model.BackendPool;
import model.HealthChecks;
import model.HealthMonitor;
import model.HealthSettings;
import model.PassiveEjection;
import model.RequestView;
import model.Route;
import model.Routing;
import org.junit.jupiter.api.Test;
import strategies.RoundRobin;
import strategies.WeightedRoundRobin;

/**
 * Where {@link Routing} lets a request go, with no server: primaries, then backups, then panic; tried
 * and full backends avoided, warming ones mostly; the strategy's weights kept among the rest; and the
 * reason X-LB-Explain shows.
 */
class RoutingTest {
    private static final RequestView ANY = RequestView.fromClient("192.0.2.1");
    private static final int PICKS = 9_000;

    @Test
    void aFullBackendIsAvoidedAndTheOthersKeepTheirWeights() {
        List<Backend> backends = backends(1, 2, 3, 4);
        Routing routing = new Routing(new BackendPool(backends), HealthSettings.DEFAULTS, 2, new Random(1),
                "weighted-round-robin", new WeightedRoundRobin());
        Backend full = backends.get(3);
        load(full, 2); // --max-conns 2: full

        Map<Backend, Integer> counts = countRoutes(routing, PICKS);

        assertEquals(0, counts.getOrDefault(full, 0), "the full backend got requests");
        for (int i = 0; i < 3; i++) {
            double share = counts.getOrDefault(backends.get(i), 0) / (double) PICKS;
            assertEquals((i + 1) / 6.0, share, 0.01, backends.get(i) + " got " + share + ": weights 1:2:3 among those with room");
        }
        assertTrue(routing.route(ANY, List.of()).explain(1).contains(full.name() + " (full)"));
    }

    @Test
    void aWarmingBackendGetsLittleAndTheOthersKeepTheirWeights() throws Exception {
        List<Backend> backends = backends(1, 2, 3, 4);
        BackendPool pool = new BackendPool(backends);
        HealthSettings slowStart = new HealthSettings(HealthChecks.OFF, new PassiveEjection(1, Duration.ofMillis(1), 50),
                Duration.ofSeconds(60), false);
        HealthMonitor health = new HealthMonitor(pool, slowStart, event -> {});
        try {
            Backend warming = backends.get(3);
            health.failed(warming, "test"); // ejected for 1 ms, then back and warming up over 60 s
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (pool.eligible().size() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(4, pool.eligible().size(), "readmitted after its ejection");
            Routing routing = new Routing(pool, slowStart, 0, new Random(1), "weighted-round-robin", new WeightedRoundRobin());

            Map<Backend, Integer> counts = countRoutes(routing, PICKS);

            assertTrue(counts.getOrDefault(warming, 0) < PICKS / 20, "just back, it got " + counts.getOrDefault(warming, 0));
            int others = PICKS - counts.getOrDefault(warming, 0);
            for (int i = 0; i < 3; i++) {
                double share = counts.getOrDefault(backends.get(i), 0) / (double) others;
                assertEquals((i + 1) / 6.0, share, 0.01, backends.get(i) + " got " + share + " of the rest: weights 1:2:3");
            }
        } finally {
            health.stop();
        }
    }

    @Test
    void triedBackendsAreAvoidedThenBackupsThenNothing() {
        List<Backend> primaries = backends(1, 1);
        Backend backup = Backend.of("http://127.0.0.1:20101");
        Routing routing = new Routing(new BackendPool(primaries, List.of(backup)), HealthSettings.DEFAULTS, 0, new Random(1),
                "round-robin", new RoundRobin());

        Route first = routing.route(ANY, List.of());
        assertEquals("primaries", first.group());
        Route second = routing.route(ANY, List.of(first.backend()));
        assertSame(primaries.get(1 - primaries.indexOf(first.backend())), second.backend(), "the other primary");
        assertTrue(second.explain(2).contains(first.backend().name() + " (tried)"), second.explain(2));
        Route third = routing.route(ANY, List.of(first.backend(), second.backend()));
        assertSame(backup, third.backend(), "no primary left: the backup");
        assertEquals("backups", third.group());
        assertNull(routing.route(ANY, List.of(first.backend(), second.backend(), backup)), "none left: 503");
    }

    @Test
    void panicModeTriesThePrimariesOnlyWhenNoneIsUp() {
        List<Backend> primaries = backends(1, 1);
        BackendPool pool = new BackendPool(primaries);
        HealthSettings panicking = new HealthSettings(HealthChecks.OFF, PassiveEjection.DEFAULTS, Duration.ZERO, true);
        Routing routing = new Routing(pool, panicking, 0, new Random(1), "round-robin", new RoundRobin());
        Routing calm = new Routing(pool, HealthSettings.DEFAULTS, 0, new Random(1), "round-robin", new RoundRobin());
        pool.drain(primaries.get(0), true);
        assertEquals("primaries", routing.route(ANY, List.of()).group(), "one is up: no panic");
        pool.drain(primaries.get(1), true);

        assertEquals("panic, all primaries", routing.route(ANY, List.of()).group());
        assertNull(calm.route(ANY, List.of()), "without --panic: 503");
    }

    @Test
    void theReasonNamesTheStrategyTheCandidatesAndTheAttempt() {
        List<Backend> backends = backends(1, 1, 1);
        Routing routing = new Routing(new BackendPool(backends), HealthSettings.DEFAULTS, 0, new Random(1), "round-robin", new RoundRobin());
        Route route = routing.route(ANY, List.of(backends.get(1)));
        assertEquals("round-robin picked 127.0.0.1:20001 of 2 candidates (127.0.0.1:20001, 127.0.0.1:20003) from the primaries,"
                + " avoiding 127.0.0.1:20002 (tried); attempt 2", route.explain(2));

        routing.setStrategy("first", (candidates, request) -> candidates.allowed(candidates.allowedCount() - 1));
        assertTrue(routing.route(ANY, List.of()).explain(1).startsWith("first picked 127.0.0.1:20003 of 3"));
    }

    private static List<Backend> backends(int... weights) {
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            backends.add(new Backend(URI.create("http://127.0.0.1:" + (20_001 + i)), weights[i]));
        }
        return backends;
    }

    private static Map<Backend, Integer> countRoutes(Routing routing, int picks) {
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(routing.route(ANY, List.of()).backend(), 1, Integer::sum);
        }
        return counts;
    }

    private static void load(Backend backend, int requests) {
        for (int i = 0; i < requests; i++) {
            backend.requestStarted();
        }
    }
}
