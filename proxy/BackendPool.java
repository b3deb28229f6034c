package proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * The backends the proxy balances over. Copy-on-write: readers (every request, on every IO thread)
 * take {@link #snapshot()} without a lock and get an immutable list that stays the same instance until
 * the pool changes, so strategies can cache what they derive from it; the rare writers lock and swap.
 */
public final class BackendPool {
    private volatile List<Backend> backends;

    public BackendPool(List<Backend> backends) {
        this.backends = List.copyOf(backends);
    }

    /** The current backends, in the order they were given; immutable. */
    public List<Backend> snapshot() {
        return backends;
    }

    public synchronized void add(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        next.add(backend);
        backends = List.copyOf(next);
    }

    /** Takes a backend out of rotation; requests already sent to it finish normally. */
    public synchronized boolean remove(Backend backend) {
        List<Backend> next = new ArrayList<>(backends);
        boolean removed = next.remove(backend);
        backends = List.copyOf(next);
        return removed;
    }

    /** Closes every backend's idle connections; call once the proxy has stopped. */
    public void close() {
        backends.forEach(Backend::close);
    }
}
