package tests;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw HTTP/2 client for attacking the proxy's HTTP/2 edge with frames no library would send: it writes
 * frames byte by byte (HEADERS with HPACK literals never indexed, so any name or value goes through as
 * written, upper case, CR, NUL and all), and reads the server's frames back. Knows just enough HPACK to
 * read a response's status from the static table. One connection, used from one thread.
 */
final class Http2Client implements AutoCloseable {
    static final int DATA = 0x0, HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8,
            CONTINUATION = 0x9;
    static final int END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1;
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** One frame as read from the server. */
    record Frame(int type, int flags, int stream, byte[] payload) {
        int errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xff) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8) | (payload[at + 3] & 0xff);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private final List<Frame> received = new ArrayList<>();

    /** Sends the client preface and an empty SETTINGS on a connected socket (TLS with h2 negotiated, or plain for h2c). */
    Http2Client(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(3_000);
        this.out = socket.getOutputStream();
        this.in = new DataInputStream(socket.getInputStream());
        out.write(PREFACE);
        frame(SETTINGS, 0, 0, new byte[0]);
    }

    /** Writes one frame. */
    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] head = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type, (byte) flags,
                (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
        out.write(head);
        out.write(payload);
        out.flush();
    }

    /** A header block of literal fields never indexed, in the order given: name, value, name, value... */
    static byte[] block(String... namesAndValues) {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            block.write(0x10); // literal never indexed, new name (RFC 7541 §6.2.3)
            string(block, namesAndValues[i]);
            string(block, namesAndValues[i + 1]);
        }
        return block.toByteArray();
    }

    private static void string(ByteArrayOutputStream block, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        integer(block, bytes.length, 7, 0);
        block.writeBytes(bytes);
    }

    private static void integer(ByteArrayOutputStream block, int value, int prefixBits, int firstByteFlags) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            block.write(firstByteFlags | value);
            return;
        }
        block.write(firstByteFlags | max);
        value -= max;
        while (value >= 128) {
            block.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        block.write(value);
    }

    /** A GET's pseudo-headers for {@code path} on localhost over https, then {@code extra} name/value pairs. */
    static String[] get(String path, String... extra) {
        String[] fields = new String[8 + extra.length];
        String[] pseudo = {":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", path};
        System.arraycopy(pseudo, 0, fields, 0, 8);
        System.arraycopy(extra, 0, fields, 8, extra.length);
        return fields;
    }

    /** HEADERS (END_HEADERS, END_STREAM when {@code endStream}) on {@code stream}. */
    void headers(int stream, boolean endStream, String... namesAndValues) throws IOException {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(namesAndValues));
    }

    /**
     * Reads frames until {@code stream} ends (END_STREAM from the server, or RST_STREAM), a GOAWAY arrives, the
     * connection closes, or nothing comes for 3 s; acknowledges SETTINGS and answers PING on the way.
     */
    String outcome(int stream) throws IOException {
        String status = null;
        while (true) {
            Frame frame;
            try {
                frame = read();
            } catch (EOFException | SocketTimeoutException e) {
                return status != null ? status : e instanceof EOFException ? "closed" : "silence";
            } catch (IOException e) {
                return status != null ? status : "reset";
            }
            if (frame.type() == SETTINGS && (frame.flags() & ACK) == 0 || frame.type() == PING && (frame.flags() & ACK) == 0) {
                try {
                    frame(frame.type(), ACK, 0, frame.type() == PING ? frame.payload() : new byte[0]);
                } catch (IOException e) {
                    // the server closed its side; what it sent before still counts
                }
            } else if (frame.type() == GOAWAY) {
                return (status != null ? status + " then " : "") + "GOAWAY(" + frame.errorCode() + ")";
            } else if (frame.stream() == stream && frame.type() == RST_STREAM) {
                return (status != null ? status + " then " : "") + "RST_STREAM(" + frame.errorCode() + ")";
            } else if (frame.stream() == stream && frame.type() == HEADERS && status == null) {
                status = "status " + statusOf(frame.payload(), frame.flags());
                if ((frame.flags() & END_STREAM) != 0) {
                    return status;
                }
            } else if (frame.stream() == stream && frame.type() == DATA && (frame.flags() & END_STREAM) != 0) {
                return status;
            }
        }
    }

    /** Every frame read so far. */
    List<Frame> received() {
        return received;
    }

    Frame read() throws IOException {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        Frame frame = new Frame(type, flags, stream, payload);
        received.add(frame);
        return frame;
    }

    // The status as the static table indexes it (RFC 7541 Appendix A, entries 8-14), the way servers send the
    // common ones; "?" for any other encoding. PADDED and PRIORITY flags move the block's start.
    private static String statusOf(byte[] payload, int flags) {
        int at = 0;
        if ((flags & 0x8) != 0) {
            at += 1;
        }
        if ((flags & 0x20) != 0) {
            at += 5;
        }
        int first = payload[at] & 0xff;
        String[] statuses = {"200", "204", "206", "304", "400", "404", "500"};
        return first >= 0x88 && first <= 0x8e ? statuses[first - 0x88] : "?";
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
