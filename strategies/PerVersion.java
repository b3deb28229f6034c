package strategies;

import java.util.List;
import java.util.function.Function;
import model.Backend;
import model.Candidates;

/**
 * One structure a strategy derives from the pool's list (a hash ring, a weighted schedule, a cookie
 * table), built once per {@link Candidates#version()}: the pool publishes a new version whenever a
 * backend joins, leaves, changes weight or health, so a pick is a lookup, and a retry (the same
 * version, with backends to avoid) reuses it. Thread-safe: the structure is immutable and published
 * through a volatile field; two threads may build the same version at once, and either result is fine.
 */
final class PerVersion<T> {
    private record Built<T>(long version, T value) {}

    private final Function<List<Backend>, T> build;
    private volatile Built<T> built;

    PerVersion(Function<List<Backend>, T> build) {
        this.build = build;
    }

    /** The structure for {@code candidates}' version, built now if it is a version not seen yet. */
    T of(Candidates candidates) {
        Built<T> current = built;
        if (current == null || current.version != candidates.version()) {
            current = new Built<>(candidates.version(), build.apply(candidates.all()));
            built = current;
        }
        return current.value;
    }
}
