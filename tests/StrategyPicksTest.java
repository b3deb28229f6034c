package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static tests.StrategyConformanceTest.pool;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.random.RandomGenerator;
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

    /**
     * Each --hash-key form hashes what it names: requests with the same path (or cookie) from 50
     * different clients go where a header with that same value sends them, since the key's text is
     * what is hashed; a request without the cookie goes where its client address sends it.
     */
    @Test
    void everyHashKeyFormHashesWhatItNames() {
        Candidates pool = pool(1, 1, 1, 1, 1);
        Strategy byHeader = new Hash(HashKey.parse("header:X-Key")), byPath = new Hash(HashKey.parse("path"));
        Strategy byCookie = new Hash(HashKey.parse("cookie:session")), byClient = new Hash(HashKey.CLIENT);
        int differsFromClient = 0;
        for (int i = 0; i < 50; i++) {
            String value = "/item/" + i, client = "198.51.100." + i;
            Backend expected = byHeader.pick(pool, RequestView.of("192.0.2.1", "GET", "/", Map.of("X-Key", value), Map.of()));
            assertSame(expected, byPath.pick(pool, RequestView.of(client, "GET", value, Map.of(), Map.of())), "path " + value);
            assertSame(expected, byCookie.pick(pool, RequestView.of(client, "GET", "/", Map.of(), Map.of("session", value))), "cookie " + value);
            RequestView noCookie = RequestView.of(client, "GET", value, Map.of(), Map.of("other", value));
            assertSame(byClient.pick(pool, noCookie), byCookie.pick(pool, noCookie), "no session cookie: hashed on the client");
            differsFromClient += expected != byClient.pick(pool, RequestView.fromClient(client)) ? 1 : 0;
        }
        assertTrue(differsFromClient > 20, "the path and cookie keys must not be the client address in disguise: " + differsFromClient);
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
        assertEquals(null, sticky.pinningCookie(returning, first), "no new cookie while the old one holds");
        String moved = sticky.pinningCookie(returning, abc.all().get(2));
        assertTrue(moved.startsWith(Sticky.COOKIE + "=" + sticky.cookieValue(abc.all().get(2)) + ";") && moved.contains("HttpOnly"), moved);
    }

    /**
     * Golden values: a key must reach the same backend in every release, and in every copy of the load
     * balancer during a rolling upgrade, or clients lose their caches and sessions. These picks over 100
     * backends pin the hash itself (FNV-1a over the key's UTF-8 bytes, then MurmurHash3's fmix64; checked
     * once against both computed over String.getBytes(UTF_8)) and the ring's 160 points per backend. The
     * keys cover each UTF-8 length at its edges (U+007F/U+0080, U+07FF/U+0800, U+FFFF, surrogate pairs
     * up to U+10FFFF) and lone surrogates, which hash as '?' as getBytes(UTF_8) encodes them.
     * If this fails after a deliberate change of the hash, say so in the release notes.
     */
    @Test
    void hashMapsKeysToTheSameBackendsAsEveryEarlierRelease() {
        int[] weights = new int[100];
        Arrays.fill(weights, 1);
        Candidates hundred = pool(weights);
        Strategy byUser = new Hash(HashKey.parse("header:X-User"));
        Map<String, Integer> golden = new LinkedHashMap<>();
        golden.put("alice", 83);
        golden.put("bob", 1);
        golden.put("user-42", 29);
        golden.put("\u007F", 75);
        golden.put("\u0080", 65);
        golden.put("\u00E9", 30);
        golden.put("\u00DF", 3);
        golden.put("\u07FF", 32);
        golden.put("\u0800", 58);
        golden.put("\u20ACuro", 34);
        golden.put("\u65E5\u672C\u8A9E", 62);
        golden.put("\uFFFF", 46);
        golden.put("\uD83D\uDE00", 40);
        golden.put("\uDB40\uDC41", 20);
        golden.put("\uDBFF\uDFFF", 71);
        golden.put("a\uD800b", 72);
        golden.put("a?b", 72);
        golden.put("a\uD800", 2);
        golden.put("a?", 2);
        golden.put("\uDC00x", 5);
        golden.put("?x", 5);
        Map<String, Integer> actual = new LinkedHashMap<>();
        for (String key : golden.keySet()) {
            RequestView request = RequestView.of("192.0.2.1", "GET", "/", Map.of("X-User", key), Map.of());
            actual.put(key, hundred.all().indexOf(byUser.pick(hundred, request)));
        }
        assertEquals(golden, actual);
    }

    /** The same for a weighted pool (1 to 5): a backend's points on the ring are 160 per unit of its weight. */
    @Test
    void hashMapsKeysOverAWeightedPoolAsEveryEarlierRelease() {
        Candidates weighted = pool(1, 2, 3, 4, 5);
        Strategy byUser = new Hash(HashKey.parse("header:X-User"));
        List<Integer> picks = new ArrayList<>();
        for (int key = 0; key < 40; key++) {
            picks.add(weighted.all().indexOf(byUser.pick(weighted, RequestView.of("192.0.2.1", "GET", "/", Map.of("X-User", "user-" + key), Map.of()))));
        }
        assertEquals(List.of(3, 1, 3, 4, 4, 4, 3, 2, 1, 3, 4, 0, 4, 1, 3, 4, 3, 4, 4, 1, 4, 4, 2, 0, 3, 4, 3, 4, 3, 2, 0, 3, 2, 4, 3, 3, 3, 4, 2, 3), picks);
    }

    /**
     * A retry moves on round the ring as an overflow does: with a key's owner avoided, hash picks the
     * next backend after it on the ring, the same one bounded-load hashing picks when the owner is full.
     */
    @Test
    void aRetryOnTheRingGoesWhereAnOverflowGoes() {
        for (int key = 0; key < 30; key++) {
            Candidates pool = pool(1, 1, 1, 1, 1);
            RequestView request = StrategyConformanceTest.request(key);
            Backend owner = new Hash(HashKey.CLIENT).pick(pool, request);
            Backend retry = new Hash(HashKey.CLIENT).pick(pool.avoiding(List.of(owner)), request);
            load(owner, 3); // cap with 3 in flight: ceil(1.25 × 4 / 5) = 1: full
            assertSame(retry, new ConsistentHash(HashKey.CLIENT, 1.25).pick(pool, request), "key " + key);
        }
    }

    @Test
    void aBalanceFactorMustBeAboveOne() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new ConsistentHash(HashKey.CLIENT, 1.0));
        assertEquals("--hash-balance-factor must be above 1 (1.25 lets a backend carry 25% over its share), got 1.0", error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ConsistentHash(HashKey.CLIENT, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new ConsistentHash(HashKey.CLIENT, Double.NaN));
    }

    /** A request with no client address (a Unix socket, say) and no key hashes the empty text rather than failing. */
    @Test
    void aRequestWithNoKeyAtAllHashesTheEmptyText() {
        Candidates pool = pool(1, 1, 1, 1, 1);
        RequestView nothing = RequestView.of(null, "GET", "/", Map.of(), Map.of());
        RequestView emptyHeader = RequestView.of("192.0.2.1", "GET", "/", Map.of("X-User", ""), Map.of());
        assertSame(new Hash(HashKey.parse("header:X-User")).pick(pool, emptyHeader), new Hash(HashKey.CLIENT).pick(pool, nothing));
    }

    /**
     * A pool too large for a precomputed schedule (300 backends of weight 999 or 1000: 300 × 299,850
     * steps would pass 2^26) steps the smooth weights live instead, with the same promise: with nearly
     * equal weights, every backend has its turn in each run of 300 picks.
     */
    @Test
    void weightedRoundRobinStepsLiveOverAHugePool() {
        int[] weights = new int[300];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = i % 2 == 0 ? 1000 : 999;
        }
        Candidates huge = pool(weights);
        Strategy strategy = new WeightedRoundRobin();
        for (int run = 0; run < 3; run++) {
            assertEquals(300, new HashSet<>(indexesOf(huge, strategy, 300)).size(), "run " + run);
        }
    }

    /** Load per unit of weight, compared both ways round: 1 in flight on weight 1 is more than 2 on weight 3. */
    @Test
    void leastConnectionsComparesLoadPerWeightWhicheverComesFirst() {
        Candidates lightFirst = pool(1, 3);
        load(lightFirst.all().get(0), 1);
        load(lightFirst.all().get(1), 2);
        assertSame(lightFirst.all().get(1), new LeastConnections(new Random(1)).pick(lightFirst, ANY));
        assertSame(lightFirst.all().get(1), new PowerOfTwo(new Random(1)).pick(lightFirst, ANY));
        Candidates heavyFirst = pool(3, 1);
        load(heavyFirst.all().get(0), 2);
        load(heavyFirst.all().get(1), 1);
        assertSame(heavyFirst.all().get(0), new LeastConnections(new Random(1)).pick(heavyFirst, ANY));
        assertSame(heavyFirst.all().get(0), new PowerOfTwo(new Random(1)).pick(heavyFirst, ANY));
    }

    /**
     * Power of two draws two distinct backends: when the second draw repeats the first it draws again,
     * twice at most, then takes the next allowed backend round the list. Draws scripted: a has 5 requests
     * in flight, b 1, c none, so which one wins says which two were compared.
     */
    @Test
    void powerOfTwoRedrawsASecondIndexTwiceThenTakesTheNextAllowed() {
        Candidates abc = pool(1, 1, 1);
        load(abc.all().get(0), 5);
        load(abc.all().get(1), 1);
        Backend b = abc.all().get(1), c = abc.all().get(2);
        assertSame(c, new PowerOfTwo(new ScriptedRandom(0, 2)).pick(abc, ANY), "a against c: no redraw");
        assertSame(c, new PowerOfTwo(new ScriptedRandom(0, 0, 2)).pick(abc, ANY), "a twice, then c on the first redraw");
        assertSame(c, new PowerOfTwo(new ScriptedRandom(0, 0, 0, 2)).pick(abc, ANY), "c on the second redraw");
        assertSame(b, new PowerOfTwo(new ScriptedRandom(0, 0, 0, 0, 2)).pick(abc, ANY),
                "a four times: no third redraw, a is compared with the next one, b");
        assertSame(c, new PowerOfTwo(new ScriptedRandom(0, 0, 0, 0, 2)).pick(abc.avoiding(List.of(b)), ANY),
                "with b avoided, the next allowed after a is c");

        Candidates quietFirst = pool(1, 1, 1);
        load(quietFirst.all().get(1), 1);
        load(quietFirst.all().get(2), 5);
        assertSame(quietFirst.all().get(0), new PowerOfTwo(new ScriptedRandom(2, 2, 2, 2)).pick(quietFirst, ANY),
                "the next after the last backend is the first, going round");
        Candidates idle = pool(1, 1, 1);
        assertSame(idle.all().get(0), new PowerOfTwo(new ScriptedRandom(0, 1)).pick(idle, ANY), "a tie goes to the first drawn");
        assertSame(idle.all().get(1), new PowerOfTwo(new ScriptedRandom(1, 0)).pick(idle, ANY), "a tie goes to the first drawn");
    }

    /**
     * The bounded-load cap at small loads, over 4 backends and factor 1.25: the key's ring owner keeps
     * it while the requests it already carries are at most ceil(1.25 × (in flight + 1) × its weight /
     * total weight), counting only backends that are not avoided.
     */
    @Test
    void consistentHashCapsTheOwnerAtItsShareOfTheLoadRoundedUp() {
        assertTrue(ownerKeeps(new int[] {1, 1, 1, 1}, 1, new int[] {0, 0, 0}, false), "1 in flight: cap ceil(1.25 × 2 / 4) = 1, and 1 is within it");
        assertFalse(ownerKeeps(new int[] {1, 1, 1, 1}, 2, new int[] {0, 0, 0}, false), "2 in flight: cap ceil(1.25 × 3 / 4) = 1");
        assertTrue(ownerKeeps(new int[] {1, 1, 1, 1}, 5, new int[] {4, 4, 4}, false), "17 in flight: cap ceil(1.25 × 18 / 4) = 6");
        assertTrue(ownerKeeps(new int[] {1, 1, 1, 1}, 7, new int[] {4, 4, 4}, false), "19 in flight: cap ceil(1.25 × 20 / 4) = 7");
        assertFalse(ownerKeeps(new int[] {1, 1, 1, 1}, 8, new int[] {4, 4, 4}, false), "20 in flight: cap ceil(1.25 × 21 / 4) = 7");
        assertTrue(ownerKeeps(new int[] {2, 1, 1}, 2, new int[] {0, 0}, false), "owner of weight 2 of 4: cap ceil(1.25 × 3 × 2 / 4) = 2");
        assertFalse(ownerKeeps(new int[] {2, 1, 1}, 5, new int[] {0, 0}, false), "owner of weight 2 of 4: cap ceil(1.25 × 6 × 2 / 4) = 4");
        assertTrue(ownerKeeps(new int[] {1, 1, 1, 1}, 2, new int[] {0, 0, 0}, true),
                "one other backend avoided: cap ceil(1.25 × 3 / 3) = 2 over the 3 allowed, not 1 over all 4");
    }

    /**
     * Whether the ring owner of some key, of weight {@code weights[0]}, keeps it with {@code ownerLoad}
     * requests in flight and the other backends carrying {@code othersLoad}; with {@code avoidOne}, the
     * last of the others (idle) is avoided.
     */
    private static boolean ownerKeeps(int[] weights, int ownerLoad, int[] othersLoad, boolean avoidOne) {
        Candidates pool = pool(weights);
        Strategy bounded = new ConsistentHash(HashKey.CLIENT, 1.25);
        Strategy plain = new Hash(HashKey.CLIENT);
        RequestView client = null;
        for (int i = 1; client == null; i++) { // the first client address the first backend owns
            RequestView candidate = RequestView.fromClient("192.0.2." + i);
            if (plain.pick(pool, candidate) == pool.all().get(0)) {
                client = candidate;
            }
        }
        Backend owner = pool.all().get(0);
        load(owner, ownerLoad);
        for (int i = 0; i < othersLoad.length; i++) {
            load(pool.all().get(i + 1), othersLoad[i]);
        }
        Candidates candidates = avoidOne ? pool.avoiding(List.of(pool.all().get(pool.all().size() - 1))) : pool;
        return bounded.pick(candidates, client) == owner;
    }

    /**
     * Least latency's cost for a backend with no answer yet (Finagle's rule): 0 while idle, so it is
     * tried before any measured one; above any measured one while it has requests in flight, the fewer
     * the better. A measured one costs latency × (in flight + 1) / weight.
     */
    @Test
    void leastLatencyTriesAnUnmeasuredBackendFirstUnlessItIsBusy() {
        Candidates ab = pool(1, 1);
        Backend a = ab.all().get(0), b = ab.all().get(1);
        a.requestStarted();
        a.requestFinished(1_000_000);
        assertPicksOnly(b, ab, "an idle backend with no latency yet costs nothing");
        b.requestStarted();
        assertPicksOnly(a, ab, "once it has a request in flight and no answer, it costs more than any measured one");

        Candidates twoBusy = pool(1, 1);
        load(twoBusy.all().get(0), 3);
        load(twoBusy.all().get(1), 1);
        assertPicksOnly(twoBusy.all().get(1), twoBusy, "of two unmeasured busy backends, the one with fewer in flight");

        Candidates weighted = pool(1, 4);
        for (Backend backend : weighted.all()) {
            backend.requestStarted();
            backend.requestFinished(10_000_000);
        }
        load(weighted.all().get(0), 1); // 10 ms × 2 / 1 = 20 ms
        load(weighted.all().get(1), 2); // 10 ms × 3 / 4 = 7.5 ms
        assertPicksOnly(weighted.all().get(1), weighted, "the same latency: in flight + 1 per unit of weight decides");
        load(weighted.all().get(1), 6); // 10 ms × 9 / 4 = 22.5 ms against 20 ms: now the other is cheaper
        assertPicksOnly(weighted.all().get(0), weighted, "latency × (in flight + 1) / weight");
    }

    private static void assertPicksOnly(Backend expected, Candidates pool, String why) {
        Strategy strategy = new LeastLatency(new Random(5));
        for (int i = 0; i < 20; i++) {
            assertSame(expected, strategy.pick(pool, ANY), why);
        }
    }

    /** A random source that answers bounded draws from a script, in order, and fails past its end. */
    private static final class ScriptedRandom implements RandomGenerator {
        private final long[] draws;
        private int next;

        ScriptedRandom(long... draws) {
            this.draws = draws;
        }

        @Override
        public long nextLong(long bound) {
            long draw = draws[next++];
            assertTrue(draw < bound, "scripted draw " + draw + " is not below " + bound);
            return draw;
        }

        @Override
        public int nextInt(int bound) {
            return (int) nextLong(bound);
        }

        @Override
        public long nextLong() {
            throw new UnsupportedOperationException("only bounded draws are scripted");
        }
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
