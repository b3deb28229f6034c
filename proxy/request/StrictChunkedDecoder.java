package proxy.request;

import io.undertow.conduits.ReadDataStreamSourceConduit;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.Connectors;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpAttachments;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSourceConduit;
import proxy.exchange.ClientFault;
import proxy.exchange.ProxiedRequest;
import proxy.upstream.TrailerFields;

/**
 * Decodes a client's chunked request body exactly as RFC 9112 section 7.1 writes it, and fails the read
 * (noting {@link ClientFault#MALFORMED_CHUNK}) at the first byte that breaks the grammar, so a
 * malformed body never reaches a backend as a complete, shorter one. It replaces Undertow's
 * {@code ChunkedStreamSourceConduit}, whose {@code ChunkReader} takes any non-hex byte as the end of
 * the size ({@code 0x5} is a 0 chunk, {@code Z} too), skips anything up to a LF after chunk data and
 * after the size, accepts bare LF everywhere and trailers without a colon check: a stricter backend
 * would read a different message than we forwarded (request smuggling). Like Undertow's, it enforces
 * the body limit, pushes back bytes read past the body (a pipelined request) and hands trailers to
 * ProxyHandler, minus framing, routing and hop-by-hop fields. Confined to the exchange's IO thread.
 */
final class StrictChunkedDecoder extends AbstractStreamSourceConduit<StreamSourceConduit> {
    /** Chunk sizes above 2^59 bytes are refused before they can overflow a long. */
    private static final long SIZE_LIMIT = Long.MAX_VALUE >> 4;
    /** Longest chunk extension accepted: nginx and HAProxy bound the chunk-size line too. */
    private static final int MAX_EXTENSION_BYTES = 4096;
    private enum State { SIZE_FIRST, SIZE, SIZE_SPACE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF,
        TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_LF, END_LF, DONE }

    private final HttpServerExchange exchange;
    private final HttpServerConnection connection;
    private final int maxTrailerBytes;
    private PooledByteBuffer pending;
    private State state = State.SIZE_FIRST;
    private long chunkLeft;
    private long bodyBytes;
    private int lineBytes;
    private int trailerBytes;
    private final StringBuilder fieldName = new StringBuilder();
    private final StringBuilder fieldValue = new StringBuilder();
    private HeaderMap trailers;
    private IOException failure;
    private boolean terminated;

    private StrictChunkedDecoder(StreamSourceConduit next, HttpServerExchange exchange, HttpServerConnection connection, int maxTrailerBytes) {
        super(next);
        this.exchange = exchange;
        this.connection = connection;
        this.maxTrailerBytes = maxTrailerBytes;
    }

    /**
     * Puts a strict decoder in place of the one Undertow set up for this chunked request. Must run
     * before anything asks for the request channel. Returns false (and changes nothing) on a
     * connection that is not plain HTTP/1.1, where Undertow does not decode chunks.
     */
    static boolean install(HttpServerExchange exchange, int maxTrailerBytes) {
        if (!(exchange.getConnection() instanceof HttpServerConnection connection)) {
            return false;
        }
        // The same reader Undertow puts under its chunk decoder: bytes read along with the head first, then the socket.
        StreamSourceConduit raw = new ReadDataStreamSourceConduit(connection.getOriginalSourceConduit(), connection);
        connection.getChannel().getSourceChannel().setConduit(new StrictChunkedDecoder(raw, exchange, connection, maxTrailerBytes));
        return true;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (failure != null) {
            throw failure;
        }
        int copied = 0;
        while (dst.hasRemaining() && state != State.DONE) {
            boolean nothingBuffered = pending == null || !pending.getBuffer().hasRemaining();
            if (nothingBuffered && state == State.DATA) {
                int read = readDataDirectly(dst);
                if (read == 0) {
                    break;
                }
                copied += read;
                continue;
            }
            if (nothingBuffered && !fill()) {
                break;
            }
            ByteBuffer buffer = pending.getBuffer();
            if (state == State.DATA) {
                int n = (int) Math.min(Math.min(buffer.remaining(), dst.remaining()), chunkLeft);
                int limit = buffer.limit();
                buffer.limit(buffer.position() + n);
                dst.put(buffer);
                buffer.limit(limit);
                copied += n;
                consumedData(n);
            } else {
                while (buffer.hasRemaining() && state != State.DATA && state != State.DONE) {
                    parse(buffer.get());
                }
            }
        }
        if (state == State.DONE) {
            handBackBytesPastTheBody();
            if (copied == 0) {
                terminateOnce();
                return -1;
            }
        }
        releaseIfEmpty();
        return copied;
    }

