package proxy;

import java.time.Duration;
import model.HealthSettings;

/**
 * How the proxy listens and what it tolerates, as the command line set it.
 *
 * @param bindAddress    address to listen on ("0.0.0.0" for every interface)
 * @param port           port to listen on; 0 picks a free one
 * @param timeout        longest wait for a backend to start answering before a 504
 * @param idleTimeout    a client connection idle (or a request's headers unfinished) this long is closed
 * @param maxBodyBytes   larger request bodies get 413
 * @param maxHeaderBytes larger request heads (request line and headers) are refused
 * @param ioThreads      Undertow IO threads; every proxied request runs on one of them, never blocking
 * @param drainTimeout   on shutdown, how long in-flight requests may take to finish
 * @param health         how backends are judged up, down or ejected
 * @param retryPercent   retries allowed per 100 requests over the last 10 s (at least 10); 0: never retry
 * @param maxInFlightPerBackend a backend with this many requests in flight takes no more; 0: no limit
 * @param connectTimeout a backend that has not accepted the connection by then counts as failed; the next is tried
 * @param maxResponseHeaderBytes a backend response head (interim 1xx heads included) larger than this gets 502
 * @param bodyTimeout    a request body that stops arriving this long gets 408 (nginx's client_body_timeout)
 */
public record ProxySettings(String bindAddress, int port, Duration timeout, Duration idleTimeout,
                            long maxBodyBytes, int maxHeaderBytes, int ioThreads, Duration drainTimeout, HealthSettings health,
                            int retryPercent, int maxInFlightPerBackend, Duration connectTimeout, int maxResponseHeaderBytes,
                            Duration bodyTimeout) {
    public static final int DEFAULT_MAX_RESPONSE_HEADER_BYTES = 64 * 1024;
    public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(60);

    /** The settings with the default response head limit (64 KiB) and body timeout (60 s). */
    public ProxySettings(String bindAddress, int port, Duration timeout, Duration idleTimeout,
                         long maxBodyBytes, int maxHeaderBytes, int ioThreads, Duration drainTimeout, HealthSettings health,
                         int retryPercent, int maxInFlightPerBackend, Duration connectTimeout) {
        this(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health, retryPercent,
                maxInFlightPerBackend, connectTimeout, DEFAULT_MAX_RESPONSE_HEADER_BYTES, DEFAULT_BODY_TIMEOUT);
    }

    /** The defaults the command line shows, listening on a free loopback port: what tests start from. */
    public static ProxySettings forTests() {
        return new ProxySettings("127.0.0.1", 0, Duration.ofSeconds(30), Duration.ofSeconds(60),
                1L << 30, 64 * 1024, 2, Duration.ofSeconds(10), HealthSettings.DEFAULTS, 20, 0, Duration.ofSeconds(5));
    }

    public ProxySettings withTimeout(Duration timeout) {
        return new ProxySettings(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health, retryPercent, maxInFlightPerBackend, connectTimeout, maxResponseHeaderBytes, bodyTimeout);
    }

    public ProxySettings withHealth(HealthSettings health) {
        return new ProxySettings(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health, retryPercent, maxInFlightPerBackend, connectTimeout, maxResponseHeaderBytes, bodyTimeout);
    }

    public ProxySettings withLimits(int retryPercent, int maxInFlightPerBackend) {
        return new ProxySettings(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health,
                retryPercent, maxInFlightPerBackend, connectTimeout, maxResponseHeaderBytes, bodyTimeout);
    }

    public ProxySettings withMaxResponseHeaderBytes(int maxResponseHeaderBytes) {
        return new ProxySettings(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health,
                retryPercent, maxInFlightPerBackend, connectTimeout, maxResponseHeaderBytes, bodyTimeout);
    }

    public ProxySettings withBodyTimeout(Duration bodyTimeout) {
        return new ProxySettings(bindAddress, port, timeout, idleTimeout, maxBodyBytes, maxHeaderBytes, ioThreads, drainTimeout, health,
                retryPercent, maxInFlightPerBackend, connectTimeout, maxResponseHeaderBytes, bodyTimeout);
    }
}
