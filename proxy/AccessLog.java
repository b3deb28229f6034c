package proxy;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One line per request, in nginx's "combined"-like text or as JSON: client, time, method, path,
 * status, bytes, total time, chosen backend and attempts. Off unless {@code --access-log} asks for it,
 * so a proxy that does not log pays nothing. Thread-safe: each line is one println on a shared stream.
 */
public final class AccessLog implements TrafficObserver {
    public enum Format { COMBINED, JSON }

    private static final DateTimeFormatter CLF_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Format format;
    private final PrintStream out;

    public AccessLog(Format format, PrintStream out) {
        this.format = format;
        this.out = out;
    }

    @Override
    public void completed(CompletedRequest request) {
        out.println(format == Format.JSON ? json(request, Instant.now()) : combined(request, Instant.now()));
    }

    static String combined(CompletedRequest request, Instant now) {
        String target = request.query().isEmpty() ? request.path() : request.path() + "?" + request.query();
        return request.clientAddress() + " - - [" + CLF_TIME.format(now) + "] \"" + request.method() + " " + target + "\" "
                + request.status() + " " + request.bytesSent() + " " + millis(request) + "ms backend="
                + (request.backend() == null ? "-" : request.backend().name()) + " attempts=" + request.attempts();
    }

    static String json(CompletedRequest request, Instant now) {
        return "{\"time\":\"" + now + "\",\"client\":" + Json.quote(request.clientAddress()) + ",\"method\":" + Json.quote(request.method())
                + ",\"path\":" + Json.quote(request.path()) + ",\"query\":" + Json.quote(request.query()) + ",\"status\":" + request.status()
                + ",\"bytes\":" + request.bytesSent() + ",\"ms\":" + millis(request)
                + ",\"backend\":" + (request.backend() == null ? "null" : Json.quote(request.backend().name()))
                + ",\"attempts\":" + request.attempts() + "}";
    }

    private static String millis(CompletedRequest request) {
        return String.format(Locale.ROOT, "%.3f", request.durationNanos() / 1e6);
    }
}
