package strategies;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import model.Strategy;

/**
 * The one registry of strategies: the command line, its help text, {@code --list-strategies}, the
 * conformance tests and the benchmark are all generated from {@link #ALL}. To add a strategy, write its
 * class in this folder, then name its file on the {@code //SOURCES} lines and add its entry to
 * {@link #ALL}, both here; its traits tell the conformance tests which promises to check.
 * Immutable, so thread-safe.
 */
public final class Strategies {
    /** Promises a strategy makes, which the conformance tests hold it to. */
    public enum Trait {
        /** With equal weights and equal load, every backend gets about the same share. */
        EVEN,
        /** With equal load, each backend's share follows its weight. */
        WEIGHTED,
        /** The same key goes to the same backend; a departing backend moves only its own keys. */
        HASHING,
        /** Sends less to a backend with many requests in flight. */
        LOAD_AWARE,
        /** Sends less to a backend that answers slowly, and more again once it recovers. */
        LATENCY_AWARE,
        /** Never puts more than its cap of the requests in flight on one backend. */
        BOUNDED_LOAD
    }

    /** A strategy's command-line name, its one-line description, its traits and how to build it. */
    public record Entry(String name, String description, Set<Trait> traits, Function<StrategyOptions, Strategy> factory) {
        /** @throws IllegalArgumentException when an option it reads (such as the hash key) is malformed */
        public Strategy create(StrategyOptions options) {
            return factory.apply(options);
        }

        public boolean has(Trait trait) {
            return traits.contains(trait);
        }
    }

    public static final String DEFAULT = "round-robin";

    /** Names kept working after a rename: weighted-round-robin is what round-robin does now. */
    private static final Map<String, String> FORMER_NAMES = Map.of("weighted-round-robin", "round-robin");

    // Every file of this folder by name, so a script that lists this registry compiles them all (JBang
    // follows //SOURCES into a listed file; a script run from a remote catalog alias cannot expand a glob).
//SOURCES ConsistentHash.java First.java Hash.java HashKey.java HashRing.java Hashing.java LeastConnections.java LeastLatency.java
//SOURCES Load.java PerVersion.java PowerOfTwo.java RoundRobin.java Sticky.java StrategyOptions.java
//SOURCES WeightedRandom.java WeightedRoundRobin.java
    public static final List<Entry> ALL = List.of(
            // The default follows weights, as nginx's and HAProxy's default round robin do: a user who
            // writes weight=3 and changes nothing else gets three picks in four.
            new Entry("round-robin", "in turn, in proportion to weight, spread out (nginx's smooth weighted round robin)",
                    EnumSet.of(Trait.EVEN, Trait.WEIGHTED), options -> new WeightedRoundRobin()),
            new Entry("unweighted-round-robin", "each backend in turn, ignoring weights (the textbook version, for comparison)",
                    EnumSet.of(Trait.EVEN), options -> new RoundRobin()),
            new Entry("random", "at random, in proportion to weight",
                    EnumSet.of(Trait.EVEN, Trait.WEIGHTED), options -> new WeightedRandom(options.random())),
            new Entry("power-of-two", "the less busy of two random picks (Envoy's least-request)",
                    EnumSet.of(Trait.EVEN, Trait.WEIGHTED, Trait.LOAD_AWARE), options -> new PowerOfTwo(options.random())),
            new Entry("least-connections", "the fewest requests in flight per unit of weight",
                    EnumSet.of(Trait.EVEN, Trait.LOAD_AWARE), options -> new LeastConnections(options.random())),
            new Entry("least-latency", "the lower latency x load of two random picks (Finagle's peak EWMA)",
                    EnumSet.of(Trait.EVEN, Trait.LOAD_AWARE, Trait.LATENCY_AWARE), options -> new LeastLatency(options.random())),
            new Entry("ip-hash", "the same client address to the same backend (consistent hashing)",
                    EnumSet.of(Trait.HASHING), options -> new Hash(HashKey.CLIENT)),
            new Entry("hash", "the same --hash-key (header, cookie, path) to the same backend",
                    EnumSet.of(Trait.HASHING), options -> new Hash(HashKey.parse(options.hashKey()))),
            new Entry("consistent-hash", "sticky by --hash-key, but no backend over its fair share x --hash-balance-factor",
                    EnumSet.of(Trait.HASHING, Trait.BOUNDED_LOAD), options -> new ConsistentHash(HashKey.parse(options.hashKey()), options.balanceFactor())),
            new Entry("sticky", "a signed cookie brings each client back to its first backend",
                    EnumSet.of(Trait.EVEN), options -> new Sticky(new WeightedRoundRobin())),
            new Entry("first", "the first backend that is up, in the order given (fallbacks)",
                    EnumSet.noneOf(Trait.class), options -> new First()));

    private Strategies() {}

    /** The entry of this name, or of the name it now goes by (a former name still works on the command line). */
    public static Optional<Entry> byName(String name) {
        String current = FORMER_NAMES.getOrDefault(name, name);
        return ALL.stream().filter(entry -> entry.name().equals(current)).findFirst();
    }

    /** "round-robin, random, ...": for error messages and help text. */
    public static String names() {
        return ALL.stream().map(Entry::name).collect(Collectors.joining(", "));
    }
}
