package strategies;

import java.util.concurrent.atomic.AtomicLong;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Unweighted round robin: each backend in turn, ignoring weights (nginx and HAProxy weight their
 * default round robin; this is the textbook version, kept to compare against); avoided backends are
 * left out of the turn, so the others still share evenly.
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
    public Backend pick(Candidates candidates, RequestView request) {
        return candidates.allowed((int) Math.floorMod(next.getAndIncrement(), (long) candidates.allowedCount()));
    }
}
