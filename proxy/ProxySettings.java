package proxy;

import java.time.Duration;
import model.HealthSettings;

/**
 * How the proxy listens, how long it waits, what it tolerates and how it judges backends, as the command
 * line set it: one small record per concern, each with the defaults the command line shows. Tests start
 * from {@link #FOR_TESTS} and replace the one part they change. Immutable.
 */
public record ProxySettings(Listener listener, Timeouts timeouts, Limits limits, Backends backends, HealthSettings health) {
    /** The command line's defaults, listening on a free loopback port with two IO threads. */
    public static final ProxySettings FOR_TESTS = new ProxySettings(Listener.FOR_TESTS, Timeouts.DEFAULTS, Limits.DEFAULTS,
            Backends.DEFAULTS, HealthSettings.DEFAULTS);

    /**
     * Where the proxy listens and how it treats client connections.
     *
     * @param bindAddress  address to listen on ("0.0.0.0" for every interface)
     * @param port         port to listen on; 0 picks a free one
     * @param ioThreads    Undertow IO threads; every proxied request runs on one of them, never blocking
     * @param idleTimeout  a client connection idle (or a request's headers unfinished) this long is closed
     * @param drainTimeout on shutdown, how long in-flight requests may take to finish
     * @param tunnelIdleTimeout an upgraded connection (WebSocket) with no byte either way this long is closed
     */
    public record Listener(String bindAddress, int port, int ioThreads, Duration idleTimeout, Duration drainTimeout, Duration tunnelIdleTimeout) {
        /**
         * HAProxy's {@code timeout tunnel}; ten minutes: WebSocket libraries ping every 15-60 s (socket.io 25 s,
         * SignalR 15 s), so a tunnel silent that long is dead or parked, and a parked one holds a connection slot.
         * Declared before FOR_TESTS, whose constructor reads it.
         */
        public static final Duration TUNNEL_IDLE_DEFAULT = Duration.ofMinutes(10);
        public static final Listener FOR_TESTS = new Listener("127.0.0.1", 0, 2, Duration.ofSeconds(60), Duration.ofSeconds(10));

        public Listener(String bindAddress, int port, int ioThreads, Duration idleTimeout, Duration drainTimeout) {
            this(bindAddress, port, ioThreads, idleTimeout, drainTimeout, TUNNEL_IDLE_DEFAULT);
        }
    }

    /**
     * How long the proxy waits on each side.
     *
     * @param connect  a backend that has not accepted the connection by then counts as failed; the next is tried
     * @param response longest wait for a backend to start answering before a 504
     * @param body     a request body that stops arriving this long gets 408 (nginx's client_body_timeout)
     */
    public record Timeouts(Duration connect, Duration response, Duration body) {
        public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(60));
    }

    /**
     * The sizes the proxy accepts.
     *
     * @param maxBodyBytes           larger request bodies get 413
     * @param maxHeaderBytes         larger request heads (request line and headers) are refused
     * @param maxResponseHeaderBytes a backend response head (interim 1xx heads included) larger than this gets 502
     * @param maxClientConnections   client connections open at once (HAProxy's maxconn, nginx's worker_connections);
     *                               past it the one idle longest between requests is closed to make room, as
     *                               nginx does, or when none is idle a new one waits to be accepted
     */
    public record Limits(long maxBodyBytes, int maxHeaderBytes, int maxResponseHeaderBytes, int maxClientConnections) {
        public static final Limits DEFAULTS = new Limits(1L << 30, 64 * 1024, 64 * 1024, 4096);
    }

    /**
     * How much the proxy asks of its backends.
     *
     * @param maxInFlightPerBackend a backend with this many requests in flight takes no more; 0: no limit
     * @param retryPercent          retries allowed per 100 requests over the last 10 s (at least 10); 0: never retry
     */
    public record Backends(int maxInFlightPerBackend, int retryPercent) {
        public static final Backends DEFAULTS = new Backends(0, 20);
    }
}
