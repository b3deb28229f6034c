package lab.sim;

import java.util.function.LongSupplier;

/** Simulated time in nanoseconds, which the model's backends read instead of {@link System#nanoTime()}. Not thread-safe: one simulation, one thread. */
final class SimClock implements LongSupplier {
    private long nanos;

    @Override
    public long getAsLong() {
        return nanos;
    }

    void advanceTo(long nanos) {
        this.nanos = nanos;
    }
}
