package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import java.time.Duration;
import proxy.Backend;
import proxy.BackendSettings;
import strategies.RequestView;
import strategies.Strategies;
import strategies.Strategies.Trait;
import strategies.Strategy;
import strategies.StrategyOptions;

/**
 * Every registered strategy, held to the contract and to the promises its traits make. A new entry in
 * {@link Strategies#ALL} is covered here without touching this file. No server: strategies are plain
 * objects over {@link Backend}s whose in-flight counts and latencies the tests set by hand.
 */
class StrategyConformanceTest {
    private static final int PICKS = 30_000;

    @TestFactory
    Stream<DynamicTest> everyStrategyKeepsTheContract() {
        return Strategies.ALL.stream().flatMap(entry -> Stream.of(
                dynamicTest(entry.name() + ": returns one of the candidates", () -> onlyCandidates(entry)),
                dynamicTest(entry.name() + ": a single candidate works", () -> singleCandidate(entry)),
                dynamicTest(entry.name() + ": a retry's shorter list works", () -> retryList(entry)),
                dynamicTest(entry.name() + ": is safe under concurrent picks", () -> concurrentPicks(entry))));
    }

    @TestFactory
    Stream<DynamicTest> everyStrategyKeepsItsTraitsPromises() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Strategies.Entry entry : Strategies.ALL) {
            if (entry.has(Trait.EVEN)) tests.add(dynamicTest(entry.name() + ": spreads evenly", () -> spreadsEvenly(entry)));
            if (entry.has(Trait.WEIGHTED)) tests.add(dynamicTest(entry.name() + ": follows weights", () -> followsWeights(entry)));
            if (entry.has(Trait.HASHING)) {
                tests.add(dynamicTest(entry.name() + ": same key, same backend", () -> sameKeySameBackend(entry)));
                tests.add(dynamicTest(entry.name() + ": removing 1 of 10 moves about 1/10 of keys", () -> removalMovesFewKeys(entry)));
                tests.add(dynamicTest(entry.name() + ": keys spread over the pool", () -> keysSpread(entry)));
                tests.add(dynamicTest(entry.name() + ": keys go back when a backend returns", () -> returnRestoresKeys(entry)));
            }
            if (entry.has(Trait.LOAD_AWARE)) tests.add(dynamicTest(entry.name() + ": avoids a busy backend", () -> avoidsBusyBackend(entry)));
            if (entry.has(Trait.LATENCY_AWARE)) tests.add(dynamicTest(entry.name() + ": avoids a slow backend, returns after", () -> avoidsSlowBackend(entry)));
            if (entry.has(Trait.BOUNDED_LOAD)) tests.add(dynamicTest(entry.name() + ": never exceeds its cap", () -> neverExceedsCap(entry)));
        }
        return tests.stream();
    }

    // --- the contract -------------------------------------------------------------------------------

    private static void onlyCandidates(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 2, 3, 1, 5);
        Strategy strategy = create(entry);
        for (int i = 0; i < 2_000; i++) {
            Backend chosen = strategy.pick(pool, request(i));
            assertTrue(pool.stream().anyMatch(b -> b == chosen), "picked a backend that is not a candidate");
        }
    }

    private static void singleCandidate(Strategies.Entry entry) {
        List<Backend> pool = pool(3);
        Strategy strategy = create(entry);
        for (int i = 0; i < 100; i++) {
            assertSame(pool.get(0), strategy.pick(pool, request(i)));
        }
    }

    private static void retryList(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1);
        Strategy strategy = create(entry);
        for (int i = 0; i < 500; i++) {
            strategy.pick(pool, request(i));
            List<Backend> untried = new ArrayList<>(pool); // what the proxy passes on a retry: a fresh list
            untried.remove(i % pool.size());
            Backend chosen = strategy.pick(untried, request(i));
            assertTrue(untried.stream().anyMatch(b -> b == chosen), "a retry must not go back to the backend that failed");
        }
    }

    private static void concurrentPicks(Strategies.Entry entry) throws Exception {
        List<Backend> pool = pool(1, 2, 3, 4);
        Strategy strategy = create(entry);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                results.add(threads.submit(() -> {
                    int valid = 0;
                    for (int i = 0; i < 20_000; i++) {
                        Backend chosen = strategy.pick(pool, request(thread * 100_000 + i));
                        chosen.requestStarted(); // load changes under the strategy's feet, as in the proxy
                        chosen.requestFinished(1_000_000);
                        if (pool.contains(chosen)) valid++;
                    }
                    return valid;
                }));
            }
            for (Future<Integer> result : results) {
                assertEquals(20_000, result.get(30, TimeUnit.SECONDS));
            }
            for (Backend backend : pool) {
                assertEquals(0, backend.inFlight());
            }
        } finally {
            threads.shutdownNow();
        }
    }

    // --- the traits ---------------------------------------------------------------------------------

    /** Each of 5 equal backends within 10% of a fifth of the picks. */
    private static void spreadsEvenly(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1, 1);
        Map<Backend, Integer> counts = countPicks(create(entry), pool, PICKS);
        for (Backend backend : pool) {
            double share = counts.getOrDefault(backend, 0) / (double) PICKS;
            assertEquals(0.2, share, 0.02, backend + " got " + share);
        }
    }

    /** Weights 1:2:3:4 give shares within 2 points of 10/20/30/40%. */
    private static void followsWeights(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 2, 3, 4);
        Map<Backend, Integer> counts = countPicks(create(entry), pool, PICKS);
        for (Backend backend : pool) {
            double share = counts.getOrDefault(backend, 0) / (double) PICKS;
            assertEquals(backend.weight() / 10.0, share, 0.02, backend + " got " + share);
        }
    }

    private static void sameKeySameBackend(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1, 1);
        Strategy strategy = create(entry);
        for (int key = 0; key < 500; key++) {
            Backend first = strategy.pick(pool, request(key));
            for (int again = 0; again < 3; again++) {
                assertSame(first, strategy.pick(pool, request(key)), "key " + key);
            }
        }
    }

    /** With 10 backends, removing one moves at most 15% of 10,000 keys (the ideal is 10%: its own). */
    private static void removalMovesFewKeys(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Strategy strategy = create(entry);
        Backend[] before = new Backend[10_000];
        for (int key = 0; key < before.length; key++) {
            before[key] = strategy.pick(pool, request(key));
        }
        List<Backend> smaller = List.copyOf(pool.subList(1, pool.size())); // the pool's new list, used from now on
        int moved = 0;
        for (int key = 0; key < before.length; key++) {
            Backend after = strategy.pick(smaller, request(key));
            if (before[key] != pool.get(0) && after != before[key]) {
                moved++;
            }
            if (before[key] == pool.get(0)) {
                moved++; // its own keys must move
            }
        }
        assertTrue(moved <= 1_500, moved + " of 10000 keys moved");
    }

    /** A backend coming back: the keys go back where they were, whichever list the strategy saw last. */
    private static void returnRestoresKeys(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1, 1);
        List<Backend> smaller = List.copyOf(pool.subList(1, pool.size()));
        Strategy strategy = create(entry);
        for (int key = 0; key < 2_000; key++) {
            Backend before = strategy.pick(pool, request(key));
            strategy.pick(smaller, request(key)); // alternate lists, as a pool does when a backend flaps
            assertSame(before, strategy.pick(pool, request(key)), "key " + key + " moved back and forth");
        }
    }

    /** 10,000 keys over 5 equal backends: none gets less than half or more than double its fifth. */
    private static void keysSpread(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1, 1);
        Strategy strategy = create(entry);
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int key = 0; key < 10_000; key++) {
            counts.merge(strategy.pick(pool, request(key)), 1, Integer::sum);
        }
        for (Backend backend : pool) {
            int count = counts.getOrDefault(backend, 0);
            assertTrue(count > 1_000 && count < 4_000, backend + " got " + count + " of 10000 keys");
        }
    }

    /** One of 4 equal backends has 50 requests in flight: it gets under 5% of new picks. */
    private static void avoidsBusyBackend(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1);
        Backend busy = pool.get(2);
        for (int i = 0; i < 50; i++) busy.requestStarted();
        Map<Backend, Integer> counts = countPicks(create(entry), pool, 10_000);
        assertTrue(counts.getOrDefault(busy, 0) < 500, "the busy backend got " + counts.getOrDefault(busy, 0) + " of 10000");
    }

    /**
     * One of 3 backends answers in 200 ms, the others in 2 ms: it gets under 10% of picks. Its latency
     * average forgets (decay set to 20 ms here, 10 s by default); once it answers in 2 ms again, its
     * share climbs back over 20%.
     */
    private static void avoidsSlowBackend(Strategies.Entry entry) throws InterruptedException {
        BackendSettings quickToForget = new BackendSettings(8, 1_000, 1, Duration.ofMillis(20));
        List<Backend> pool = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pool.add(new Backend(URI.create("http://127.0.0.1:" + (20_101 + i)), 1, quickToForget));
        }
        pool = List.copyOf(pool);
        Backend slow = pool.get(1);
        Strategy strategy = create(entry);
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < 3_000; i++) {
            Backend chosen = strategy.pick(pool, request(i));
            counts.merge(chosen, 1, Integer::sum);
            chosen.requestStarted();
            chosen.requestFinished(chosen == slow ? 200_000_000 : 2_000_000);
        }
        assertTrue(counts.getOrDefault(slow, 0) < 300, "the slow backend got " + counts.getOrDefault(slow, 0) + " of 3000");

        counts.clear();
        Thread.sleep(200); // ten decay times: the slow spell is forgotten
        for (int i = 0; i < 6_000; i++) {
            if (i % 100 == 0) {
                Thread.sleep(5); // time passes between bursts, as in real traffic, so averages blend
            }
            Backend chosen = strategy.pick(pool, request(i));
            chosen.requestStarted();
            chosen.requestFinished(2_000_000); // everyone fast now
            if (i >= 3_000) counts.merge(chosen, 1, Integer::sum);
        }
        assertTrue(counts.getOrDefault(slow, 0) > 600, "after recovering, the once-slow backend got only " + counts.getOrDefault(slow, 0) + " of 3000");
    }

    /**
     * Requests that all carry the same hot key pile up in flight: none of 4 backends ever holds more
     * than ceil(1.25 × (in flight + 1) / 4).
     */
    private static void neverExceedsCap(Strategies.Entry entry) {
        List<Backend> pool = pool(1, 1, 1, 1);
        Strategy strategy = create(entry);
        for (int inFlight = 0; inFlight < 200; inFlight++) {
            Backend chosen = strategy.pick(pool, request(7)); // always the same key
            double cap = Math.ceil(1.25 * (inFlight + 1) / 4);
            assertTrue(chosen.inFlight() + 1 <= cap, "request " + inFlight + " pushed " + chosen + " to " + (chosen.inFlight() + 1) + " over cap " + cap);
            chosen.requestStarted(); // and it stays in flight
        }
    }

    // --- helpers ------------------------------------------------------------------------------------

    private static Strategy create(Strategies.Entry entry) {
        return entry.create(new StrategyOptions(StrategyOptions.seeded(42), "header:X-User", 1.25));
    }

    /** Backends on distinct made-up ports with these weights; no connection is ever opened. */
    static List<Backend> pool(int... weights) {
        List<Backend> pool = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            pool.add(new Backend(URI.create("http://127.0.0.1:" + (20_001 + i)), weights[i]));
        }
        return List.copyOf(pool);
    }

    /** Request number {@code key}: its own client address, X-User header, cookie and path. */
    static RequestView request(int key) {
        String client = "10." + (key >> 16 & 255) + "." + (key >> 8 & 255) + "." + (key & 255);
        return RequestView.of(client, "GET", "/item/" + key, Map.of("X-User", "user-" + key), Map.of("session", "s" + key));
    }

    private static Map<Backend, Integer> countPicks(Strategy strategy, List<Backend> pool, int picks) {
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(strategy.pick(pool, request(i)), 1, Integer::sum);
        }
        return counts;
    }
}
