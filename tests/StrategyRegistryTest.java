package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import strategies.HashKey;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * What the command line reads strategies through: the registry's names and traits, {@code --hash-key}
 * forms and their errors, and the options' randomness (seeded repeats itself, unseeded does not stick).
 * No server: part of the mutation-testing set (tests/mutation.sh).
 */
class StrategyRegistryTest {
    @Test
    void everyStrategyIsFoundByItsNameAndListedInNames() {
        List<String> names = Strategies.ALL.stream().map(Strategies.Entry::name).toList();
        for (String name : names) {
            assertEquals(name, Strategies.byName(name).orElseThrow().name());
        }
        assertTrue(Strategies.byName("fastest").isEmpty());
        assertTrue(Strategies.byName("").isEmpty());
        assertEquals(String.join(", ", names), Strategies.names());
        assertTrue(Strategies.byName(Strategies.DEFAULT).isPresent());
    }

    /** The default follows weights (nginx's and HAProxy's default round robin do); the unweighted one says so in its name. */
    @Test
    void theDefaultFollowsWeightsAndTheFormerNameStillWorks() {
        assertTrue(Strategies.byName(Strategies.DEFAULT).orElseThrow().has(Strategies.Trait.WEIGHTED));
        assertFalse(Strategies.byName("unweighted-round-robin").orElseThrow().has(Strategies.Trait.WEIGHTED));
        assertEquals("round-robin", Strategies.byName("weighted-round-robin").orElseThrow().name());
        assertFalse(Strategies.ALL.stream().anyMatch(entry -> entry.name().equals("weighted-round-robin")), "one name per strategy: " + Strategies.names());
    }

    @Test
    void traitsSayWhatEachStrategyPromises() {
        assertTrue(Strategies.byName("ip-hash").orElseThrow().has(Strategies.Trait.HASHING));
        assertFalse(Strategies.byName("round-robin").orElseThrow().has(Strategies.Trait.HASHING));
        assertTrue(Strategies.byName("consistent-hash").orElseThrow().has(Strategies.Trait.BOUNDED_LOAD));
        assertFalse(Strategies.byName("first").orElseThrow().has(Strategies.Trait.EVEN));
    }

    @ParameterizedTest
    @ValueSource(strings = {"client", "CLIENT", "path", "header:X-User", "cookie:session", "Header:X-User"})
    void everyHashKeyFormIsAccepted(String spec) {
        assertEquals(spec.equalsIgnoreCase("client") ? "client" : spec, HashKey.parse(spec).toString());
    }

    @Test
    void noHashKeyMeansTheClientAddress() {
        assertSame(HashKey.CLIENT, HashKey.parse(null));
        assertEquals("client", HashKey.CLIENT.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"header:", "cookie:  ", "header", "cookie", "query:q", "bogus", ""})
    void aBadHashKeyIsRefusedShowingTheFormsThatWork(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HashKey.parse(spec));
        assertTrue(e.getMessage().contains("expected client, path, header:NAME or cookie:NAME"), e.getMessage());
        assertTrue(e.getMessage().contains("'" + spec + "'"), e.getMessage());
    }

    @Test
    void defaultOptionsHashOnTheClientWithTheUsualBalanceFactorAndRealRandomness() {
        StrategyOptions options = StrategyOptions.defaults();
        assertNull(options.hashKey());
        assertEquals(1.25, options.balanceFactor());
        RandomGenerator random = options.random();
        Set<Integer> ints = new HashSet<>();
        Set<Long> longs = new HashSet<>(), bounded = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int n = random.nextInt(5);
            long m = random.nextLong(7);
            assertTrue(n >= 0 && n < 5 && m >= 0 && m < 7);
            ints.add(n);
            bounded.add(m);
            longs.add(random.nextLong());
        }
        assertEquals(5, ints.size(), "every value below the bound comes up");
        assertEquals(7, bounded.size());
        assertTrue(longs.size() > 190, "unbounded draws differ");

        StrategyOptions keyed = options.withHashKey("path");
        assertEquals("path", keyed.hashKey());
        assertSame(options.random(), keyed.random());
        assertEquals(options.balanceFactor(), keyed.balanceFactor());
    }

    @Test
    void theSameSeedGivesTheSameDraws() {
        RandomGenerator first = StrategyOptions.seeded(42), second = StrategyOptions.seeded(42), other = StrategyOptions.seeded(43);
        List<Integer> a = IntStream.range(0, 20).map(i -> first.nextInt(1000)).boxed().toList();
        List<Integer> b = IntStream.range(0, 20).map(i -> second.nextInt(1000)).boxed().toList();
        List<Integer> c = IntStream.range(0, 20).map(i -> other.nextInt(1000)).boxed().toList();
        assertEquals(a, b);
        assertNotEquals(a, c);
    }
}
