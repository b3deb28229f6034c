package strategies;

import java.util.List;
import java.util.function.Function;
import proxy.Backend;

/**
 * Keeps one structure a strategy derives from the pool (a hash ring, a weighted schedule), so picks
 * are lookups instead of scans. The proxy hands a strategy the same immutable list instance until the
 * pool changes, and a retry a fresh list of the backends not yet tried. So: the cached list is a hit; a
 * list seen twice in a row is the pool's new list and gets built and cached; a list seen once is
 * probably a retry's, and {@link #get} answers null so the strategy can serve it cheaply without
 * replacing the structure every request needs. Thread-safe: entries are immutable and published
 * through volatile fields; two threads may build at once, and either result is fine.
 */
final class PoolCache<T> {
    private record Entry<T>(List<Backend> list, T value) {}

    private final Function<List<Backend>, T> build;
    private volatile Entry<T> entry;
    private volatile List<Backend> seenOnce;

    PoolCache(Function<List<Backend>, T> build) {
        this.build = build;
    }

    /** The structure for {@code candidates}, or null when they look like a one-off retry list. */
    T get(List<Backend> candidates) {
        Entry<T> current = entry;
        if (current != null && current.list == candidates) {
            return current.value;
        }
        if (current == null || seenOnce == candidates) {
            current = new Entry<>(candidates, build.apply(candidates));
            entry = current;
            return current.value;
        }
        seenOnce = candidates;
        return null;
    }

    /** The last structure built, whatever list it was for; null before the first. */
    T last() {
        Entry<T> current = entry;
        return current == null ? null : current.value;
    }
}