    /** Reads chunk data straight into the caller's buffer, never past the chunk. */
    private int readDataDirectly(ByteBuffer dst) throws IOException {
        int limit = dst.limit();
        if (dst.remaining() > chunkLeft) {
            dst.limit(dst.position() + (int) chunkLeft);
        }
        int read;
        try {
            read = next.read(dst);
        } finally {
            dst.limit(limit);
        }
        if (read == -1) {
            throw fail(ClientFault.ABORTED, "the client closed the connection inside a chunk");
        }
        if (read > 0) {
            consumedData(read);
        }
        return read;
    }

    private void consumedData(int n) throws IOException {
        chunkLeft -= n;
        bodyBytes += n;
        long max = exchange.getMaxEntitySize();
        if (max > 0 && bodyBytes > max) {
            throw fail(ClientFault.BODY_TOO_LARGE, "the chunked body passed " + max + " bytes");
        }
        if (chunkLeft == 0) {
            state = State.DATA_CR;
        }
    }

    /** Reads what the connection has into our buffer; false when it has nothing now. */
    private boolean fill() throws IOException {
        if (pending == null) {
            pending = connection.getByteBufferPool().allocate();
        }
        ByteBuffer buffer = pending.getBuffer();
        buffer.clear();
        int read = next.read(buffer);
        buffer.flip();
        if (read == -1) {
            throw fail(ClientFault.ABORTED, "the client closed the connection before the last chunk");
        }
        return read > 0;
    }

