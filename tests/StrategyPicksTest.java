package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static tests.StrategyConformanceTest.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;
import org.junit.jupiter.api.Test;
import strategies.ConsistentHash;
import strategies.First;
import strategies.Hash;
import strategies.HashKey;
import strategies.LeastConnections;
import strategies.LeastLatency;
import strategies.PowerOfTwo;
import strategies.RoundRobin;
import strategies.Sticky;
import strategies.WeightedRoundRobin;

/** Exact picks for small pools, in the style of Caddy's selection-policy tests: which backend comes back, and why. */
class StrategyPicksTest {
    private static final RequestView ANY = RequestView.fromClient("192.0.2.1");

    @Test
    void roundRobinGoesInOrderAndWrapsAround() {
        Candidates abc = pool(1, 1, 1);
        Strategy strategy = new RoundRobin();
        assertEquals(List.of(0, 1, 2, 0, 1, 2, 0), indexesOf(abc, strategy, 7));
    }

    @Test
    void roundRobinSurvivesCounterOverflow() {
        Candidates abc = pool(1, 1, 1);
        Strategy strategy = new RoundRobin(Long.MAX_VALUE - 2);
        // A plain % would give a negative index after Long.MAX_VALUE and throw; floorMod stays in range.
        // 2^64 is not a multiple of 3, so the one wrap in 2^64 picks repeats a backend once.
        List<Integer> picks = indexesOf(abc, strategy, 9);
        assertEquals(List.of(2, 0, 1), picks.subList(0, 3), "before the wrap: " + picks);
        assertEquals(List.of(1, 2, 0, 1, 2, 0), picks.subList(3, 9), "after the wrap, in order again: " + picks);
    }

    @Test
    void weightedRoundRobinIsNginxSmoothSequence() {
        Candidates heavyAndTwoLight = pool(5, 1, 1);
        // nginx's documented example for weights 5, 1, 1: a a b a c a a, then again.
        assertEquals(List.of(0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0), indexesOf(heavyAndTwoLight, new WeightedRoundRobin(), 14));
    }

    @Test
    void weightedRoundRobinSkipsTheTurnsOfAnAvoidedBackend() {
        Candidates heavyAndTwoLight = pool(5, 1, 1);
        Candidates cIsFull = heavyAndTwoLight.avoiding(List.of(heavyAndTwoLight.all().get(2)));
        // a a b a (c skipped) a a, then again: a and b keep their 5:1, where a fresh list of a and b would go 1:1.
        assertEquals(List.of(0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0), indexesOf(cIsFull, new WeightedRoundRobin(), 12));
    }

    @Test
    void firstAlwaysTakesTheFirstCandidate() {
        Candidates abc = pool(1, 1, 1);
        assertSame(abc.all().get(0), new First().pick(abc, ANY));
        assertSame(abc.all().get(1), new First().pick(abc.avoiding(List.of(abc.all().get(0))), ANY), "with a full or tried, b is first");
    }

    @Test
    void leastConnectionsTakesTheFewestInFlightPerWeight() {
        Candidates abc = pool(1, 1, 1);
        load(abc.all().get(0), 2);
        load(abc.all().get(2), 1);
        assertSame(abc.all().get(1), new LeastConnections(new Random(1)).pick(abc, ANY));

        Candidates weighted = pool(4, 1);
        load(weighted.all().get(0), 3); // 3 per 4 units of weight
        load(weighted.all().get(1), 1); // 1 per 1
        assertSame(weighted.all().get(0), new LeastConnections(new Random(1)).pick(weighted, ANY));
    }

    @Test
    void powerOfTwoWithTwoBackendsAlwaysTakesTheLessBusy() {
        Candidates ab = pool(1, 1);
        load(ab.all().get(0), 5);
        Strategy strategy = new PowerOfTwo(new Random(3));
        for (int i = 0; i < 100; i++) {
            assertSame(ab.all().get(1), strategy.pick(ab, ANY));
        }
    }

    @Test
    void leastLatencyWithTwoBackendsTakesTheFaster() {
        Candidates ab = pool(1, 1);
        ab.all().get(0).requestStarted();
        ab.all().get(0).requestFinished(10_000_000);
        ab.all().get(1).requestStarted();
        ab.all().get(1).requestFinished(1_000_000);
        Strategy strategy = new LeastLatency(new Random(3));
        for (int i = 0; i < 100; i++) {
            assertSame(ab.all().get(1), strategy.pick(ab, ANY));
        }
    }

