package model;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Caps retries at a share of recent traffic, so that when backends fail together the proxy does not
 * multiply the load on them (Envoy's retry budget; Google SRE book, "Handling Overload"): a retry is
 * allowed while the retries of the last ten seconds stay under {@code percent} of the requests of the
 * same ten seconds, with a floor of ten so a quiet proxy can still retry. Counts live in ten one-second
 * buckets reused round-robin. Thread-safe and lock-free; under a race a count may land in a bucket as it
 * is recycled, which is fine for a budget.
 */
public final class RetryBudget {
    private static final int SECONDS = 10;
    private static final int FLOOR = 10;

    private final int percent;
    private final AtomicLongArray requests = new AtomicLongArray(SECONDS);
    private final AtomicLongArray retries = new AtomicLongArray(SECONDS);
    private final AtomicLongArray bucketSecond = new AtomicLongArray(SECONDS);
    private final LongSupplier nanoClock;

    /** @param percent retries allowed per 100 requests; 0 allows none */
    public RetryBudget(int percent) {
        this(percent, System::nanoTime);
    }

    /** @param nanoClock what {@link System#nanoTime()} would say: tests move it by hand across the ten seconds */
    public RetryBudget(int percent, LongSupplier nanoClock) {
        this.percent = percent;
        this.nanoClock = nanoClock;
    }

    public void requestArrived() {
        requests.incrementAndGet(bucket(nanoClock.getAsLong() / 1_000_000_000L));
    }

    /** Spends one retry if the budget allows it. */
    public boolean tryRetry() {
        if (percent <= 0) {
            return false;
        }
        long now = nanoClock.getAsLong() / 1_000_000_000L;
        long recentRequests = 0, recentRetries = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (now - bucketSecond.get(i) < SECONDS) {
                recentRequests += requests.get(i);
                recentRetries += retries.get(i);
            }
        }
        if (recentRetries >= Math.max(FLOOR, recentRequests * percent / 100)) {
            return false;
        }
        retries.incrementAndGet(bucket(now));
        return true;
    }

    /** The bucket for {@code second}, emptied first if it last held an older second. */
    private int bucket(long second) {
        int index = (int) Math.floorMod(second, (long) SECONDS);
        long held = bucketSecond.get(index);
        if (held != second && bucketSecond.compareAndSet(index, held, second)) {
            requests.set(index, 0);
            retries.set(index, 0);
        }
        return index;
    }
}
