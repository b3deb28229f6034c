package strategies;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import proxy.Backend;

/**
 * Round robin: each backend in turn, ignoring weights, as nginx and HAProxy do by default.
 * Thread-safe and lock-free: one shared counter; {@code Math.floorMod} keeps the index valid when the
 * counter wraps past {@code Long.MAX_VALUE} (a plain {@code %} would go negative there).
 */
public final class RoundRobin implements Strategy {
    private final AtomicLong next;

    public RoundRobin() {
        this(0);
    }

    /** Starts the rotation at {@code start}: tests use it to cross the overflow boundary. */
    public RoundRobin(long start) {
        this.next = new AtomicLong(start);
    }

    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        return candidates.get(Math.floorMod(next.getAndIncrement(), candidates.size()));
    }
}
