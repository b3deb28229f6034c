package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
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
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import strategies.Strategies.Trait;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * Every registered strategy, held to the contract and to the promises its traits make. A new entry in
 * {@link Strategies#ALL} is covered here without touching this file. No server: strategies are plain
 * objects over {@link Candidates} of {@link Backend}s whose in-flight counts and latencies the tests set
 * by hand, and whose avoided backends stand for a retry's tried one, a full one or a cold one.
 */
class StrategyConformanceTest {
    private static final int PICKS = 30_000;

    @TestFactory
    Stream<DynamicTest> everyStrategyKeepsTheContract() {
        return Strategies.ALL.stream().flatMap(entry -> Stream.of(
                dynamicTest(entry.name() + ": returns one of the candidates", () -> onlyCandidates(entry)),
                dynamicTest(entry.name() + ": a single candidate works", () -> singleCandidate(entry)),
                dynamicTest(entry.name() + ": a retry avoids the backend tried", () -> retryAvoidsTried(entry)),
                dynamicTest(entry.name() + ": never picks an avoided backend", () -> neverPicksAvoided(entry)),
                dynamicTest(entry.name() + ": builds no ring or schedule per pick", () -> allocatesNoStructurePerPick(entry)),
                dynamicTest(entry.name() + ": is safe under concurrent picks", () -> concurrentPicks(entry))));
    }

    @TestFactory
    Stream<DynamicTest> everyStrategyKeepsItsTraitsPromises() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Strategies.Entry entry : Strategies.ALL) {
            if (entry.has(Trait.EVEN)) tests.add(dynamicTest(entry.name() + ": spreads evenly", () -> spreadsEvenly(entry)));
            if (entry.has(Trait.WEIGHTED)) {
                tests.add(dynamicTest(entry.name() + ": follows weights", () -> followsWeights(entry)));
                tests.add(dynamicTest(entry.name() + ": follows weights with a full backend avoided", () -> followsWeightsAvoidingOne(entry)));
            }
            if (entry.has(Trait.HASHING)) {
                tests.add(dynamicTest(entry.name() + ": same key, same backend", () -> sameKeySameBackend(entry)));
                tests.add(dynamicTest(entry.name() + ": removing 1 of 10 moves about 1/10 of keys", () -> removalMovesFewKeys(entry)));
                tests.add(dynamicTest(entry.name() + ": keys spread over the pool", () -> keysSpread(entry)));
                tests.add(dynamicTest(entry.name() + ": keys go back when a backend returns", () -> returnRestoresKeys(entry)));
                tests.add(dynamicTest(entry.name() + ": a client's 200 sequential requests stay on one backend", () -> sequentialRequestsStick(entry)));
            }
            if (entry.has(Trait.LOAD_AWARE)) tests.add(dynamicTest(entry.name() + ": avoids a busy backend", () -> avoidsBusyBackend(entry)));
            if (entry.has(Trait.LATENCY_AWARE)) tests.add(dynamicTest(entry.name() + ": avoids a slow backend, returns after", () -> avoidsSlowBackend(entry)));
            if (entry.has(Trait.BOUNDED_LOAD)) tests.add(dynamicTest(entry.name() + ": never exceeds its cap", () -> neverExceedsCap(entry)));
        }
        return tests.stream();
    }

    // --- the contract -------------------------------------------------------------------------------

    private static void onlyCandidates(Strategies.Entry entry) {
        Candidates pool = pool(1, 2, 3, 1, 5);
        Strategy strategy = create(entry);
        for (int i = 0; i < 2_000; i++) {
            Backend chosen = strategy.pick(pool, request(i));
            assertTrue(pool.all().stream().anyMatch(b -> b == chosen), "picked a backend that is not a candidate");
        }
    }

    private static void singleCandidate(Strategies.Entry entry) {
        Candidates pool = pool(3);
        Strategy strategy = create(entry);
        for (int i = 0; i < 100; i++) {
            assertSame(pool.all().get(0), strategy.pick(pool, request(i)));
        }
    }

    /** What the proxy passes on a retry: the same version of the pool, with the backend that failed avoided. */
    private static void retryAvoidsTried(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1);
        Strategy strategy = create(entry);
        for (int i = 0; i < 500; i++) {
            Backend first = strategy.pick(pool, request(i));
            Backend retry = strategy.pick(pool.avoiding(List.of(first)), request(i));
            assertNotSame(first, retry, "a retry must not go back to the backend that failed");
            assertTrue(pool.all().contains(retry));
        }
    }

    /** All but one of 5 avoided (tried, full or cold): every pick is that one. */
    private static void neverPicksAvoided(Strategies.Entry entry) {
        Candidates pool = pool(1, 2, 3, 4, 5);
        Strategy strategy = create(entry);
        for (int left = 0; left < 5; left++) {
            List<Backend> others = new ArrayList<>(pool.all());
            Backend only = others.remove(left);
            Candidates oneLeft = pool.avoiding(others);
            for (int i = 0; i < 200; i++) {
                assertSame(only, strategy.pick(oneLeft, request(i)), "picked an avoided backend");
            }
        }
    }

    /**
     * 10,000 picks over a pool of 10 with one backend avoided, as under --max-conns pressure: what they
     * allocate together stays under a tenth of one hash ring over that pool (10 × 160 points of a long and
     * a reference each), so no strategy builds a ring, a schedule or a list per pick.
     */
    private static void allocatesNoStructurePerPick(Strategies.Entry entry) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Candidates pool = pool(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Candidates full = pool.avoiding(List.of(pool.all().get(3)));
        Strategy strategy = create(entry);
        RequestView[] requests = new RequestView[100];
        for (int i = 0; i < requests.length; i++) {
            requests[i] = request(i);
        }
        for (int i = 0; i < 20_000; i++) {
            strategy.pick(full, requests[i % requests.length]); // builds what it builds once, and warms up the JIT
        }
        long ringBytes = 10 * 160 * (8 + 4);
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            strategy.pick(full, requests[i % requests.length]);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < ringBytes / 10, "10,000 picks allocated " + allocated + " bytes; one ring is about " + ringBytes);
    }

    private static void concurrentPicks(Strategies.Entry entry) throws Exception {
        Candidates pool = pool(1, 2, 3, 4);
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
                        if (pool.all().contains(chosen)) valid++;
                    }
                    return valid;
                }));
            }
            for (Future<Integer> result : results) {
                assertEquals(20_000, result.get(30, TimeUnit.SECONDS));
            }
            for (Backend backend : pool.all()) {
                assertEquals(0, backend.inFlight());
            }
        } finally {
            threads.shutdownNow();
        }
    }

    // --- the traits ---------------------------------------------------------------------------------

    /** Each of 5 equal backends within 10% of a fifth of the picks. */
    private static void spreadsEvenly(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1, 1);
        Map<Backend, Integer> counts = countPicks(create(entry), pool, PICKS);
        for (Backend backend : pool.all()) {
            double share = counts.getOrDefault(backend, 0) / (double) PICKS;
            assertEquals(0.2, share, 0.02, backend + " got " + share);
        }
    }

    /** Weights 1:2:3:4 give shares within 2 points of 10/20/30/40%. */
    private static void followsWeights(Strategies.Entry entry) {
        Candidates pool = pool(1, 2, 3, 4);
        Map<Backend, Integer> counts = countPicks(create(entry), pool, PICKS);
        for (Backend backend : pool.all()) {
            double share = counts.getOrDefault(backend, 0) / (double) PICKS;
            assertEquals(backend.weight() / 10.0, share, 0.02, backend + " got " + share);
        }
    }

    /**
     * Weights 1:2:3:4 with the weight-4 backend full (--max-conns) for every pick: it gets none, and the
     * others keep their weights' proportions, 1/6, 2/6, 3/6, within 2 points. The same with the weight-1
     * backend full: 2/9, 3/9, 4/9.
     */
    private static void followsWeightsAvoidingOne(Strategies.Entry entry) {
        for (int full : new int[] {3, 0}) {
            Candidates pool = pool(1, 2, 3, 4);
            Backend fullBackend = pool.all().get(full);
            Map<Backend, Integer> counts = countPicks(create(entry), pool.avoiding(List.of(fullBackend)), PICKS);
            assertEquals(0, counts.getOrDefault(fullBackend, 0), "the full backend was picked");
            int allowedWeight = 10 - fullBackend.weight();
            for (Backend backend : pool.all()) {
                if (backend != fullBackend) {
                    double share = counts.getOrDefault(backend, 0) / (double) PICKS;
                    assertEquals(backend.weight() / (double) allowedWeight, share, 0.02, backend + " got " + share + " with " + fullBackend + " full");
                }
            }
        }
    }

    private static void sameKeySameBackend(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1, 1);
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
        Candidates pool = pool(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Strategy strategy = create(entry);
        Backend[] before = new Backend[10_000];
        for (int key = 0; key < before.length; key++) {
            before[key] = strategy.pick(pool, request(key));
        }
        Backend leaving = pool.all().get(0);
        Candidates smaller = Candidates.of(pool.all().subList(1, 10)); // the pool's next version, used from now on
        int moved = 0;
        for (int key = 0; key < before.length; key++) {
            Backend after = strategy.pick(smaller, request(key));
            if (before[key] != leaving && after != before[key]) {
                moved++;
            }
            if (before[key] == leaving) {
                moved++; // its own keys must move
            }
        }
        assertTrue(moved <= 1_500, moved + " of 10000 keys moved");
    }

    /** A backend coming back: the keys go back where they were, whichever version the strategy saw last. */
    private static void returnRestoresKeys(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1, 1);
        Candidates smaller = Candidates.of(pool.all().subList(1, 5));
        Strategy strategy = create(entry);
        for (int key = 0; key < 2_000; key++) {
            Backend before = strategy.pick(pool, request(key));
            strategy.pick(smaller, request(key)); // alternate versions, as a pool does when a backend flaps
            assertSame(before, strategy.pick(pool, request(key)), "key " + key + " moved back and forth");
        }
    }

    /** 10,000 keys over 5 equal backends: none gets less than half or more than double its fifth. */
    private static void keysSpread(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1, 1);
        Strategy strategy = create(entry);
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int key = 0; key < 10_000; key++) {
            counts.merge(strategy.pick(pool, request(key)), 1, Integer::sum);
        }
        for (Backend backend : pool.all()) {
            int count = counts.getOrDefault(backend, 0);
            assertTrue(count > 1_000 && count < 4_000, backend + " got " + count + " of 10000 keys");
        }
    }

    /** One of 4 equal backends has 50 requests in flight: it gets under 5% of new picks. */
    private static void avoidsBusyBackend(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1);
        Backend busy = pool.all().get(2);
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
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            backends.add(new Backend(URI.create("http://127.0.0.1:" + (20_101 + i)), 1, Duration.ofMillis(20)));
        }
        Candidates pool = Candidates.of(backends);
        Backend slow = pool.all().get(1);
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
     * than its cap, ceil(1.25 × (in flight + 1) / 4), plus the one request of slack the cap allows.
     */
    private static void neverExceedsCap(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1, 1);
        Strategy strategy = create(entry);
        for (int inFlight = 0; inFlight < 200; inFlight++) {
            Backend chosen = strategy.pick(pool, request(7)); // always the same key
            double cap = Math.ceil(1.25 * (inFlight + 1) / 4);
            assertTrue(chosen.inFlight() <= cap, "request " + inFlight + " pushed " + chosen + " to " + (chosen.inFlight() + 1) + " over cap " + cap + " + 1");
            chosen.requestStarted(); // and it stays in flight
        }
        int most = pool.all().stream().mapToInt(Backend::inFlight).max().orElseThrow();
        assertTrue(most <= Math.ceil(1.25 * 200 / 4) + 1, "the hot key piled " + most + " requests on one backend");
    }

    /**
     * One client at a time sends 200 requests one after another, over 3 equal backends, with the
     * bookkeeping as the proxy does it: a request counts in flight from its pick until its exchange
     * completes, which may be just after the client has sent its next one. Each of 50 clients stays on
     * one backend throughout.
     */
    private static void sequentialRequestsStick(Strategies.Entry entry) {
        Candidates pool = pool(1, 1, 1);
        Strategy strategy = create(entry);
        for (int client = 0; client < 50; client++) {
            RequestView request = request(client);
            Backend first = strategy.pick(pool, request);
            first.requestStarted();
            Backend previous = first;
            for (int i = 1; i < 200; i++) {
                Backend chosen = strategy.pick(pool, request); // the previous request still counts in flight
                previous.requestFinished(1_000_000);
                assertSame(first, chosen, "client " + client + "'s request " + i + " moved");
                chosen.requestStarted();
                previous = chosen;
            }
            previous.requestFinished(1_000_000);
        }
    }

    // --- helpers ------------------------------------------------------------------------------------

    private static Strategy create(Strategies.Entry entry) {
        return entry.create(new StrategyOptions(StrategyOptions.seeded(42), "header:X-User", 1.25));
    }

    /** One version of a pool of backends on distinct made-up ports with these weights; no connection is ever opened. */
    static Candidates pool(int... weights) {
        List<Backend> pool = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            pool.add(new Backend(URI.create("http://127.0.0.1:" + (20_001 + i)), weights[i]));
        }
        return Candidates.of(pool);
    }

    /** Request number {@code key}: its own client address, X-User header, cookie and path. */
    static RequestView request(int key) {
        String client = "10." + (key >> 16 & 255) + "." + (key >> 8 & 255) + "." + (key & 255);
        return RequestView.of(client, "GET", "/item/" + key, Map.of("X-User", "user-" + key), Map.of("session", "s" + key));
    }

    private static Map<Backend, Integer> countPicks(Strategy strategy, Candidates pool, int picks) {
        Map<Backend, Integer> counts = new IdentityHashMap<>();
        for (int i = 0; i < picks; i++) {
            counts.merge(strategy.pick(pool, request(i)), 1, Integer::sum);
        }
        return counts;
    }
}
