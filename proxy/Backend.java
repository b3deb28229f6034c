package proxy;

import io.undertow.client.UndertowClient;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.xnio.OptionMap;
import org.xnio.Options;

/**
 * One upstream server: its address, its weight, the proxy's live bookkeeping about it (requests in
 * flight, response latency) and its own pool of keep-alive connections.
 * Thread-safe: counters are atomics, written by the proxy on IO threads and read by strategies.
 */
public final class Backend {
    /** Weights above this are refused: they would only overflow weighted arithmetic. */
    public static final int MAX_WEIGHT = 1_000;

    private final URI uri;
    private final String name;
    private volatile int weight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final LatencyTracker latency;
    private final ProxyConnectionPool connections;
    private final BackendHealth health = new BackendHealth();

    /** A backend with default connection settings; opens no connection until a request needs one. */
    public Backend(URI uri, int weight) {
        this(uri, weight, BackendSettings.DEFAULTS);
    }

    public Backend(URI uri, int weight, BackendSettings settings) {
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be between 1 and " + MAX_WEIGHT + ", got " + weight);
        }
        this.uri = uri;
        this.name = uri.getHost() + ":" + uri.getPort();
        this.weight = weight;
        this.latency = new LatencyTracker(settings.latencyDecay().toNanos());
        // The pool keeps its own error state (a refused connect marks the host as a problem for a
        // while), so each backend gets its own manager instance.
        this.connections = new ProxyConnectionPool(settings.newManager(), uri, UndertowClient.getInstance(),
                OptionMap.create(Options.TCP_NODELAY, true));
    }

    /** A weight-1 backend for "http://host:port": the short form tests and benchmarks use. */
    public static Backend of(String uri) {
        return new Backend(URI.create(uri), 1);
    }

    public URI uri() { return uri; }

    /** "host:port": how logs, banners and the demo backends name this backend. */
    public String name() { return name; }

    public int weight() { return weight; }

    /** Package-private: only {@link BackendPool#reweigh} may change it, since it must also renew the pool's list. */
    void setWeight(int weight) {
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be between 1 and " + MAX_WEIGHT + ", got " + weight);
        }
        this.weight = weight;
    }

    /** Whether it may take requests, and the counters behind that. */
    public BackendHealth health() { return health; }

    /** Requests sent to this backend whose exchange has not completed yet. */
    public int inFlight() { return inFlight.get(); }

    /** Requests sent to this backend since start. */
    public long requests() { return requests.get(); }

    /** Peak-EWMA of response latency in nanoseconds (0 before the first response). */
    public long latencyNanos() { return latency.peakEwmaNanos(System.nanoTime()); }

    /** Called by the proxy when a request is handed to this backend. */
    public void requestStarted() {
        inFlight.incrementAndGet();
        requests.incrementAndGet();
    }

    /** Called by the proxy exactly once per {@link #requestStarted()}, when the exchange completes. */
    public void requestFinished(long latencyNanos) {
        inFlight.decrementAndGet();
        if (latencyNanos >= 0) {
            latency.record(latencyNanos, System.nanoTime());
        }
    }

    ProxyConnectionPool connections() { return connections; }

    void close() { connections.close(); }

    @Override
    public String toString() {
        return weight == 1 ? uri.toString() : uri + " (weight " + weight + ")";
    }
}
