package proxy.request;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Holds an HTTP/2 request body to its {@code content-length} (RFC 9113 §8.1.1): the last declared byte is kept back
 * until the stream's end confirms there is nothing after it. Undertow resets a stream whose DATA overruns its
 * length, but by then the proxy has forwarded the declared bytes with the same {@code Content-Length}, a complete
 * request the client never sent whole; kept back, the backend gets an incomplete body and a closed connection
 * instead. A body shorter than declared fails here as well. Confined to the stream's IO thread.
 */
final class Http2DeclaredLength extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private final long declared;
    private final ByteBuffer probe = ByteBuffer.allocate(1);
    private long delivered;     // bytes handed up
    private int held = -1;      // the last declared byte while its stream's end is awaited; -1: none yet
    private boolean confirmed;  // the stream ended right after the declared length

    Http2DeclaredLength(StreamSourceConduit next, long declared) {
        super(next);
        this.declared = declared;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (confirmed) {
            if (held < 0) {
                return -1;
            }
            dst.put((byte) held);
            held = -1;
            delivered++;
            return 1;
        }
        long beforeLast = declared - 1 - delivered;
        if (beforeLast > 0) {
            int limit = dst.limit();
            if (dst.remaining() > beforeLast) {
                dst.limit(dst.position() + (int) beforeLast);
            }
            int read;
            try {
                read = next.read(dst);
            } finally {
                dst.limit(limit);
            }
            if (read < 0) {
                throw shorter();
            }
            delivered += read;
            return read;
        }
        if (held < 0) {
            int read = readOne();
            if (read == 0) {
                return 0;
            }
            held = probe.get(0) & 0xff;
        }
        int after = readOne();
        if (after > 0) {
            throw new IOException("the HTTP/2 request body is longer than its content-length of " + declared);
        }
        if (after == 0) {
            return 0;
        }
        confirmed = true;
        return read(dst);
    }

    private int readOne() throws IOException {
        probe.clear();
        int read = next.read(probe);
        if (read < 0 && held < 0) {
            throw shorter();
        }
        return read;
    }

    private IOException shorter() {
        return new IOException("the HTTP/2 request body ended after " + delivered + " of its content-length of " + declared + " bytes");
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return 0;
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        return IoUtils.transfer(new ConduitReadableByteChannel(this), count, throughBuffer, target);
    }
}
