package proxy;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Lifecycle events (a backend down, up, ejected, drained; the strategy changed), one line each: printed
 * to standard output as they happen, and the last 200 kept for the dashboard's timeline. Thread-safe:
 * events are rare, so a lock is fine.
 */
public final class EventLog {
    /** One event: when, and what happened. */
    public record Event(Instant time, String text) {}

    private static final int KEPT = 200;
    private final Deque<Event> recent = new ArrayDeque<>();

    public void record(String text) {
        Event event = new Event(Instant.now(), text);
        System.out.println(text);
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
