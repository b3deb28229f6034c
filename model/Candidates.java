package model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The backends one request may go to, as a strategy is handed them: one version of a pool's list (in
 * pool order, the same for every request until a backend joins, leaves, changes weight or changes
 * health) and the backends of it this request must avoid (already tried, full, or still warming up).
 * A strategy builds what it derives from {@link #all()} (a ring, a schedule) once per {@link #version()}
 * and skips the avoided ones when it picks, as HAProxy's {@code chash_get_server_hash(p, hash, avoid)}
 * does (src/lb_chash.c). Immutable, so thread-safe.
 */
public final class Candidates {
    private static final AtomicLong VERSIONS = new AtomicLong();

    private final long version;
    private final List<Backend> all;
    private final Set<Backend> avoid;
    private final int allowedCount;

    private Candidates(long version, List<Backend> all, Set<Backend> avoid) {
        this.version = version;
        this.all = all;
        this.avoid = avoid;
        int allowed = all.size();
        if (!avoid.isEmpty()) {
            for (Backend backend : all) {
                if (avoid.contains(backend)) {
                    allowed--;
                }
            }
        }
        this.allowedCount = allowed;
    }

    /** A new version of {@code backends}, nothing avoided: what the pool publishes after each change. */
    public static Candidates of(List<Backend> backends) {
        return new Candidates(VERSIONS.incrementAndGet(), List.copyOf(backends), Set.of());
    }

    /** The same version, with {@code backends} avoided too: how a retry, a full or a cold backend is expressed. */
    public Candidates avoiding(Collection<Backend> backends) {
        if (backends.isEmpty()) {
            return this;
        }
        List<Backend> more = new ArrayList<>(avoid);
        more.addAll(backends);
        return new Candidates(version, all, Set.copyOf(more));
    }

    /** Changes whenever the list changes in membership, weight or health; never repeats, across pools too. */
    public long version() {
        return version;
    }

    /** Every backend of this version, avoided ones included, in pool order; immutable. */
    public List<Backend> all() {
        return all;
    }

    public boolean isAvoided(Backend backend) {
        return !avoid.isEmpty() && avoid.contains(backend);
    }

    /** How many backends of {@link #all()} may take this request. */
    public int allowedCount() {
        return allowedCount;
    }

    /** The {@code index}-th backend that may take this request, in pool order: O(1) when none is avoided, O(n) otherwise. */
    public Backend allowed(int index) {
        if (avoid.isEmpty()) {
            return all.get(index);
        }
        int seen = 0;
        for (int i = 0; i < all.size(); i++) { // indexed: no iterator to allocate on the IO thread
            Backend backend = all.get(i);
            if (!avoid.contains(backend) && seen++ == index) {
                return backend;
            }
        }
        throw new IndexOutOfBoundsException(index + " of " + allowedCount + " allowed backends");
    }

    @Override
    public String toString() {
        return "version " + version + " of " + all.size() + " backends, " + allowedCount + " allowed";
    }
}
