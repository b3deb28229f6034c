package proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * The backends the proxy balances over, and those of them that may take requests now; plus backups,
 * which take requests only when no primary backend can (nginx's and HAProxy's "backup"). Copy-on-write:
 * readers (every request, on every IO thread) take {@link #eligible()} without a lock and get an
 * immutable list that stays the same instance until the pool or a backend's health changes, so
 * strategies can cache what they derive from it; the rare writers lock and swap.
 */
public final class BackendPool {
    private volatile List<Backend> backends;
    private final List<Backend> backups;
    private volatile List<Backend> eligible;
    private volatile List<Backend> eligibleBackups;

    public BackendPool(List<Backend> backends) {
        this(backends, List.of());
    }

    public BackendPool(List<Backend> backends, List<Backend> backups) {
        this.backends = List.copyOf(backends);
        this.backups = List.copyOf(backups);
        this.eligible = this.backends;
        this.eligibleBackups = this.backups;
        refresh();
    }

    /** The backups that are up and not ejected: where requests go when no primary can take them. */
    public List<Backend> eligibleBackups() {
        return eligibleBackups;
    }

    /** The primaries, up or not: what panic mode falls back to. */
    public List<Backend> primaries() {
        return backends;
    }

    /** Every backend, primaries then backups: what health checks and statistics look at. */
    public List<Backend> all() {
        if (backups.isEmpty()) {
            return backends;
        }
        List<Backend> all = new ArrayList<>(backends);
        all.addAll(backups);
        return all;
    }

    /** The backends that are up and not ejected, in pool order; immutable. Empty when none is. */
    public List<Backend> eligible() {
        return eligible;
    }

    /** Recomputes {@link #eligible()} after a health change; keeps the same list when nothing changed. */
    public synchronized void refresh() {
        eligible = available(backends, eligible);
        eligibleBackups = available(backups, eligibleBackups);
    }

    /** The available ones of {@code list}: {@code previous} again if unchanged, so strategies' caches stay valid. */
    private static List<Backend> available(List<Backend> list, List<Backend> previous) {
        List<Backend> next = list.stream().filter(backend -> backend.health().isAvailable()).toList();
        if (next.equals(previous)) {
            return previous;
        }
        return next.size() == list.size() ? list : next;
    }

    public synchronized void add(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        next.add(backend);
        backends = List.copyOf(next);
        refresh();
    }

    /** Takes a backend out of rotation; requests already sent to it finish normally. */
    public synchronized boolean remove(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        boolean removed = next.remove(backend);
        backends = List.copyOf(next);
        refresh();
        return removed;
    }

    /**
     * Puts a backend into draining (no new requests; those in flight finish) or takes it out again.
     * Returns false when it is not in this pool.
     */
    public boolean drain(Backend backend, boolean draining) {
        if (!all().contains(backend)) {
            return false;
        }
        backend.health().setDraining(draining);
        refresh();
        return true;
    }

    /**
     * Changes a backend's weight. The pool's lists are renewed too, because strategies rebuild what
     * they derived from the weights (a schedule, a ring) only when the list they are handed changes.
     */
    public synchronized void reweigh(Backend backend, int weight) {
        backend.setWeight(weight);
        backends = List.copyOf(backends);
        eligible = null;
        refresh();
    }

    /** Closes every backend's idle connections; call once the proxy has stopped. */
    public void close() {
        all().forEach(Backend::close);
    }
}
