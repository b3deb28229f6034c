package model;

/**
 * Peak-EWMA of response latency, as in Finagle's and Linkerd's "peak EWMA" load balancer: a slower
 * sample than the average is taken at once (react fast to trouble), a faster one is blended in with a
 * weight that grows with the time since the last sample, and a reading decays toward zero while no
 * sample arrives, so a backend that was slow once is tried again later instead of starved forever.
 * Thread-safe: updates and reads synchronize on the tracker, once per response per backend. Public, with
 * the clock passed in, so tests can pin the blend at exact times.
 */
public final class LatencyTracker {
    private final double decayNanos;
    private double ewmaNanos;
    private long stampNanos;

    /** @param decayNanos time for an old sample's weight to fall to 1/e; Finagle's default is 10 s */
    public LatencyTracker(long decayNanos) {
        this.decayNanos = decayNanos;
    }

    public synchronized void record(long sampleNanos, long nowNanos) {
        if (sampleNanos > ewmaNanos) {
            ewmaNanos = sampleNanos;
        } else {
            double w = Math.exp(-Math.max(0, nowNanos - stampNanos) / decayNanos);
            ewmaNanos = ewmaNanos * w + sampleNanos * (1 - w);
        }
        stampNanos = nowNanos;
    }

    public synchronized long peakEwmaNanos(long nowNanos) {
        return (long) decayed(nowNanos);
    }

    private double decayed(long nowNanos) {
        long elapsed = Math.max(0, nowNanos - stampNanos);
        return ewmaNanos * Math.exp(-elapsed / decayNanos);
    }
}
