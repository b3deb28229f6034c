package proxy.observe;

import java.util.List;
import model.Backend;

/**
 * One finished client request, as {@link TrafficObserver}s see it.
 *
 * @param clientAddress the TCP peer's IP address
 * @param method        the request method
 * @param path          the path as the client sent it, without the query
 * @param query         the query string without '?', or "" when there was none
 * @param status        the status the client got (a backend's, or the proxy's own 502/503/504/413)
 * @param bytesSent     response body bytes sent to the client
 * @param startNanos    {@link System#nanoTime()} when the request arrived
 * @param durationNanos from arrival to the end of the response
 * @param backend       the backend that was sent the request last, or null when none was
 * @param attempts      how many backends were tried (0 when the proxy answered by itself)
 * @param protocol      the request line's protocol, such as HTTP/1.1
 * @param referer       the Referer header, or null when there was none
 * @param userAgent     the User-Agent header, or null when there was none
 * @param retriedFrom   the backends tried before {@code backend}, which failed it, oldest first (usually empty)
 * @param route         the route it took: its name, or "route-N" for the Nth in the configuration; null when none took it
 * @param upstream      the upstream that route sends to; null when no route took it
 * @param tlsProtocol   the TLS version of the client's connection, such as TLSv1.3; null for plain HTTP
 * @param bytesReceived for a tunnel (a 101), the bytes the client sent through it; -1 for any other request. A tunnel is
 *                      reported once it closes: {@code bytesSent} is then what it carried to the client and
 *                      {@code durationNanos} runs from the request to the close
 */
public record CompletedRequest(String clientAddress, String method, String path, String query, int status,
                               long bytesSent, long startNanos, long durationNanos, Backend backend, int attempts,
                               String protocol, String referer, String userAgent, List<Backend> retriedFrom,
                               String route, String upstream, String tlsProtocol, long bytesReceived) {

    /** An ordinary request: no tunnel. */
    public CompletedRequest(String clientAddress, String method, String path, String query, int status,
                            long bytesSent, long startNanos, long durationNanos, Backend backend, int attempts,
                            String protocol, String referer, String userAgent, List<Backend> retriedFrom,
                            String route, String upstream, String tlsProtocol) {
        this(clientAddress, method, path, query, status, bytesSent, startNanos, durationNanos, backend, attempts, protocol, referer,
                userAgent, retriedFrom, route, upstream, tlsProtocol, -1);
    }

    /** This request as a tunnel that closed {@code durationNanos} after it arrived, having carried these bytes each way. */
    public CompletedRequest asTunnel(long durationNanos, long bytesReceived, long bytesSent) {
        return new CompletedRequest(clientAddress, method, path, query, status, bytesSent, startNanos, durationNanos, backend, attempts,
                protocol, referer, userAgent, retriedFrom, route, upstream, tlsProtocol, bytesReceived);
    }

    /** Whether this was a tunnel (a 101), reported when it closed. */
    public boolean tunnel() {
        return bytesReceived >= 0;
    }

    /** The retries this request took: each backend tried after the first. */
    public int retries() {
        return retriedFrom.size();
    }
}
