package text;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the human units the command lines take: durations ("250ms", "2s", "1m30s", "1h") and byte sizes
 * ("64k", "10m", "1g"). Errors say what a good value looks like. Stateless.
 */
public final class Units {
    private Units() {}

    /** What a duration looks like, for error messages. */
    public static final String DURATION_FORMS = "250ms, 30s, 1.5s, 1m30s or 1h";

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

    /**
     * "250ms", "30s", "1.5s", "1m30s", "1h": numbers each followed by a unit (h, m, s, ms); never
     * negative. A bare number is refused: nginx reads it as seconds and HAProxy as milliseconds, so
     * either guess surprises someone (a "--timeout 30" meant as seconds once gave every request a 504).
     * Units are lowercase only: nginx reads "5M" as five months, so guessing minutes would surprise too.
     */
    public static Duration parseDuration(String text) {
        String t = text.trim();
        if (t.matches("\\d+(\\.\\d+)?")) {
            throw new IllegalArgumentException("'" + text + "' has no unit; write it like " + DURATION_FORMS);
        }
        Matcher part = DURATION_PART.matcher(t);
        double millis = 0;
        int at = 0;
        while (at < t.length() && part.find(at) && part.start() == at) {
            double value = Double.parseDouble(part.group(1));
            millis += switch (part.group(2)) {
                case "h" -> value * 3_600_000;
                case "m" -> value * 60_000;
                case "s" -> value * 1_000;
                default -> value;
            };
            at = part.end();
        }
        if (at > 0 && at == t.length() && millis <= Integer.MAX_VALUE) {
            return Duration.ofMillis(Math.round(millis));
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration; write it like " + DURATION_FORMS);
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

    /** A duration as people say it: "250 ms", "10 s", "1 min 30 s", "2 h". */
    public static String formatDuration(long millis) {
        if (millis < 1_000) return millis + " ms";
        if (millis < 60_000) {
            return millis % 1_000 == 0 ? millis / 1_000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1e3);
        }
        long seconds = millis / 1_000;
        if (seconds < 3_600) return seconds / 60 + " min" + (seconds % 60 == 0 ? "" : " " + seconds % 60 + " s");
        return seconds / 3_600 + " h" + (seconds % 3_600 / 60 == 0 ? "" : " " + seconds % 3_600 / 60 + " min");
    }
}
