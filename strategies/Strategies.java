package strategies;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one registry of strategies: the command line, its help text, {@code --list-strategies} and the
 * conformance tests are all generated from {@link #ALL}. To add a strategy, write its class in this
 * folder and add one line here. Immutable, so thread-safe.
 */
public final class Strategies {
    /** A strategy's command-line name, its one-line description and how to build it. */
    public record Entry(String name, String description, Function<StrategyOptions, Strategy> factory) {
        public Strategy create(StrategyOptions options) {
            return factory.apply(options);
        }
    }

    public static final String DEFAULT = "round-robin";

    public static final List<Entry> ALL = List.of(
            new Entry("round-robin", "each backend in turn; ignores weights", options -> new RoundRobin()));

    private Strategies() {}

    public static Optional<Entry> byName(String name) {
        return ALL.stream().filter(entry -> entry.name().equals(name)).findFirst();
    }

    /** "round-robin, random, ...": for error messages and help text. */
    public static String names() {
        return ALL.stream().map(Entry::name).collect(Collectors.joining(", "));
    }
}
