package proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * The backends the proxy balances over, and those of them that may take requests now. Copy-on-write:
 * readers (every request, on every IO thread) take {@link #eligible()} without a lock and get an
 * immutable list that stays the same instance until the pool or a backend's health changes, so
 * strategies can cache what they derive from it; the rare writers lock and swap.
 */
public final class BackendPool {
    private volatile List<Backend> backends;
    private volatile List<Backend> eligible;

    public BackendPool(List<Backend> backends) {
        this.backends = List.copyOf(backends);
        this.eligible = this.backends;
        refresh();
    }

    /** The backends that are up and not ejected, in pool order; immutable. Empty when none is. */
    public List<Backend> eligible() {
        return eligible;
    }

    /** Recomputes {@link #eligible()} after a health change; keeps the same list when nothing changed. */
    public synchronized void refresh() {
        List<Backend> next = backends.stream().filter(backend -> backend.health().isAvailable()).toList();
        if (!next.equals(eligible)) {
            eligible = next.size() == backends.size() ? backends : next;
        }
    }

    /** The current backends, in the order they were given; immutable. */
    public List<Backend> snapshot() {
        return backends;
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

    /** Closes every backend's idle connections; call once the proxy has stopped. */
    public void close() {
        backends.forEach(Backend::close);
    }
}
