package lab;

import java.util.Random;

/**
 * The requests of one lab run, decided before it starts from a seed, so every strategy faces exactly
 * the same traffic: arrival times of an open-loop Poisson process (requests arrive on schedule whether
 * or not earlier ones were answered), and each request's user key, uniform or Zipf-skewed. Immutable.
 */
public record Workload(long[] arrivalNanos, String[] users) {
    static final int USERS = 1_000;

    public static Workload of(long seed, double ratePerSecond, double seconds, double zipf) {
        Random random = new Random(seed);
        int count = (int) (ratePerSecond * seconds);
        long[] arrivals = new long[count];
        String[] users = new String[count];
        double[] zipfCumulative = zipf > 0 ? zipfCumulative(zipf) : null;
        double at = 0;
        for (int i = 0; i < count; i++) {
            at += -Math.log(1 - random.nextDouble()) / ratePerSecond; // exponential gaps: Poisson arrivals
            arrivals[i] = (long) (at * 1e9);
            users[i] = "user-" + (zipfCumulative == null ? random.nextInt(USERS) : draw(zipfCumulative, random.nextDouble()));
        }
        return new Workload(arrivals, users);
    }

    /** Run {@code run} (0, 1, ...) of a --repeat series: each run its own seed, so repeats measure the spread, not one draw again. */
    public static Workload forRun(long seed, int run, double ratePerSecond, double seconds, double zipf) {
        return of(seedOfRun(seed, run), ratePerSecond, seconds, zipf);
    }

    /** The seed of run {@code run}: seed, seed + 1, ... as --repeat's help says. */
    public static long seedOfRun(long seed, int run) {
        return seed + run;
    }

    public int size() {
        return arrivalNanos.length;
    }

    private static double[] zipfCumulative(double exponent) {
        double[] cumulative = new double[USERS];
        double sum = 0;
        for (int rank = 1; rank <= USERS; rank++) {
            sum += 1 / Math.pow(rank, exponent);
            cumulative[rank - 1] = sum;
        }
        for (int i = 0; i < USERS; i++) {
            cumulative[i] /= sum;
        }
        return cumulative;
    }

    private static int draw(double[] cumulative, double u) {
        int low = 0, high = cumulative.length - 1;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (cumulative[middle] >= u) high = middle;
            else low = middle + 1;
        }
        return low;
    }
}
