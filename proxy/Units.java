package proxy;

import java.time.Duration;
import java.util.Locale;

/**
 * Reads the human units the command lines take: durations ("250ms", "2s", "1.5m") and byte sizes
 * ("64k", "10m", "1g"). Errors say what a good value looks like. Stateless.
 */
public final class Units {
    private Units() {}

    /** "250ms", "2s", "1.5s", "1m", or a bare number of milliseconds; never negative. */
    public static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            double millis;
            if (t.endsWith("ms")) millis = Double.parseDouble(t.substring(0, t.length() - 2));
            else if (t.endsWith("s")) millis = Double.parseDouble(t.substring(0, t.length() - 1)) * 1_000;
            else if (t.endsWith("m")) millis = Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000;
            else millis = Long.parseLong(t);
            if (millis >= 0 && millis <= Integer.MAX_VALUE) {
                return Duration.ofMillis(Math.round(millis));
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration; write it like 500ms, 2s or 1m");
    }

    /** "512", "64k", "10m", "1g" (binary multiples: k = 1024 bytes); positive. */
    public static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("b")) t = t.substring(0, t.length() - 1);
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long value = Long.parseLong(digits.trim());
            if (value > 0 && value <= Long.MAX_VALUE / unit) {
                return value * unit;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("'" + text + "' is not a size; write it like 64k, 10m or 1g");
    }
}
