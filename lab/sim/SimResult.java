package lab.sim;

import java.util.Arrays;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * What one simulated run measured after its warm-up: every answered request's time in system (sorted),
 * how many each backend served, errors, requests no backend could take, and how many requests were
 * already at the chosen backend when one arrived (the queue length it joined; the last bucket holds
 * "63 or more"). Immutable by convention: the arrays are not handed out to be changed.
 */
public record SimResult(String strategy, long[] sortedNanos, long[] served, long errors, long unanswered, long[] queueSeen) {

    public double meanMillis() {
        return Arrays.stream(sortedNanos).average().orElse(0) / 1e6;
    }

    /** Nearest-rank percentile in milliseconds: {@code quantile} 0.99 is p99. */
    public double percentileMillis(double quantile) {
        if (sortedNanos.length == 0) return 0;
        int rank = (int) Math.ceil(quantile * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, rank))] / 1e6;
    }

    /** Backend {@code i}'s share of the answered requests, 0 to 1. */
    public double share(int i) {
        long total = Arrays.stream(served).sum();
        return total == 0 ? 0 : served[i] / (double) total;
    }

    /**
     * One line, the strategy's name first: {@code round-robin  mean=1.234 p50=... p99=... p99.9=... ms
     * share b1=33.3% ...}. Past 20 backends the shares are summed up as their lowest and highest.
     */
    public String line() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-22s mean=%.3f p50=%.3f p99=%.3f p99.9=%.3f ms  share",
                strategy, meanMillis(), percentileMillis(0.5), percentileMillis(0.99), percentileMillis(0.999)));
        if (served.length <= 20) {
            StringJoiner shares = new StringJoiner(" ", " ", "");
            for (int i = 0; i < served.length; i++) shares.add(String.format(Locale.ROOT, "b%d=%.1f%%", i + 1, 100 * share(i)));
            line.append(shares);
        } else {
            double low = 1, high = 0;
            for (int i = 0; i < served.length; i++) {
                low = Math.min(low, share(i));
                high = Math.max(high, share(i));
            }
            line.append(String.format(Locale.ROOT, " of %d backends min=%.3f%% max=%.3f%%", served.length, 100 * low, 100 * high));
        }
        long answered = sortedNanos.length;
        if (errors > 0) line.append(String.format(Locale.ROOT, "  errors=%.2f%%", 100.0 * errors / answered));
        if (unanswered > 0) line.append("  unanswered=").append(unanswered);
        return line.toString();
    }
}
