package demo;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import io.undertow.util.SameThreadExecutor;
import org.xnio.IoUtils;

/**
 * One demo backend: a small Undertow server on 127.0.0.1 that answers
 * <ul>
 *   <li>{@code /health}: {@code 200 ok};</li>
 *   <li>{@code /bytes?n=N}: N bytes of {@link #patternByte(long)}, streamed (for large-download tests);</li>
 *   <li>anything else: JSON naming this backend and echoing the method, path, query, headers, and the
 *       body's length and SHA-256 (hashed as it streams in, so any size fits in bounded memory).</li>
 * </ul>
 * {@link Faults} make it slow or flaky on purpose. Thread-safe; the delay is a timer on the IO thread,
 * not a sleeping thread.
 */
public final class DemoServer {
    /** Deliberate misbehaviour: wait {@code delay} before answering; answer 500 to a share of requests. */
    public record Faults(Duration delay, double errorRate) {
        public static final Faults NONE = new Faults(Duration.ZERO, 0);
    }

    private final String name;
    private final Undertow server;
    private final int port;
    private final Faults faults;
    private final AtomicLong requests = new AtomicLong();

    private DemoServer(String name, int port, Faults faults) {
        this.name = name;
        this.faults = faults;
        this.server = Undertow.builder()
                .setIoThreads(1)
                .setWorkerThreads(4)
                .addHttpListener(port, "127.0.0.1")
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE) // Undertow's default is 2 MiB
                .setHandler(this::handle)
                .build();
        server.start();
        this.port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    /** Starts a backend on {@code port} (0: a free one) and returns once it accepts connections. */
    public static DemoServer start(String name, int port, Faults faults) {
        return new DemoServer(name, port, faults);
    }

    public String name() { return name; }

    public int port() { return port; }

    public String url() { return "http://127.0.0.1:" + port; }

    /** Requests answered or being answered, health checks included. */
    public long requestCount() { return requests.get(); }

    public void stop() { server.stop(); }

    /** The byte at {@code index} of every {@code /bytes} body: cheap to check without storing it. */
    public static byte patternByte(long index) {
        return (byte) (index % 251);
    }

    private void handle(HttpServerExchange exchange) {
        requests.incrementAndGet();
        String path = exchange.getRequestPath();
        if (path.equals("/health")) {
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
            exchange.getResponseSender().send("ok\n");
        } else if (path.equals("/bytes")) {
            exchange.dispatch(() -> streamBytes(exchange));
        } else {
            MessageDigest sha256 = sha256();
            long[] length = {0};
            exchange.getRequestReceiver().receivePartialBytes((ex, bytes, last) -> {
                sha256.update(bytes);
                length[0] += bytes.length;
                if (last) {
                    answerAfterDelay(ex, echo(ex, length[0], HexFormat.of().formatHex(sha256.digest())));
                }
            }, (ex, error) -> {
                ex.setStatusCode(500);
                ex.getResponseSender().send("could not read the request body: " + error.getMessage() + "\n");
            });
        }
    }

    private void answerAfterDelay(HttpServerExchange exchange, String echo) {
        Runnable answer = () -> {
            boolean fail = faults.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < faults.errorRate();
            exchange.setStatusCode(fail ? 500 : 200);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
            exchange.getResponseHeaders().put(Headers.SERVER, name);
            exchange.getResponseSender().send(fail ? "{\"backend\":" + Json.quote(name) + ",\"error\":\"injected failure\"}\n" : echo);
        };
        long delayMillis = faults.delay().toMillis();
        if (delayMillis > 0) {
            // Marks the exchange as still running, then answers from a timer: no thread sleeps.
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> exchange.getIoThread().executeAfter(answer, delayMillis, TimeUnit.MILLISECONDS));
        } else {
            answer.run();
        }
    }

    private String echo(HttpServerExchange exchange, long bodyLength, String bodySha256) {
        StringBuilder json = new StringBuilder(512);
        json.append("{\"backend\":").append(Json.quote(name))
            .append(",\"port\":").append(port)
            .append(",\"method\":").append(Json.quote(exchange.getRequestMethod().toString()))
            .append(",\"path\":").append(Json.quote(exchange.getRequestPath()))
            .append(",\"query\":").append(Json.quote(exchange.getQueryString()))
            .append(",\"headers\":{");
        String separator = "";
        for (HeaderValues values : exchange.getRequestHeaders()) {
            json.append(separator).append(Json.quote(values.getHeaderName().toString().toLowerCase(Locale.ROOT)))
                .append(':').append(Json.quote(String.join(", ", values)));
            separator = ",";
        }
        json.append("},\"bodyLength\":").append(bodyLength)
            .append(",\"bodySha256\":").append(Json.quote(bodySha256))
            .append("}\n");
        return json.toString();
    }

    private void streamBytes(HttpServerExchange exchange) {
        long n;
        try {
            Deque<String> values = exchange.getQueryParameters().get("n");
            n = values == null ? 0 : Long.parseLong(values.getFirst());
        } catch (NumberFormatException e) {
            exchange.setStatusCode(400);
            exchange.getResponseSender().send("n must be a whole number of bytes\n");
            return;
        }
        exchange.startBlocking();
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/octet-stream");
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, n);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = exchange.getOutputStream()) {
            for (long sent = 0; sent < n; ) {
                int size = (int) Math.min(chunk.length, n - sent);
                for (int i = 0; i < size; i++) {
                    chunk[i] = patternByte(sent + i);
                }
                out.write(chunk, 0, size);
                sent += size;
            }
        } catch (IOException e) {
            IoUtils.safeClose(exchange.getConnection()); // the client went away mid-body
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
