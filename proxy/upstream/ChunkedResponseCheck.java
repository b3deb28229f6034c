package proxy.upstream;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Holds a backend's chunked response body to RFC 9112 §7.1 as its bytes pass to Undertow's decoder, which is
 * lenient: after a chunk's data it skips to the next LF, so {@code 3\r\nabcdef\r\n} passes as "abc" and the
 * client gets a shorter body that looks complete, and {@code 3\r\nabc\r0\r\n\r\n} waits forever for a line end.
 * A violation fails the read, so ProxyHandler aborts the client's connection (the answer has started: no complete
 * body may be faked) and closes the backend's. Chunk data is skipped by count, only framing bytes are looked at.
 * Not thread-safe: confined to the backend connection's IO thread.
 */
final class ChunkedResponseCheck {
    /** Longest chunk-size line or trailer line looked at: nginx and HAProxy bound them too. */
    private static final int MAX_LINE_BYTES = 16 * 1024;

    private enum State { SIZE_FIRST, SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, TRAILER_LF, END_LF, DONE }

    private State state = State.SIZE_FIRST;
    private long chunkLeft;
    private int sizeDigits;
    private int lineBytes;

    /** Whether the last chunk and the trailer section's end went by. */
    boolean isDone() {
        return state == State.DONE;
    }

    /** Looks at {@code count} bytes of {@code buffer} from {@code start}, leaving its position alone. */
    void check(ByteBuffer buffer, int start, int count) throws IOException {
        int i = start;
        int end = start + count;
        while (i < end && state != State.DONE) {
            if (state == State.DATA) {
                int skip = (int) Math.min(chunkLeft, end - i);
                chunkLeft -= skip;
                i += skip;
                if (chunkLeft == 0) {
                    state = State.DATA_CR;
                }
                continue;
            }
            step(buffer.get(i++));
        }
    }

    private void step(byte b) throws IOException {
        switch (state) {
            case SIZE_FIRST, SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    if (++sizeDigits > 15) {
                        throw malformed("a chunk size of more than 15 hex digits");
                    }
                    chunkLeft = chunkLeft * 16 + digit;
                    state = State.SIZE;
                } else if (state == State.SIZE && (b == ';' || b == ' ' || b == '\t')) {
                    state = State.EXTENSION;
                } else if (state == State.SIZE && b == '\r') {
                    state = State.SIZE_LF;
                } else {
                    throw malformed("a chunk size that is not hex digits");
                }
            }
            case EXTENSION -> {
                if (b == '\r') {
                    state = State.SIZE_LF;
                } else if (isControl(b) || ++lineBytes > MAX_LINE_BYTES) {
                    throw malformed("a chunk extension with a control byte, or too long");
                }
            }
            case SIZE_LF -> {
                expect(b, '\n', "a chunk size line that does not end in CRLF");
                state = chunkLeft == 0 ? State.TRAILER_START : State.DATA;
                sizeDigits = 0;
                lineBytes = 0;
            }
            case DATA_CR -> {
                expect(b, '\r', "chunk data longer than its size, or not followed by CRLF");
                state = State.DATA_LF;
            }
            case DATA_LF -> {
                expect(b, '\n', "chunk data not followed by CRLF");
                state = State.SIZE_FIRST;
            }
            case TRAILER_START -> {
                if (b == '\r') {
                    state = State.END_LF;
                } else if (isControl(b) || b == ' ' || b == '\t') {
                    throw malformed("a trailer line that starts with white space or a control byte");
                } else {
                    state = State.TRAILER;
                }
            }
            case TRAILER -> {
                if (b == '\r') {
                    state = State.TRAILER_LF;
                } else if (isControl(b) && b != '\t' || ++lineBytes > MAX_LINE_BYTES) {
                    throw malformed("a trailer line with a control byte, or too long");
                }
            }
            case TRAILER_LF -> {
                expect(b, '\n', "a trailer line that does not end in CRLF");
                lineBytes = 0;
                state = State.TRAILER_START;
            }
            case END_LF -> {
                expect(b, '\n', "a chunked body that does not end in CRLF");
                state = State.DONE;
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private static boolean isControl(byte b) {
        return b >= 0 && b < 0x20 || b == 0x7f;
    }

    private static void expect(byte actual, char expected, String rule) throws IOException {
        if (actual != expected) {
            throw malformed(rule);
        }
    }

    private static IOException malformed(String rule) {
        return new IOException("sent a malformed chunked body: " + rule);
    }
}
