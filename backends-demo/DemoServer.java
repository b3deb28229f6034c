package demo;

import admin.OwnAddress;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.xnio.IoUtils;
import org.xnio.Options;
import proxy.request.DroppedRequestHeaders;
import text.Json;
import text.Units;

/**
 * One demo backend: a small Undertow server on 127.0.0.1 that answers
 * <ul>
 *   <li>{@code /health}: {@code 200 ok};</li>
 *   <li>{@code /bytes?n=N}: N bytes of {@link #patternByte(long)}, streamed (for large-download tests);</li>
 *   <li>{@code /_control}: GET shows the faults, POST changes them at run time, both only with the
 *       process's {@link #controlToken()} in {@code X-LB-Demo-Token}, its own Host and no foreign Origin:
 *       {@code ?delay=200ms&jitter=100ms&error-rate=0.1&mode=ok|reset|reset-mid-body|hang}, and
 *       {@code ?kill=5s} stops listening for that long, then comes back on the same port;</li>
 *   <li>anything else: JSON naming this backend and echoing the method, path, query, headers, and the
 *       body's length and SHA-256 (hashed as it streams in, so any size fits in bounded memory).</li>
 * </ul>
 * {@link Faults} make it slow or flaky on purpose; {@code /health} and {@code /_control} always answer
 * while it listens. Thread-safe: the faults are one immutable value swapped whole; a delay is a timer
 * on the IO thread, not a sleeping thread.
 */
public final class DemoServer {
    /**
     * Deliberate misbehaviour: wait {@code delay} plus up to {@code jitter} more before answering,
     * answer 500 to a share {@code errorRate} of requests, or break the connection as {@code mode} says.
     */
    public record Faults(Duration delay, Duration jitter, double errorRate, Mode mode) {
        public static final Faults NONE = new Faults(Duration.ZERO, 0);

        public Faults(Duration delay, double errorRate) {
            this(delay, Duration.ZERO, errorRate, Mode.OK);
        }

        public Faults {
            if (errorRate < 0 || errorRate > 1) {
                throw new IllegalArgumentException("error-rate must be between 0 and 1, got " + errorRate);
            }
        }
    }

    /** How a request's connection ends: answered, reset before any byte, reset halfway through the body, or never. */
    public enum Mode {
        OK, RESET, RESET_MID_BODY, HANG;

