package admin;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One backend's response times, in HdrHistogram (Gil Tene's High Dynamic Range Histogram, three
 * significant digits: any percentile within 0.1%): a {@link Recorder} takes samples lock-free on the IO
 * threads, and once a second {@link #closeSecond()} swaps out its interval histogram, adds it to the
 * since-start one and returns it, so the history keeps per-second percentiles and a recent window.
 * Thread-safe: {@code record} is wait-free; the readers synchronize among themselves.
 */
final class LatencyRecorder {
    private static final int DIGITS = 3;

    private final Recorder recorder = new Recorder(DIGITS);
    private final Histogram sinceStart = new Histogram(DIGITS);
    private final Histogram thisSecond = new Histogram(DIGITS);
    private Histogram recycled;

    /** Records one response time; microseconds are plenty for HTTP and keep the histograms small. */
    void record(long nanos) {
        recorder.recordValue(Math.max(1, nanos / 1_000));
    }

    /** Moves what was recorded since the last call into the since-start and this-second histograms. */
    private void drain() {
        recycled = recorder.getIntervalHistogram(recycled);
        sinceStart.add(recycled);
        thisSecond.add(recycled);
    }

    /** The percentile ({@code 0 to 100}) since start, in milliseconds; 0 when nothing was recorded. */
    synchronized double sinceStartMillis(double percentile) {
        drain();
        return sinceStart.getTotalCount() == 0 ? 0 : sinceStart.getValueAtPercentile(percentile) / 1e3;
    }

    /** Requests recorded since start (as of now). */
    synchronized long sinceStartCount() {
        drain();
        return sinceStart.getTotalCount();
    }

    /** Ends the current second: returns a copy of what it recorded and starts the next one empty. */
    synchronized Histogram closeSecond() {
        drain();
        Histogram second = thisSecond.copy();
        thisSecond.reset();
        return second;
    }
}
