package proxy.listen;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Answers a plain-HTTP request sent to the TLS port with nginx's {@code 400 The plain HTTP request was sent to HTTPS
 * port} instead of the silent close Undertow's SSL conduit gives it (it fails the handshake on the first byte and
 * closes), so a user who typed http:// learns why. Sits under the SSL conduit and looks at the connection's first
 * byte only: every TLS record starts with a content type of 20 to 24 (an SSLv2-style hello with its high bit set),
 * every HTTP/1.x request line with a method's upper-case letter. Confined to the connection's IO thread.
 */
public final class PlainHttpOnTlsPort extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private static final byte[] ANSWER = answer();

    private final StreamConnection connection;
    private final StreamSinkConduit rawSink;
    private boolean decided;

    private PlainHttpOnTlsPort(StreamConnection connection) {
        super(connection.getSourceChannel().getConduit());
        this.connection = connection;
        this.rawSink = connection.getSinkChannel().getConduit();
    }

    /** Puts the check right above the socket of a newly accepted connection, before the TLS layer wraps it. */
    public static void install(StreamConnection connection) {
        connection.getSourceChannel().setConduit(new PlainHttpOnTlsPort(connection));
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (decided) {
            return next.read(dst);
        }
        int start = dst.position();
        int read = next.read(dst);
        if (read <= 0) {
            return read;
        }
        decided = true;
        byte first = dst.get(start);
        if (first < 'A' || first > 'Z') {
            return read; // a TLS record (or nothing HTTP): the handshake goes on as before
        }
        dst.position(start); // the request is not TLS: nobody above may try to decrypt it
        answerAndClose();
        return -1;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        if (decided) {
            return next.read(dsts, offset, length);
        }
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return 0;
    }

    /**
     * Drains what the client sent (so the close is a FIN, not a reset that could discard the answer before the client
     * reads it), writes the answer on the raw socket, which takes these few bytes whole, and closes.
     */
    private void answerAndClose() {
        try {
            ByteBuffer discard = ByteBuffer.allocate(4096);
            for (int i = 0; i < 16 && next.read(discard) > 0; i++) {
                discard.clear();
            }
            ByteBuffer answer = ByteBuffer.wrap(ANSWER);
            for (int i = 0; i < 16 && answer.hasRemaining() && rawSink.write(answer) > 0; i++) {
                // a fresh socket's send buffer takes a few hundred bytes at once; the bound is for the pathological case
            }
            rawSink.terminateWrites();
            rawSink.flush();
        } catch (IOException e) {
            // the client is gone already: nothing to tell it
        }
        IoUtils.safeClose(connection);
    }

    private static byte[] answer() {
        String body = "400 The plain HTTP request was sent to HTTPS port: this port speaks TLS, use https://\n";
        return ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }
}
