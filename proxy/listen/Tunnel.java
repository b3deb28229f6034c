package proxy.listen;

import io.undertow.server.AbstractServerConnection;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;

/**
 * A request answered 101 Switching Protocols (WebSocket or any other upgrade): Undertow completes its exchange
 * at the 101, but the request lasts as long as its connection carries the tunnel, so whoever counts it (the
 * backend's in-flight count, the access log, the drain) waits for the connection to close instead. Confined to
 * the connection's IO thread.
 */
public final class Tunnel {
    /** Bytes through one client connection each way, counted under Undertow's conduits so they survive the upgrade. */
    static final class Bytes {
        long received;
        long sent;
    }

    /** What to do when the tunnel closes, given the bytes it carried each way. */
    @FunctionalInterface
    public interface Closed {
        void closed(long bytesReceived, long bytesSent);
    }

    /** Put on a client connection by {@link ClientConnectionCap}, whose conduits count its bytes. */
    static final AttachmentKey<Bytes> BYTES = AttachmentKey.create(Bytes.class);

    private Tunnel() {
    }

    /**
     * Whether {@code exchange}, completing now, hands its HTTP/1.1 connection to a tunnel: a 101 on a connection
     * still open. A cleartext HTTP/2 upgrade (h2c) is taken by Undertow's Http2UpgradeHandler before our handlers
     * see it, so it never counts as one.
     */
    public static boolean opens(HttpServerExchange exchange) {
        return exchange.getStatusCode() == 101 && exchange.getConnection() instanceof AbstractServerConnection connection
                && connection.isOpen();
    }

    /** Calls {@code then} once the tunnel {@code exchange} opened is closed, on its IO thread, with the bytes it carried. */
    public static void whenClosed(HttpServerExchange exchange, Closed then) {
        ServerConnection connection = exchange.getConnection();
        Bytes bytes = connection.getAttachment(BYTES);
        long receivedBefore = bytes == null ? 0 : bytes.received;
        long sentBefore = bytes == null ? 0 : bytes.sent;
        connection.addCloseListener(new Once(then, bytes, receivedBefore, sentBefore));
    }

    /**
     * Tells {@code then} once: on a plain connection Undertow calls its close listeners twice for a tunnel, when
     * the client's side ends and when the socket closes, and a backend must leave the in-flight count once.
     */
    private static final class Once implements ServerConnection.CloseListener {
        private final Closed then;
        private final Bytes bytes;
        private final long receivedBefore;
        private final long sentBefore;
        private boolean told;

        Once(Closed then, Bytes bytes, long receivedBefore, long sentBefore) {
            this.then = then;
            this.bytes = bytes;
            this.receivedBefore = receivedBefore;
            this.sentBefore = sentBefore;
        }

        @Override
        public void closed(ServerConnection connection) {
            if (!told) {
                told = true;
                then.closed(bytes == null ? -1 : bytes.received - receivedBefore, bytes == null ? -1 : bytes.sent - sentBefore);
            }
        }
    }
}
