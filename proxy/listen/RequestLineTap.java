package proxy.listen;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Keeps the first line of the request a client connection is sending, as received, so that a request
 * Undertow's parser refuses can still be logged with its request line, as nginx logs its 400s: Undertow
 * 2.4's {@code HttpReadListener.sendBadRequestAndClose} answers such a request with no exchange, so no
 * handler or completion listener of ours ever sees it. It records from the connection's first byte and,
 * after each exchange completes ({@link Taps}), from the start of the next request: the bytes Undertow
 * already read past the last one ({@code getExtraBytes()}, a pipelined request), then the socket. Bytes
 * of a head past its first line, and of bodies, are not looked at. Confined to the connection's IO thread.
 */
public final class RequestLineTap extends AbstractStreamSourceConduit<StreamSourceConduit> {
    /** Longest request line kept; a longer one is logged cut short. */
    static final int MAX_LINE_BYTES = 8192;

    private byte[] line = new byte[64]; // grown as needed: most connections never see a long line
    private int length;
    private boolean recording = true;
    private long startNanos;

    RequestLineTap(StreamSourceConduit next) {
        super(next);
    }

    /**
     * The taps of one server's open connections, by connection: Undertow wraps the connection's source
     * in conduits of its own that hide ours, so an exchange finds its tap here. It re-arms the tap of an
     * exchange's connection when the exchange completes, since the next byte read starts a request.
     * Thread-safe.
     */
    public static final class Taps implements ExchangeCompletionListener {
        private final Map<StreamConnection, RequestLineTap> open = new ConcurrentHashMap<>();

        /** Connections tapped and not yet closed. */
        public int size() {
            return open.size();
        }

        /** Wraps the root handler: each exchange, when it completes, re-arms its connection's tap. */
        public HttpHandler around(HttpHandler next) {
            return exchange -> {
                exchange.addExchangeCompleteListener(this);
                next.handleRequest(exchange);
            };
        }

        /** Puts a tap under {@code connection}'s source, kept here until the connection closes. */
        RequestLineTap install(StreamConnection connection) {
            RequestLineTap tap = new RequestLineTap(connection.getSourceChannel().getConduit());
            connection.getSourceChannel().setConduit(tap);
            open.put(connection, tap);
            return tap;
        }

        /**
         * Forgets {@code connection}'s tap when it closes. Call once Undertow's open listener has set its
         * own close listener on the connection (the only hook a closed connection gives), which this wraps.
         */
        void forgetOnClose(StreamConnection connection) {
            connection.setCloseListener(new Forget(connection.getCloseListener()));
            if (!connection.isOpen()) {
                open.remove(connection); // closed before the listener was in place (a refusal at once)
            }
        }

        /** Drops a closed connection's tap, then runs Undertow's close listener. */
        private final class Forget implements ChannelListener<StreamConnection> {
            private final ChannelListener<? super StreamConnection> undertows;

            Forget(ChannelListener<? super StreamConnection> undertows) {
                this.undertows = undertows;
            }

            @Override
            public void handleEvent(StreamConnection connection) {
                open.remove(connection);
                ChannelListeners.invokeChannelListener(connection, undertows);
            }
        }

        @Override
        public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
            try {
                if (exchange.getConnection() instanceof HttpServerConnection connection) {
                    RequestLineTap tap = open.get(connection.getChannel());
                    if (tap != null) {
                        tap.nextRequest(connection.getExtraBytes());
                    }
                }
            } finally {
                next.proceed();
            }
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int start = dst.position();
        int read = next.read(dst);
        if (read > 0 && recording) {
            record(dst, start, dst.position());
        }
        return read;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (!recording) {
            return next.read(dsts, offs, len);
        }
        int[] starts = new int[len];
        for (int i = 0; i < len; i++) {
            starts[i] = dsts[offs + i].position();
        }
        long read = next.read(dsts, offs, len);
        for (int i = 0; i < len && recording && read > 0; i++) {
            record(dsts[offs + i], starts[i], dsts[offs + i].position());
        }
        return read;
    }

    /** The request line received so far (all of it once its LF came), as ISO-8859-1 text without CR LF. */
    String line() {
        int end = length;
        while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r')) {
            end--;
        }
        return new String(line, 0, end, StandardCharsets.ISO_8859_1);
    }

    /** {@link System#nanoTime()} when the first byte of the request line arrived; 0 before any did. */
    long startNanos() {
        return startNanos;
    }

    private void nextRequest(PooledByteBuffer extraBytes) {
        length = 0;
        recording = true;
        startNanos = 0;
        if (extraBytes != null && extraBytes.isOpen()) {
            ByteBuffer pending = extraBytes.getBuffer();
            record(pending, pending.position(), pending.limit());
        }
    }

    /** Copies {@code buffer[from, to)} up to and including the first LF into the line; the buffer's own position stays. */
    private void record(ByteBuffer buffer, int from, int to) {
        if (startNanos == 0 && to > from) {
            startNanos = System.nanoTime();
        }
        for (int i = from; i < to && recording; i++) {
            byte b = buffer.get(i);
            if (length == line.length && length < MAX_LINE_BYTES) {
                line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, length * 2));
            }
            if (length < line.length) {
                line[length++] = b;
            }
            if (b == '\n') {
                recording = false; // the rest is headers and body: not ours to look at
            }
        }
    }
}