    @Test
    void ipHashAgreesAcrossInstancesSoSeveralLoadBalancersRouteAlike() {
        Candidates pool = pool(1, 1, 1, 1);
        Candidates samePoolAgain = pool(1, 1, 1, 1); // same addresses, new objects: another process
        Strategy one = new Hash(HashKey.CLIENT), other = new Hash(HashKey.CLIENT);
        for (int i = 0; i < 200; i++) {
            RequestView client = RequestView.fromClient("198.51.100." + i);
            assertEquals(pool.all().indexOf(one.pick(pool, client)), samePoolAgain.all().indexOf(other.pick(samePoolAgain, client)));
        }
    }

    @Test
    void hashOnAHeaderFollowsTheHeaderNotTheClient() {
        Candidates pool = pool(1, 1, 1, 1, 1);
        Strategy byUser = new Hash(HashKey.parse("header:X-User"));
        Backend alice = byUser.pick(pool, RequestView.of("192.0.2.1", "GET", "/", Map.of("X-User", "alice"), Map.of()));
        for (int i = 2; i < 50; i++) {
            assertSame(alice, byUser.pick(pool, RequestView.of("192.0.2." + i, "GET", "/", Map.of("x-user", "alice"), Map.of())));
        }
        RequestView noHeader = RequestView.fromClient("203.0.113.9");
        assertSame(new Hash(HashKey.CLIENT).pick(pool, noHeader), byUser.pick(pool, noHeader), "no header: hashed on the client");
    }

    @Test
    void hashKeysAreValidatedWithTheAcceptedForms() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> HashKey.parse("header:"));
        assertEquals("--hash-key: expected client, path, header:NAME or cookie:NAME, got 'header:'", error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HashKey.parse("query:id"));
    }

    @Test
    void consistentHashLeavesAFullOwnerForTheNextBackendOnTheRing() {
        Candidates pool = pool(1, 1, 1, 1);
        Strategy bounded = new ConsistentHash(HashKey.CLIENT, 1.25);
        RequestView client = RequestView.fromClient("192.0.2.77");
        Backend owner = bounded.pick(pool, client);
        assertSame(new Hash(HashKey.CLIENT).pick(pool, client), owner, "under the cap, the ring owner");

        load(owner, 3); // cap with 3 in flight: ceil(1.25 × 4 / 4) = 2, and the owner carries 3: full
        Backend overflow = bounded.pick(pool, client);
        assertNotEquals(owner, overflow);
        assertSame(overflow, bounded.pick(pool, client), "and the overflow goes to the same next backend each time");
    }

    @Test
    void stickyCookieBringsTheClientBackAndCannotBeForged() {
        Candidates abc = pool(1, 1, 1);
        Sticky sticky = new Sticky(new RoundRobin());
        Backend first = sticky.pick(abc, ANY);
        RequestView returning = RequestView.of("192.0.2.1", "GET", "/", Map.of(), Map.of(Sticky.COOKIE, sticky.cookieValue(first)));
        for (int i = 0; i < 5; i++) {
            assertSame(first, sticky.pick(abc, returning), "round robin alone would have moved on");
        }
        RequestView forged = RequestView.of("192.0.2.1", "GET", "/", Map.of(), Map.of(Sticky.COOKIE, "127.0.0.1:20001"));
        assertEquals(List.of(1, 2), List.of(abc.all().indexOf(sticky.pick(abc, forged)), abc.all().indexOf(sticky.pick(abc, forged))),
                "an unknown cookie falls back to round robin");
        assertNotEquals(first, sticky.pick(abc.avoiding(List.of(first)), returning), "a pinned backend that is full or tried falls back too");
        assertNotEquals(sticky.cookieValue(first), new Sticky(new RoundRobin()).cookieValue(first), "each process signs with its own key");
        assertEquals(null, sticky.setCookie(returning, first), "no new cookie while the old one holds");
        String moved = sticky.setCookie(returning, abc.all().get(2));
        assertTrue(moved.startsWith(Sticky.COOKIE + "=" + sticky.cookieValue(abc.all().get(2)) + ";") && moved.contains("HttpOnly"), moved);
    }

    private static List<Integer> indexesOf(Candidates pool, Strategy strategy, int picks) {
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < picks; i++) {
            indexes.add(pool.all().indexOf(strategy.pick(pool, ANY)));
        }
        return indexes;
    }

    private static void load(Backend backend, int requests) {
        for (int i = 0; i < requests; i++) {
            backend.requestStarted();
        }
    }
}