        static Mode parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mode must be ok, reset, reset-mid-body or hang, got '" + text + "'");
            }
        }
    }

    /** The header that carries {@link #controlToken()}; the same name the proxy drops from client requests. */
    public static final String TOKEN_HEADER = DroppedRequestHeaders.DEMO_TOKEN_HEADER;
    private static final String CONTROL_TOKEN = newToken();

    private static String newToken() {
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    private static final ScheduledExecutorService REVIVALS = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "demo-revivals");
        thread.setDaemon(true);
        return thread;
    });

    private final String name;
    private volatile Undertow server;
    private final int port;
    private final OwnAddress own;
    private volatile Faults faults;
    private final AtomicLong requests = new AtomicLong();
    private Socket placeholder; // while not listening: holds the port, bound but refusing connections
    private volatile String revivalFailure; // why the last try to listen again failed, or null

    private DemoServer(String name, int port, Faults faults) {
        this.name = name;
        this.faults = faults;
        this.server = listen(port);
        this.port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
        this.own = new OwnAddress("127.0.0.1", this.port);
    }

    private Undertow listen(int port) {
        Undertow undertow = Undertow.builder()
                .setIoThreads(1)
                .setWorkerThreads(4)
                .addHttpListener(port, "127.0.0.1")
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, Long.MAX_VALUE) // Undertow's default is 2 MiB
                .setHandler(this::handle)
                .build();
        undertow.start();
        return undertow;
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

    public synchronized void stop() {
        server.stop();
        IoUtils.safeClose(placeholder);
        placeholder = null;
    }

    public Faults faults() { return faults; }

    /** Changes how it misbehaves from the next request on. */
    public void setFaults(Faults faults) { this.faults = faults; }

    /**
     * Stops listening (open connections close) and starts again on the same port after {@code downtime}.
     * A failed revival is printed to standard error and kept in {@link #revivalFailure()}.
     */
    public void kill(Duration downtime) {
        stopListening();
        REVIVALS.schedule(this::reviveOrReport, downtime.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops listening, so connections are refused, but keeps the port bound (a socket bound and not
     * listening refuses connections on Linux), so nothing else can take it before {@link #listenAgain()}.
     */
    public synchronized void stopListening() {
        if (placeholder != null) {
            return;
        }
        server.stop();
        try {
            Socket hold = new Socket();
            hold.setReuseAddress(true);
            hold.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            placeholder = hold;
        } catch (IOException e) {
            System.err.println("demo backend " + name + " could not hold port " + port + " while down: " + e.getMessage());
        }
    }

    /**
     * Listens again on its port after {@link #stopListening()}.
     *
     * @throws UncheckedIOException when the port cannot be bound again, saying why
     */
    public synchronized void listenAgain() {
        if (placeholder == null) {
            return;
        }
        IoUtils.safeClose(placeholder);
        placeholder = null;
        try {
            server = listen(port);
            revivalFailure = null;
        } catch (RuntimeException e) {
            revivalFailure = "could not listen again on port " + port + ": " + e.getMessage();
            throw new UncheckedIOException(new IOException("demo backend " + name + " " + revivalFailure, e));
        }
    }

    /** Why the last revival after {@link #kill} failed, or null when it did not. */
    public String revivalFailure() { return revivalFailure; }

    private void reviveOrReport() {
        try {
            listenAgain();
        } catch (UncheckedIOException e) {
            System.err.println(e.getCause().getMessage()); // a scheduler thread has no caller to throw to
        }
    }

    /**
     * The secret every {@code /_control} request must carry in {@link #TOKEN_HEADER}: random, new in each
     * process, held by the admin side only (DemoControl calls in process; a standalone DemoBackend
     * prints it to its operator). The load balancer never forwards that header from a client.
     */
    public static String controlToken() {
        return CONTROL_TOKEN;
    }

    private static boolean hasControlToken(HttpServerExchange exchange) {
        String sent = exchange.getRequestHeaders().getFirst(TOKEN_HEADER);
        return sent != null && MessageDigest.isEqual(sent.trim().getBytes(StandardCharsets.UTF_8), CONTROL_TOKEN.getBytes(StandardCharsets.UTF_8));
    }

    /** The byte at {@code index} of every {@code /bytes} body: cheap to check without storing it. */
    public static byte patternByte(long index) {
        return (byte) (index % 251);
    }

    private void handle(HttpServerExchange exchange) {
        requests.incrementAndGet();
        String path = exchange.getRequestPath();
        if (path.equals("/_control")) {
            control(exchange);
        } else if (path.equals("/health")) {
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

    private void control(HttpServerExchange exchange) {
        Map<String, Deque<String>> query = exchange.getQueryParameters();
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST), origin = exchange.getRequestHeaders().getFirst(Headers.ORIGIN);
        // Its own Host and Origin stop a web page (as on the admin port); the token, which only this
        // process and its admin side hold, stops a client of a load balancer in front, which may send
        // any Host it likes. The refusal names no port: through a proxy, it would map the pool.
        if (own.refusalOfRead(host, origin) != null || !hasControlToken(exchange)) {
            exchange.setStatusCode(403);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
            exchange.getResponseSender().send("403 Forbidden: /_control answers only requests sent straight to this backend with its control token\n");
            return;
        }
        if (exchange.getRequestMethod().equalToString("POST")) {
            try {
                Faults now = faults;
                setFaults(new Faults(
                        query.containsKey("delay") ? Units.parseDuration(query.get("delay").getFirst()) : now.delay(),
                        query.containsKey("jitter") ? Units.parseDuration(query.get("jitter").getFirst()) : now.jitter(),
                        query.containsKey("error-rate") ? Double.parseDouble(query.get("error-rate").getFirst()) : now.errorRate(),
                        query.containsKey("mode") ? Mode.parse(query.get("mode").getFirst()) : now.mode()));
                if (query.containsKey("kill")) {
                    Duration downtime = Units.parseDuration(query.get("kill").getFirst());
                    exchange.getResponseSender().send("{\"backend\":" + Json.quote(name) + ",\"down for ms\":" + downtime.toMillis() + "}\n");
                    REVIVALS.schedule(() -> kill(downtime), 50, TimeUnit.MILLISECONDS); // after this answer has gone out
                    return;
                }
            } catch (IllegalArgumentException e) {
                exchange.setStatusCode(400);
                exchange.getResponseSender().send(e.getMessage() + "\n");
                return;
            }
        }
        Faults now = faults;
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send("{\"backend\":" + Json.quote(name) + ",\"delay ms\":" + now.delay().toMillis()
                + ",\"jitter ms\":" + now.jitter().toMillis() + ",\"error-rate\":" + now.errorRate()
                + ",\"mode\":" + Json.quote(now.mode().name().toLowerCase(Locale.ROOT).replace('_', '-')) + "}\n");
    }

    private void answerAfterDelay(HttpServerExchange exchange, String echo) {
        Faults faults = this.faults;
        Runnable answer = () -> {
            switch (faults.mode()) {
                case RESET -> {
                    abort(exchange);
                    return;
                }
                case HANG -> {
                    return; // the exchange stays open until the client gives up
                }
                case RESET_MID_BODY -> {
                    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, echo.length() * 2L);
                    exchange.getResponseSender().send(echo, new ResetAfterSend());
                    return;
                }
                default -> { }
            }
            boolean fail = faults.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < faults.errorRate();
            exchange.setStatusCode(fail ? 500 : 200);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
            exchange.getResponseHeaders().put(Headers.SERVER, name);
            exchange.getResponseSender().send(fail ? "{\"backend\":" + Json.quote(name) + ",\"error\":\"injected failure\"}\n" : echo);
        };
        long jitter = faults.jitter().toMillis();
        long delayMillis = faults.delay().toMillis() + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
        if (delayMillis > 0 || faults.mode() == Mode.HANG) {
            // Marks the exchange as still running, then answers from a timer: no thread sleeps.
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> exchange.getIoThread().executeAfter(answer, delayMillis, TimeUnit.MILLISECONDS));
        } else {
            answer.run();
        }
    }

    /** Closes the connection with a TCP reset (SO_LINGER 0), not a clean FIN. */
    private static void abort(HttpServerExchange exchange) {
        try {
            exchange.getConnection().setOption(Options.CLOSE_ABORT, true);
        } catch (IOException e) {
            // closing below is what matters
        }
        IoUtils.safeClose(exchange.getConnection());
    }

    /** After the first half of a body has gone out, resets the connection instead of sending the rest. */
    private static final class ResetAfterSend implements IoCallback {
        @Override
        public void onComplete(HttpServerExchange exchange, Sender sender) {
            abort(exchange);
        }

        @Override
        public void onException(HttpServerExchange exchange, Sender sender, IOException exception) {
            abort(exchange);
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
