package model;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * One upstream server as the balancing model sees it: its address, its weight, the proxy's live
 * bookkeeping about it (requests in flight, response latency) and its health. Its connections are not
 * here: the proxy keeps them beside it (see {@code proxy/BackendConnections}).
 * Thread-safe: counters are atomics, written by the proxy on IO threads and read by strategies.
 */
public final class Backend {
    /** Weights above this are refused: they would only overflow weighted arithmetic. */
    public static final int MAX_WEIGHT = 1_000;
    /** How long an old latency sample takes to fade to 1/e of its weight: Finagle's default. */
    public static final Duration DEFAULT_LATENCY_DECAY = Duration.ofSeconds(10);

    private final URI uri;
    private final String name;
    private volatile int weight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LatencyTracker latency;
    private final BackendHealth health = new BackendHealth();
    private final LongSupplier nanoClock;

    public Backend(URI uri, int weight) {
        this(uri, weight, DEFAULT_LATENCY_DECAY);
    }

    /** @param latencyDecay time for an old latency sample's weight to fall to 1/e */
    public Backend(URI uri, int weight, Duration latencyDecay) {
        this(uri, weight, latencyDecay, System::nanoTime);
    }

    /** @param nanoClock what {@link System#nanoTime()} would say: the lab's simulation passes its simulated time */
    public Backend(URI uri, int weight, Duration latencyDecay, LongSupplier nanoClock) {
        checkWeight(weight);
        this.nanoClock = nanoClock;
        this.uri = uri;
        this.name = uri.getHost() + ":" + uri.getPort();
        this.weight = weight;
        this.latency = new LatencyTracker(latencyDecay.toNanos());
    }

    /** A weight-1 backend for "http://host:port": the short form tests and benchmarks use. */
    public static Backend of(String uri) {
        return new Backend(URI.create(uri), 1);
    }

    public URI uri() { return uri; }

    /** "host:port": how logs, banners and the demo backends name this backend. */
    public String name() { return name; }

    public int weight() { return weight; }

    /** Package-private: only {@link BackendPool#reweigh} may change it, since it must also publish a new version. */
    void setWeight(int weight) {
        checkWeight(weight);
        this.weight = weight;
    }

    /** Whether {@code weight} is one a backend may have: 1 to {@link #MAX_WEIGHT}. The one weight rule. */
    public static boolean isValidWeight(int weight) {
        return weight >= 1 && weight <= MAX_WEIGHT;
    }

    private static void checkWeight(int weight) {
        if (!isValidWeight(weight)) {
            throw new IllegalArgumentException("weight must be between 1 and " + MAX_WEIGHT + ", got " + weight);
        }
    }

    /** Whether it may take requests, and the counters behind that. */
    public BackendHealth health() { return health; }

    /** Requests sent to this backend whose exchange has not completed yet. */
    public int inFlight() { return inFlight.get(); }

    /** Peak-EWMA of response latency in nanoseconds (0 before the first response). */
    public long latencyNanos() { return latency.peakEwmaNanos(nanoClock.getAsLong()); }

    /** Called by the proxy when a request is handed to this backend. */
    public void requestStarted() {
        inFlight.incrementAndGet();
    }

    /** Called by the proxy exactly once per {@link #requestStarted()}, when the exchange completes; a negative latency records none. */
    public void requestFinished(long latencyNanos) {
        inFlight.decrementAndGet();
        if (latencyNanos >= 0) {
            latency.record(latencyNanos, nanoClock.getAsLong());
        }
    }

    @Override
    public String toString() {
        return weight == 1 ? uri.toString() : uri + " (weight " + weight + ")";
    }
}
