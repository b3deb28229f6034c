package lab.sim;

import java.util.Locale;
import java.util.SplittableRandom;
import text.Units;

/**
 * A backend's service-time distribution, as a class types it: {@code const:10ms}, {@code exp:10ms}
 * (exponential, memoryless) or {@code lognormal:10ms,1.5} (log-normal with that mean and sigma of the
 * log: a heavy tail). Immutable; draws from the caller's random source.
 *
 * @param kind       "const", "exp" or "lognormal"
 * @param meanNanos  the mean service time
 * @param sigma      for lognormal, the standard deviation of log(service time); 0 otherwise
 */
public record Service(String kind, long meanNanos, double sigma) {
    /** Parses {@code const:10ms}, {@code exp:10ms} or {@code lognormal:10ms,1.5}; the message names the flag and the forms. */
    public static Service parse(String text) {
        String usage = "--service: expected const:10ms, exp:10ms or lognormal:10ms,1.5, got '" + text + "'";
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(usage);
        }
        String kind = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String[] parts = text.substring(colon + 1).split(",");
        long mean;
        try {
            mean = Units.parseDuration(parts[0].trim()).toNanos();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(usage);
        }
        if (mean <= 0) {
            throw new IllegalArgumentException("--service: the mean must be above zero, got '" + text + "'");
        }
        switch (kind) {
            case "const", "exp" -> {
                if (parts.length != 1) throw new IllegalArgumentException(usage);
                return new Service(kind, mean, 0);
            }
            case "lognormal" -> {
                double sigma;
                try {
                    sigma = parts.length == 2 ? Double.parseDouble(parts[1].trim()) : Double.NaN;
                } catch (NumberFormatException e) {
                    sigma = Double.NaN;
                }
                if (!(sigma > 0 && sigma <= 4)) throw new IllegalArgumentException(usage + " (sigma between 0 and 4)");
                return new Service(kind, mean, sigma);
            }
            default -> throw new IllegalArgumentException(usage);
        }
    }

    /** The same shape with its mean multiplied by {@code factor}: a slower backend. */
    public Service scaled(double factor) {
        return new Service(kind, Math.round(meanNanos * factor), sigma);
    }

    /** One service time in nanoseconds, at least 1. */
    public long draw(SplittableRandom random) {
        double value = switch (kind) {
            case "exp" -> -Math.log(1 - random.nextDouble()) * meanNanos;
            // mean of a log-normal is exp(mu + sigma^2/2), so mu = ln(mean) - sigma^2/2 keeps the mean as given
            case "lognormal" -> Math.exp(Math.log(meanNanos) - sigma * sigma / 2 + sigma * gaussian(random));
            default -> meanNanos;
        };
        return Math.max(1, Math.round(value));
    }

    /** A standard normal draw (Box-Muller), so the sequence is the same on every JDK for a seed. */
    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble(), v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    @Override
    public String toString() {
        String mean = meanNanos % 1_000_000 == 0 ? meanNanos / 1_000_000 + "ms" : String.format(Locale.ROOT, "%.3fms", meanNanos / 1e6);
        return kind + ":" + mean + (kind.equals("lognormal") ? "," + sigma : "");
    }
}
