package proxy.listen;

import proxy.observe.CompletedRequest;
import proxy.observe.TrafficObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.xnio.StreamConnection;
import org.xnio.ssl.SslConnection;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;

/**
 * Gives Undertow's own parser refusals a plain-text body: a sink conduit at the bottom of each client
 * connection that replaces the empty 400 Undertow 2.4's {@code HttpReadListener.sendBadRequestAndClose}
 * writes straight to the socket (the fixed {@code HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection:
 * close\r\n\r\n}, past every handler and response listener; for a head it cannot parse, with conflicting or
 * malformed lengths, or over the size limit, which it answers 400, not 431) with the same status and a
 * short body naming both causes, since the bytes it writes are the same for each, and reports the refusal
 * to the access log and statistics, which would never hear of it otherwise (nginx logs its 400s). Not thread-safe:
 * confined to the connection's IO thread, like every conduit.
 *
 * <p>Why a real response is never touched: Undertow writes that refusal with a {@code StringWriteChannelListener},
 * whose first write hands down one heap buffer wrapping exactly those 66 bytes from position 0, and the
 * connection is closed right after it. Every response of an exchange instead starts with a head that
 * carries a {@code Date} (Undertow's {@code ALWAYS_SET_DATE}, on by default and never turned off by
 * {@link ProxyServer}), so it cannot equal the canned bytes, and its head and proxied body bytes come in
 * the server's pooled buffers, which are direct (no backing array). The check on the normal path is one
 * length comparison per single-buffer write; nothing is allocated unless the refusal is seen. On a TLS connection it
 * sits above the encryption; on an HTTP/2 one under the frame layer, where the canned bytes never pass (Undertow
 * refuses a malformed HTTP/2 request with RST_STREAM or GOAWAY), so there it only looks.
 */
public final class ParseFailureAnswer extends AbstractStreamSinkConduit<StreamSinkConduit> {
    private static final byte[] UNDERTOW_400 =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** The body of our answer; {@code proxy.exchange.ProxyAnswer.UNPARSEABLE} lists it with the proxy's other answers. */
    public static final String BODY =
            "400 Bad Request: the request could not be parsed (malformed, or its head is over --max-header-size)\n";
    private static final byte[] ANSWER = ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + BODY.length() + "\r\nConnection: close\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);

    private final StreamConnection connection;
    private final RequestLineTap requestLine;
    private final TrafficObserver log;
    private ByteBuffer answer;          // our answer, once the refusal was seen; written before anything else
    private boolean terminatePending;   // writes were shut down while our answer was still being written

    private ParseFailureAnswer(StreamSinkConduit next, StreamConnection connection, RequestLineTap requestLine, TrafficObserver log) {
        super(next);
        this.connection = connection;
        this.requestLine = requestLine;
        this.log = log;
    }

    /**
     * Puts this conduit under {@code connection}'s sink, before Undertow's open listener wraps it (idle timeout,
     * response framing), so it sees every byte; on a TLS connection it sits above the encryption, where the bytes
     * are plain. Each refusal is told to {@code log} as a completed request: status 400, no backend, the request
     * line as {@code requestLine} received it.
     */
    public static void install(StreamConnection connection, RequestLineTap requestLine, TrafficObserver log) {
        connection.getSinkChannel().setConduit(new ParseFailureAnswer(connection.getSinkChannel().getConduit(), connection, requestLine, log));
    }

    /** The refusal as the access log and the statistics see a request: what the client sent, and our 400. */
    private CompletedRequest refused() {
        String line = requestLine.line();
        // "METHOD target PROTOCOL" when it has that shape; otherwise all of it as the target, as nginx logs garbage.
        int first = line.indexOf(' ');
        int last = line.lastIndexOf(' ');
        String method = "", target = line, protocol = "";
        if (first > 0 && last > first + 1 && line.startsWith("HTTP/", last + 1)) {
            method = line.substring(0, first);
            target = line.substring(first + 1, last);
            protocol = line.substring(last + 1);
        }
        int question = target.indexOf('?');
        InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
        long start = requestLine.startNanos() == 0 ? System.nanoTime() : requestLine.startNanos();
        return new CompletedRequest(peer == null || peer.getAddress() == null ? "" : peer.getAddress().getHostAddress(), method,
                question < 0 ? target : target.substring(0, question), question < 0 ? "" : target.substring(question + 1),
                400, BODY.length(), start, System.nanoTime() - start, null, 0, protocol, null, null, List.of(), null, null, tlsProtocol());
    }

    /** The TLS version of the connection the refusal came on, as the access log names it; null for plain HTTP. */
    private String tlsProtocol() {
        return connection instanceof SslConnection tls && tls.getSslSession() != null ? tls.getSslSession().getProtocol() : null;
    }

    /** Whether {@code src} is Undertow's canned refusal, in the exact buffer shape its listener writes it. */
    private static boolean isUndertowRefusal(ByteBuffer src) {
        if (src.remaining() != UNDERTOW_400.length || !src.hasArray() || src.position() != 0 || src.arrayOffset() != 0
                || src.array().length != UNDERTOW_400.length) {
            return false;
        }
        for (int i = 0; i < UNDERTOW_400.length; i++) {
            if (src.get(i) != UNDERTOW_400[i]) {
                return false;
            }
        }
        return true;
    }

    /** Writes what is left of our answer; true once none is. */
    private boolean answerWritten() throws IOException {
        if (answer == null) {
            return true;
        }
        while (answer.hasRemaining()) {
            if (next.write(answer) == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (answer == null && isUndertowRefusal(src)) {
            answer = ByteBuffer.wrap(ANSWER);
            src.position(src.limit()); // taken whole: Undertow's listener then shuts down writes and flushes
            answerWritten();
            log.completed(refused());
            return UNDERTOW_400.length;
        }
        return answerWritten() ? next.write(src) : 0;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return answerWritten() ? next.write(srcs, offset, length) : 0;
    }

    @Override
    public int writeFinal(ByteBuffer src) throws IOException {
        return Conduits.writeFinalBasic(this, src);
    }

    @Override
    public long writeFinal(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return Conduits.writeFinalBasic(this, srcs, offset, length);
    }

    @Override
    public long transferFrom(FileChannel src, long position, long count) throws IOException {
        return answerWritten() ? next.transferFrom(src, position, count) : 0;
    }

    @Override
    public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) throws IOException {
        if (!answerWritten()) {
            throughBuffer.limit(0); // nothing read into it
            return 0;
        }
        return next.transferFrom(source, count, throughBuffer);
    }

    @Override
    public void terminateWrites() throws IOException {
        if (answerWritten()) {
            next.terminateWrites();
        } else {
            terminatePending = true; // shut down once flush has written the rest of our answer
        }
    }

    @Override
    public boolean flush() throws IOException {
        if (!answerWritten()) {
            return false;
        }
        if (terminatePending) {
            terminatePending = false;
            next.terminateWrites();
        }
        return next.flush();
    }
}
