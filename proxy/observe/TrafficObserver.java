package proxy.observe;

/**
 * Told about every client request once its exchange completes: what the access log, the statistics
 * and the metrics are built on. Register with {@link ProxyServer#addObserver}.
 */
@FunctionalInterface
public interface TrafficObserver {
    /** Runs on the IO thread that served the request, once per request: must be quick and never block. */
    void completed(CompletedRequest request);
}
