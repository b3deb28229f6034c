package proxy.upstream;

import io.undertow.client.ClientConnection;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import proxy.exchange.Attempts;
import proxy.exchange.ProxiedRequest;

/**
 * Aborts the backend connection of a request whose body the client broke, so the backend never sees
 * that request completed. Undertow's {@code HttpClientConnection.close()} is a clean close
 * ({@code ConnectionUtils.cleanClose}): it shuts down writes, and the request's chunked sink answers
 * that by sending the terminating {@code 0\r\n\r\n}, or, when no body byte went yet, by rewriting the
 * head to {@code Content-Length: 0}; either way the backend receives a complete, shorter request and
 * runs it. ProxyHandler closes that way when reading the client's body fails. We detach the socket
 * from Undertow's request framing first ({@code performUpgrade} hands back the raw connection and
 * drops the framing conduits with whatever they still held) and close the socket itself; to an https:// backend
 * that is the SSL connection, whose close sends close_notify and still completes no request. Stateless;
 * call on the exchange's IO thread.
 */
public final class BackendConnectionAbort {
    private BackendConnectionAbort() {}

    /** Aborts the backend connection this exchange's request went out on, if any. */
    public static void abort(HttpServerExchange exchange) {
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        Attempts attempts = request == null ? null : request.attempts();
        ClientConnection connection = attempts == null ? null : attempts.connection();
        if (connection == null || !connection.isOpen()) {
            return;
        }
        try {
            StreamConnection raw = connection.performUpgrade();
            IoUtils.safeClose(raw);
        } catch (IOException | UnsupportedOperationException e) {
            // already closing, or not plain HTTP/1.1: nothing more will be written on it
        }
        IoUtils.safeClose(connection);
    }
}
