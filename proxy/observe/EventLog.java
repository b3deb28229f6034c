package proxy.observe;

import model.PoolEvent;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Lifecycle events (a backend down, up, ejected, drained; the strategy changed), one line each: printed
 * to standard error as they happen (standard output is the access log's alone), and the last 200 kept
 * for the dashboard's timeline, each with its kind and backend so the charts can mark it. Thread-safe:
 * events are rare, so a lock is fine.
 */
public final class EventLog {
    /** One event: when, what kind, about which backend (null for none), and the text. */
    public record Event(Instant time, PoolEvent.Kind kind, String backend, String text) {}

    private static final int KEPT = 200;
    private final Deque<Event> recent = new ArrayDeque<>();
    private final PrintStream out;

    public EventLog() {
        this(System.err);
    }

    public EventLog(PrintStream out) {
        this.out = out;
    }

    /** Prints the event's line and keeps it, with the kind and backend its maker gave it. */
    public void record(PoolEvent happened) {
        Event event = new Event(Instant.now(), happened.kind(), happened.backend(), happened.text());
        out.println(happened.text());
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
}
