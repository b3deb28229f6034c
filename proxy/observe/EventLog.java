package proxy.observe;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * Lifecycle events (a backend down, up, ejected, drained; the strategy changed), one line each: printed
 * to standard error as they happen (standard output is the access log's alone), and the last 200 kept
 * for the dashboard's timeline, each with its kind and backend so the charts can mark it. Thread-safe:
 * events are rare, so a lock is fine.
 */
public final class EventLog {
    /** What an event was about, for the dashboard's markers; read from its text, so every writer stays a one-liner. */
    public enum Kind { EJECTED, BACK, DOWN, UP, DRAINED, UNDRAINED, STRATEGY, WEIGHT, ADDED, REMOVED, BROKEN, HEALED, OTHER }

    /** One event: when, what kind, about which backend (null for none), and the text. */
    public record Event(Instant time, Kind kind, String backend, String text) {}

    private static final int KEPT = 200;
    private final Deque<Event> recent = new ArrayDeque<>();
    private final PrintStream out;

    public EventLog() {
        this(System.err);
    }

    public EventLog(PrintStream out) {
        this.out = out;
    }

    public void record(String text) {
        Event event = new Event(Instant.now(), kindOf(text), backendOf(text), text);
        out.println(text);
        synchronized (recent) {
            recent.addLast(event);
            if (recent.size() > KEPT) {
                recent.removeFirst();
            }
        }
    }

    /** The kept events, oldest first. */
    public List<Event> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }

    /** The kind, from the fixed wording of the health monitor's and the admin API's event lines. */
    static Kind kindOf(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.startsWith("strategy changed")) return Kind.STRATEGY;
        if (lower.startsWith("demo backend")) return lower.contains(" broken") ? Kind.BROKEN : Kind.HEALED;
        if (!lower.startsWith("backend ")) return Kind.OTHER;
        if (lower.contains(" ejected for ")) return Kind.EJECTED;
        if (lower.contains(" back in rotation after its ejection")) return Kind.BACK;
        if (lower.contains(" back in rotation after draining")) return Kind.UNDRAINED;
        if (lower.contains(" draining")) return Kind.DRAINED;
        if (lower.contains(" down after ")) return Kind.DOWN;
        if (lower.contains(" up after ")) return Kind.UP;
        if (lower.contains(" weight set to ")) return Kind.WEIGHT;
        if (lower.endsWith(" added")) return Kind.ADDED;
        if (lower.endsWith(" removed")) return Kind.REMOVED;
        return Kind.OTHER;
    }

    /** The backend's name: the word after "backend ", or null. */
    static String backendOf(String text) {
        int at = text.indexOf("backend ");
        if (at < 0) return null;
        int start = at + "backend ".length();
        int end = text.indexOf(' ', start);
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }
}
