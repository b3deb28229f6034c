package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import model.PoolEvent;
import org.junit.jupiter.api.Test;
import proxy.observe.EventLog;

/**
 * Events are typed where they are made: the log keeps the kind and backend its maker gave, and prints the text,
 * never reading either back out of the wording (a backend named like an event word, or a reworded line, would
 * otherwise mark the wrong thing on the dashboard).
 */
class EventLogTest {
    @Test
    void theKindAndBackendAreTheMakersNotReadFromTheText() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        EventLog log = new EventLog(new PrintStream(printed, true, StandardCharsets.UTF_8));
        log.record(new PoolEvent(PoolEvent.Kind.DRAINED, "ejected", "backend ejected draining"));
        log.record(PoolEvent.of(PoolEvent.Kind.RELOADED, "SIGHUP: reloaded lb.yaml: backend removed from api"));

        List<EventLog.Event> kept = log.recent();
        assertEquals(List.of(PoolEvent.Kind.DRAINED, PoolEvent.Kind.RELOADED), kept.stream().map(EventLog.Event::kind).toList());
        assertEquals("ejected", kept.get(0).backend());
        assertEquals(null, kept.get(1).backend(), "a reload is about no single backend, whatever its text names");
        assertEquals(List.of("backend ejected draining", "SIGHUP: reloaded lb.yaml: backend removed from api"),
                printed.toString(StandardCharsets.UTF_8).lines().toList());
    }
}