    private void parse(byte b) throws IOException {
        switch (state) {
            case SIZE_FIRST -> {
                int digit = Character.digit(b, 16);
                if (b < 0 || digit < 0) {
                    throw malformed("a chunk size must start with a hex digit");
                }
                chunkLeft = digit;
                lineBytes = 0;
                state = State.SIZE;
            }
            case SIZE -> {
                int digit = b < 0 ? -1 : Character.digit(b, 16);
                if (digit >= 0) {
                    if (chunkLeft > SIZE_LIMIT) {
                        throw malformed("the chunk size overflows");
                    }
                    chunkLeft = (chunkLeft << 4) + digit;
                } else if (b == ';') {
                    state = State.EXTENSION;
                } else if (b == ' ' || b == '\t') {
                    state = State.SIZE_SPACE;
                } else if (b == '\r') {
                    state = State.SIZE_LF;
                } else {
                    throw malformed("a chunk size has a byte that is not a hex digit");
                }
            }
            case SIZE_SPACE -> { // BWS before a chunk extension, and nothing else
                if (b == ';') {
                    state = State.EXTENSION;
                } else if (b != ' ' && b != '\t') {
                    throw malformed("only a chunk extension may follow a chunk size");
                }
            }
            case EXTENSION -> {
                if (b == '\r') {
                    state = State.SIZE_LF;
                } else if (isControl(b) || ++lineBytes > MAX_EXTENSION_BYTES) {
                    throw malformed("a chunk extension has a control byte (a bare LF?) or is too long");
                }
            }
            case SIZE_LF -> {
                expect(b, '\n', "a chunk size line must end with CRLF");
                state = chunkLeft == 0 ? State.TRAILER_START : State.DATA;
            }
            case DATA_CR -> {
                expect(b, '\r', "chunk data must be followed by CRLF");
                state = State.DATA_LF;
            }
            case DATA_LF -> {
                expect(b, '\n', "chunk data must be followed by CRLF");
                state = State.SIZE_FIRST;
            }
            case TRAILER_START -> {
                if (b == '\r') {
                    state = State.END_LF;
                } else if (isTokenChar(b)) {
                    countTrailerByte();
                    fieldName.setLength(0);
                    fieldValue.setLength(0);
                    fieldName.append((char) b);
                    state = State.TRAILER_NAME;
                } else {
                    throw malformed("a trailer line must start with a field name (no obs-fold, no bare LF)");
                }
            }
            case TRAILER_NAME -> {
                countTrailerByte();
                if (b == ':') {
                    state = State.TRAILER_VALUE;
                } else if (isTokenChar(b)) {
                    fieldName.append((char) b);
                } else {
                    throw malformed("a trailer field name has a byte that is not a token character");
                }
            }
            case TRAILER_VALUE -> {
                countTrailerByte();
                if (b == '\r') {
                    state = State.TRAILER_LF;
                } else if (isControl(b) && b != '\t') {
                    throw malformed("a trailer value has a control byte (a bare LF?)");
                } else {
                    fieldValue.append((char) (b & 0xff));
                }
            }
            case TRAILER_LF -> {
                expect(b, '\n', "a trailer line must end with CRLF");
                keepTrailer(fieldName.toString(), fieldValue.toString().strip());
                state = State.TRAILER_START;
            }
            case END_LF -> {
                expect(b, '\n', "a chunked body must end with CRLF");
                if (trailers != null) {
                    exchange.putAttachment(HttpAttachments.REQUEST_TRAILERS, trailers);
                }
                state = State.DONE;
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private void keepTrailer(String name, String value) {
        if (!TrailerFields.isForwarded(name)) {
            return;
        }
        if (trailers == null) {
            trailers = new HeaderMap();
        }
        trailers.add(new HttpString(name), value);
    }

    private void countTrailerByte() throws IOException {
        if (++trailerBytes > maxTrailerBytes) {
            throw malformed("the trailers are over the header size limit");
        }
    }

    private void expect(byte actual, char expected, String rule) throws IOException {
        if (actual != expected) {
            throw malformed(rule);
        }
    }

    private static boolean isControl(byte b) {
        return (b >= 0 && b < 0x20) || b == 0x7f;
    }

    /** RFC 9110 tchar. */
    private static boolean isTokenChar(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b > 0 && "!#$%&'*+-.^_`|~".indexOf(b) >= 0);
    }

    private IOException malformed(String rule) {
        return fail(ClientFault.MALFORMED_CHUNK, rule);
    }

    private IOException fail(ClientFault fault, String why) {
        ProxiedRequest.of(exchange).clientFault(exchange, fault);
        failure = new IOException("request body refused: " + why);
        if (pending != null) {
            pending.close();
            pending = null;
        }
        return failure;
    }

    private void handBackBytesPastTheBody() {
        if (pending != null && pending.getBuffer().hasRemaining()) {
            connection.ungetRequestBytes(pending); // the next pipelined request starts there
            pending = null;
        }
    }

    private void releaseIfEmpty() {
        if (pending != null && !pending.getBuffer().hasRemaining()) {
            pending.close();
            pending = null;
        }
    }

    private void terminateOnce() {
        if (!terminated) {
            terminated = true;
            Connectors.terminateRequest(exchange);
        }
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

    @Override
    public void resumeReads() {
        // Bytes we already hold, the end of the body or a failure will not make the socket readable again.
        if (failure != null || state == State.DONE || (pending != null && pending.getBuffer().hasRemaining())) {
            next.wakeupReads();
        } else {
            next.resumeReads();
        }
    }

    @Override
    public void terminateReads() throws IOException {
        if (pending != null) {
            pending.close();
            pending = null;
        }
        if (state != State.DONE) {
            exchange.setPersistent(false); // the rest of this body would be read as the next request
            next.terminateReads();
        }
    }
}
