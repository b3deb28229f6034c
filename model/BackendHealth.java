package model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether a backend may be sent requests: not while active health checks say it is down, and not while
 * passive detection has ejected it. Also the counters those decisions rest on. Thread-safe: the flags
 * are volatile, the counts atomic; the check streak is touched by the health monitor's one thread only.
 */
public final class BackendHealth {
    private volatile boolean checkedUp = true;
    private volatile boolean ejected;
    private volatile boolean draining;
    private volatile long warmingSinceNanos; // 0: not warming up
    private final AtomicInteger failuresInARow = new AtomicInteger();
    private final AtomicInteger ejections = new AtomicInteger();
    private int checkStreak; // > 0: good checks in a row; < 0: failed checks in a row
    private final AtomicLong ejectionsTotal = new AtomicLong();
    private final AtomicLong checksGood = new AtomicLong();
    private final AtomicLong checksFailed = new AtomicLong();
    private volatile long ejectedUntilMillis; // wall clock, for the dashboard's countdown

    /** Ejections since start, for /metrics. */
    public long ejectionsTotal() {
        return ejectionsTotal.get();
    }

    /** Active health checks answered well since start. */
    public long checksGood() {
        return checksGood.get();
    }

    /** Active health checks failed since start. */
    public long checksFailed() {
        return checksFailed.get();
    }

    /** When an ejected backend is due back, in epoch milliseconds; meaningless unless {@link #isEjected()}. */
    public long ejectedUntilMillis() {
        return ejectedUntilMillis;
    }

    void ejectedUntil(long epochMillis) {
        ejectedUntilMillis = epochMillis;
    }

    /** Up by the checks, not ejected, not draining. */
    public boolean isAvailable() {
        return checkedUp && !ejected && !draining;
    }

    public boolean isDraining() {
        return draining;
    }

    /** Draining: no new requests; those in flight finish. Pass false to put it back. */
    void setDraining(boolean draining) {
        this.draining = draining;
    }

    /**
     * The share of its normal traffic a backend that just came back should get: rising linearly from
     * 0 to 1 over {@code slowStartNanos} after its return; 1 when it is not warming up.
     */
    public double warmth(long nowNanos, long slowStartNanos) {
        long since = warmingSinceNanos;
        if (since == 0 || slowStartNanos <= 0) {
            return 1;
        }
        double warmth = (double) (nowNanos - since) / slowStartNanos;
        if (warmth >= 1) {
            warmingSinceNanos = 0;
            return 1;
        }
        return Math.max(warmth, 0.01);
    }

    /** It has just come back: its share ramps up from here. */
    void startWarming(long nowNanos) {
        warmingSinceNanos = nowNanos == 0 ? 1 : nowNanos;
    }

    public boolean isCheckedUp() {
        return checkedUp;
    }

    public boolean isEjected() {
        return ejected;
    }

    /** Counts a failed request; returns how many have failed in a row now. */
    int failed() {
        return failuresInARow.incrementAndGet();
    }

    /**
     * A good answer ends the run of failures, and the next ejection starts from the base time again.
     * Reads first and writes only on a change: this runs on every request.
     */
    void succeeded() {
        if (failuresInARow.get() != 0) {
            failuresInARow.set(0);
        }
        if (!ejected && ejections.get() != 0) {
            ejections.set(0);
        }
    }

    /** Takes the backend out; returns how many times it has been ejected in a row, this time included. */
    int eject() {
        ejected = true;
        ejectionsTotal.incrementAndGet();
        failuresInARow.set(0);
        return ejections.incrementAndGet();
    }

    void readmit() {
        ejected = false;
    }

    /**
     * Records one active check's result; returns the new checked state when {@code rise} good or
     * {@code fall} bad checks in a row change it, or null when it stays as it was.
     */
    Boolean checked(boolean good, int rise, int fall) {
        (good ? checksGood : checksFailed).incrementAndGet();
        checkStreak = good ? Math.max(checkStreak, 0) + 1 : Math.min(checkStreak, 0) - 1;
        if (!checkedUp && checkStreak >= rise) {
            checkedUp = true;
            return true;
        }
        if (checkedUp && -checkStreak >= fall) {
            checkedUp = false;
            return false;
        }
        return null;
    }
}
