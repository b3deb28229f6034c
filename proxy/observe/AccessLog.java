// Every other file of this folder: scripts list this one and JBang follows //SOURCES into it.
//SOURCES CompletedRequest.java EventLog.java TrafficObserver.java UndertowLogging.java

package proxy.observe;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import text.Json;

/**
 * One line per request: Apache/nginx "combined" exactly ({@code $remote_addr - $remote_user [$time_local]
 * "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"}), then our fields after it as
 * nginx's {@code log_format} lets one add them ({@code backend=}, {@code attempts=}, {@code request_time=}
 * in seconds, {@code server_protocol=} and {@code ssl_protocol=} as nginx's variables; a tunnel adds {@code bytes_in=}, logged when
 * it closes), so GoAccess and the
 * usual grok patterns read it; or one JSON object per line. The IO thread only formats the line and offers it
 * to a bounded queue; one writer thread prints it, so a slow stdout never stalls the proxy. A full queue drops
 * the line and counts it ({@link #dropped()}). Thread-safe.
 */
public final class AccessLog implements TrafficObserver, AutoCloseable {
    public enum Format { COMBINED, JSON }

    private static final DateTimeFormatter CLF_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);
    private static final int QUEUED = 8_192;

    private final Format format;
    private final PrintStream out;
    private final DateTimeFormatter time;
    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUED);
    private final LongAdder dropped = new LongAdder();
    private final Thread writer;
    private volatile boolean closing;

    public AccessLog(Format format, PrintStream out) {
        this(format, out, ZoneId.systemDefault());
    }

    AccessLog(Format format, PrintStream out, ZoneId zone) {
        this.format = format;
        this.out = out;
        this.time = CLF_TIME.withZone(zone);
        this.writer = new Thread(this::write, "access-log");
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public void completed(CompletedRequest request) {
        String line = format == Format.JSON ? json(request, Instant.now()) : combined(request, Instant.now(), time);
        if (!queue.offer(line)) {
            dropped.increment();
        }
    }

    /** Lines not logged because the writer fell {@value #QUEUED} lines behind. */
    public long dropped() {
        return dropped.sum();
    }

    /** Writes what is queued, then stops the writer. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void write() {
        try {
            while (!closing || !queue.isEmpty()) {
                String line = queue.poll(100, TimeUnit.MILLISECONDS);
                if (line == null) {
                    continue;
                }
                out.println(line);
                if (queue.isEmpty()) {
                    out.flush(); // a burst goes out in one write; a lone line is not held back
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            out.flush();
        }
    }

    static String combined(CompletedRequest request, Instant now, DateTimeFormatter time) {
        return request.clientAddress() + " - - [" + time.format(now) + "] \"" + escape(requestLine(request))
                + "\" " + request.status() + " " + request.bytesSent() + " \"" + quoted(request.referer()) + "\" \"" + quoted(request.userAgent())
                + "\" backend=" + (request.backend() == null ? "-" : request.backend().name()) + " attempts=" + request.attempts()
                + " request_time=" + seconds(request)
                + " route=" + (request.route() == null ? "-" : request.route()) + " upstream=" + (request.upstream() == null ? "-" : request.upstream())
                + " server_protocol=" + (request.protocol().isEmpty() ? "-" : escape(request.protocol())) + " ssl_protocol=" + (request.tlsProtocol() == null ? "-" : request.tlsProtocol())
                + (request.tunnel() ? " bytes_in=" + request.bytesReceived() : "");
    }

    static String json(CompletedRequest request, Instant now) {
        return "{\"time\":\"" + now + "\",\"client\":" + Json.quote(request.clientAddress()) + ",\"method\":" + Json.quote(request.method())
                + ",\"path\":" + Json.quote(request.path()) + ",\"query\":" + Json.quote(request.query())
                + ",\"protocol\":" + Json.quote(request.protocol()) + ",\"status\":" + request.status()
                + ",\"bytes\":" + request.bytesSent() + ",\"ms\":" + String.format(Locale.ROOT, "%.3f", request.durationNanos() / 1e6)
                + ",\"referer\":" + (request.referer() == null ? "null" : Json.quote(request.referer()))
                + ",\"userAgent\":" + (request.userAgent() == null ? "null" : Json.quote(request.userAgent()))
                + ",\"backend\":" + (request.backend() == null ? "null" : Json.quote(request.backend().name()))
                + ",\"attempts\":" + request.attempts()
                + ",\"route\":" + (request.route() == null ? "null" : Json.quote(request.route()))
                + ",\"upstream\":" + (request.upstream() == null ? "null" : Json.quote(request.upstream()))
                + ",\"sslProtocol\":" + (request.tlsProtocol() == null ? "null" : Json.quote(request.tlsProtocol()))
                + (request.tunnel() ? ",\"bytesIn\":" + request.bytesReceived() : "") + "}";
    }

    /** "METHOD target PROTOCOL"; a refused line without that shape is logged as it came, as nginx logs it. */
    private static String requestLine(CompletedRequest request) {
        String target = request.query().isEmpty() ? request.path() : request.path() + "?" + request.query();
        return request.method().isEmpty() && request.protocol().isEmpty() ? target : request.method() + " " + target + " " + request.protocol();
    }

    /** A header's value for a quoted field: "-" when absent, as Apache and nginx write it. */
    private static String quoted(String value) {
        return value == null || value.isEmpty() ? "-" : escape(value);
    }

    /** nginx's escaping of logged strings: '"', '\' and bytes outside printable ASCII as \xHH, so a client cannot break the line. */
    static String escape(String value) {
        StringBuilder escaped = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
            if (plain) {
                if (escaped != null) escaped.append(c);
                continue;
            }
            if (escaped == null) escaped = new StringBuilder(value.length() + 8).append(value, 0, i);
            escaped.append(String.format(Locale.ROOT, "\\x%02X", (int) c & 0xff));
        }
        return escaped == null ? value : escaped.toString();
    }

    private static String seconds(CompletedRequest request) {
        return String.format(Locale.ROOT, "%.3f", request.durationNanos() / 1e9);
    }
}
