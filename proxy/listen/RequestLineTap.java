package proxy.listen;

import io.undertow.connector.PooledByteBuffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The first line of the request a client connection is sending, as received, so that a request Undertow's
 * parser refuses can still be logged with its request line, as nginx logs its 400s: Undertow 2.4's
 * {@code HttpReadListener.sendBadRequestAndClose} answers such a request with no exchange, so no handler or
 * completion listener of ours ever sees it. {@link ClientConnectionCap}'s watch on the connection's source feeds it
 * the bytes read from the connection's first byte and, once an exchange completes, from the start of the next
 * request: the bytes Undertow already read past the last one ({@code getExtraBytes()}, a pipelined request), then
 * the socket. Bytes of a head past its first line, and of bodies, are not looked at. Confined to the connection's IO
 * thread.
 */
public final class RequestLineTap {
    /** Longest request line kept; a longer one is logged cut short. */
    static final int MAX_LINE_BYTES = 8192;

    private byte[] line = new byte[64]; // grown as needed: most connections never see a long line
    private int length;
    private boolean recording = true;
    private long startNanos;

    /** Whether the line is still being received: the watch hands over bytes only then. */
    boolean recording() {
        return recording;
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

    /** Starts over for the next request on the connection, from the bytes Undertow already read past the last one. */
    void nextRequest(PooledByteBuffer extraBytes) {
        length = 0;
        recording = true;
        startNanos = 0;
        if (extraBytes != null && extraBytes.isOpen()) {
            ByteBuffer pending = extraBytes.getBuffer();
            record(pending, pending.position(), pending.limit());
        }
    }

    /** Copies {@code buffer[from, to)} up to and including the first LF into the line; the buffer's own position stays. */
    void record(ByteBuffer buffer, int from, int to) {
        if (startNanos == 0 && to > from) {
            startNanos = System.nanoTime();
        }
        int end = from;
        while (end < to && recording) {
            if (buffer.get(end++) == '\n') {
                recording = false; // the rest is headers and body: not ours to look at
            }
        }
        int kept = Math.min(end - from, MAX_LINE_BYTES - length);
        if (kept > 0) {
            if (length + kept > line.length) {
                line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, Math.max(line.length * 2, length + kept)));
            }
            buffer.get(from, line, length, kept); // one bulk copy, not a byte at a time
            length += kept;
        }
    }
}
