package proxy.upstream;

import io.undertow.client.ClientConnection;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.xnio.Buffers;
import org.xnio.Pooled;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.Conduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.PushBackStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Guards the backend-response edge: a source conduit put under Undertow's HTTP client parser for one
 * request, which reads each response head whole before the parser sees a byte of it, then steps aside
 * for the body. It drops interim 1xx heads (all but 101), refuses a 101 the request did not ask for,
 * a head (interim ones included) over the size limit, a status line that is not HTTP/1.x, and framing
 * a proxy cannot trust: Content-Length more than once, Content-Length with Transfer-Encoding, a
 * Transfer-Encoding other than exactly {@code chunked}. A refusal fails the read with an IOException,
 * its reason kept in {@link #failure()}.
 *
 * <p>Undertow 2.4 behaviours this closes, all in {@code HttpClientConnection}: it takes only 100 as
 * interim, so a 102 or 103 ends the exchange and ProxyHandler hands the connection back to the pool
 * with the real answer unread, for the next client to receive; it reads a head of any size; it frames
 * by the first Content-Length and forwards every copy. What a failed read does there (read listener's
 * catch): the exchange fails and the connection is closed, so the pool never gets it back
 * ({@code ProxyConnectionPool.returnConnection} keeps only open connections); ProxyHandler then asks
 * {@link FailureHook}, and answers 502 through {@link ErrorResponses}.
 *
 * <p>Undertow has no public way to reach a client connection's socket before a request, so
 * {@link #install} calls HttpClientConnection's package-private {@code getConnection()} reflectively;
 * if a later Undertow drops it, the proxy fails at start ({@link #requireUndertowHook()}), never
 * silently unguarded. Over an https:// backend the push-back conduit sits above Undertow's SslConduit, so the guard
 * reads plain bytes there too; backend connections never negotiate HTTP/2 ({@link BackendConnections} does not ask
 * for it), which this guard could not read. One per request, confined to the backend connection's IO thread.
 *
 * <p>The usual answer has its whole head in the first read: it is scanned in a per-thread scratch copy
 * and, when final, left where it lies in the parser's buffer; only the body bytes that came with it are
 * copied, to be pushed back. A head that spans reads, or follows an interim one, is kept in a buffer of its own.
 */
public final class ResponseHeadGuard extends AbstractStreamSourceConduit<StreamSourceConduit> {
    /**
     * What kind of wrong the backend did, so the request's {@link proxy.exchange.Attempts} need not read it
     * from the wording: it went away (reset or closed), before answering or mid-head, or sent garbage.
     */
    public enum Refusal {
        RESET_BEFORE_ANSWER("reset the connection without answering", "reset the connection while the request was being sent"),
        RESET_MID_HEAD("reset the connection in the middle of its response head", null),
        CLOSED_BEFORE_ANSWER("closed the connection without answering", "closed the connection while the request was being sent"),
        CLOSED_MID_HEAD("closed the connection in the middle of its response head", null),
        MALFORMED(null, null);

        private final String reason;
        private final String whileSending;

        Refusal(String reason, String whileSending) {
            this.reason = reason;
            this.whileSending = whileSending;
        }

        /** Whether the backend went away (reset or closed) rather than answer garbage. */
        public boolean wentAway() {
            return this != MALFORMED;
        }

        /**
         * The reason to give when it went away while the request body was still being sent to it: it gave up on
         * a request it did not have whole, rather than fail to answer; null when the kind says nothing of that.
         */
        public String whileSending() {
            return whileSending;
        }
    }

    private static final MethodHandle STREAM_OF_CONNECTION = streamAccessor();
    // What waits in Undertow's push-back conduit: its chain of buffer conduits, each over one pushed-back buffer.
    private static final VarHandle PUSHED_BACK_FIRST = field(PushBackStreamSourceConduit.class, "current", StreamSourceConduit.class);
    private static final Class<?> PUSHED_BACK_BUFFER = nested(PushBackStreamSourceConduit.class, "BufferConduit");
    private static final VarHandle PUSHED_BACK_BYTES = field(PUSHED_BACK_BUFFER, "pooledBuffer", Pooled.class);
    private static final VarHandle PUSHED_BACK_NEXT = field(AbstractConduit.class, "next", Conduit.class);
    private static final byte[] HTTP_1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    /** Where a head read whole is scanned: one per IO thread, used within a single read call only. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[16 * 1024]);

    private final PushBackStreamSourceConduit pushBack;
    private final HttpServerExchange exchange; // the client's, whose answer this backend response becomes
    private final boolean upgradeAsked;
    private final boolean bodyExpected; // false for a HEAD request: its answer has no body, whatever its head says
    private ChunkedResponseCheck chunks; // a chunked body's framing, checked as it passes; null otherwise
    private int headLeft;               // bytes of the final head still to pass before its body starts
    private long checkedAgain;          // bytes at the front of the push-back conduit that chunks has checked already
    private long pushedBackAfterRead;   // bytes waiting in the push-back conduit when our last read returned
    private final int maxHeadBytes;

    private byte[] head;         // the head being scanned: SCRATCH within a read, or our own copy across reads
    private int length;          // bytes in head[]: the current head so far, maybe followed by body bytes
    private int lineStart;       // where the first line not yet scanned starts
    private int droppedBytes;    // interim heads already dropped, counted against the limit too
    private int status = -1;     // the current head's status, once its status line was read
    private int contentLengths;
    private String contentLength;
    private int transferEncodings;
    private String transferEncoding;
    private boolean passing;     // the final head went out: the body passes untouched
    private boolean readingBelow; // inside a read of the conduit below, while the head is read
    private Refusal refusal;
    private String failure;

    private ResponseHeadGuard(PushBackStreamSourceConduit next, HttpServerExchange exchange, boolean upgradeAsked, boolean bodyExpected, int maxHeadBytes) {
        super(next);
        this.pushBack = next;
        this.exchange = exchange;
        this.upgradeAsked = upgradeAsked;
        this.bodyExpected = bodyExpected;
        this.maxHeadBytes = maxHeadBytes;
    }

    /**
     * Puts a fresh guard under the parser of {@code connection}, just before a request is sent on it.
     * Undertow resets the connection's source to its push-back conduit after every exchange, so the
     * guard lasts exactly one response, and the next request gets its own.
     *
     * @param exchange the client's exchange the answer goes back on: a chunked answer gets its trailers filtered there
     * @param upgradeAsked whether the request asks to switch protocols, the only case a 101 may answer
     */
    static ResponseHeadGuard install(ClientConnection connection, HttpServerExchange exchange, boolean upgradeAsked, boolean bodyExpected, int maxHeadBytes) {
        StreamConnection stream;
        try {
            stream = (StreamConnection) STREAM_OF_CONNECTION.invokeExact(connection);
        } catch (Throwable e) { // not Undertow's HTTP/1.1 client connection, or its accessor failed
            throw new IllegalStateException("cannot reach the socket of backend connection " + connection, e);
        }
        if (!(stream.getSourceChannel().getConduit() instanceof PushBackStreamSourceConduit parserInput)) {
            throw new IllegalStateException("unexpected conduit under Undertow's client parser: " + stream.getSourceChannel().getConduit());
        }
        ResponseHeadGuard guard = new ResponseHeadGuard(parserInput, exchange, upgradeAsked, bodyExpected, maxHeadBytes);
        stream.getSourceChannel().setConduit(guard);
        return guard;
    }

    /**
     * Whether {@code connection} is still in the middle of an answer: our guard, or Undertow's body decoder, sits
     * where its parser's input does between requests ({@code HttpClientConnection} puts that input back once an
     * answer is read to its end). Such a connection must serve no other request.
     */
    public static boolean isMidAnswer(ClientConnection connection) {
        try {
            StreamConnection stream = (StreamConnection) STREAM_OF_CONNECTION.invokeExact(connection);
            return !(stream.getSourceChannel().getConduit() instanceof PushBackStreamSourceConduit);
        } catch (Throwable e) {
            return true;
        }
    }

    /** Loads this class now, so an Undertow without the hook fails the proxy at start ({@link #streamAccessor}), not at its first request. */
    static void requireUndertowHook() {
        // nothing more: loading the class resolved the hook or threw
    }

    private static MethodHandle streamAccessor() {
        try {
            Method method = Class.forName("io.undertow.client.http.HttpClientConnection").getDeclaredMethod("getConnection");
            method.setAccessible(true);
            return MethodHandles.lookup().unreflect(method).asType(MethodType.methodType(StreamConnection.class, ClientConnection.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("this Undertow has no HttpClientConnection.getConnection(): the backend "
                    + "response guard cannot be installed (written for Undertow 2.4)", e);
        }
    }

    /** What the backend did wrong, said as "the backend ...": null while nothing went wrong. */
    public String failure() {
        if (failure == null && readingBelow) {
            // Over TLS, Undertow's SslConduit closes the connection inside a read that fails (a reset, a broken record)
            // before it throws, and the close fails the exchange: ProxyHandler asks why while our read is still under way.
            return resetNow().reason;
        }
        return failure;
    }

    /** What kind of wrong the backend did: null while nothing went wrong. */
    public Refusal refusal() {
        if (refusal == null && readingBelow) {
            return resetNow(); // as above: asked from inside our own read of the conduit below
        }
        return refusal;
    }

    private Refusal resetNow() {
        return nothingYet() ? Refusal.RESET_BEFORE_ANSWER : Refusal.RESET_MID_HEAD;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (passing) {
            return chunks == null ? next.read(dst) : readChecked(dst);
        }
        if (failure != null) {
            throw new IOException("the backend " + failure);
        }
        while (dst.hasRemaining()) {
            int start = dst.position();
            int read;
            try {
                readingBelow = true;
                read = next.read(dst);
            } catch (IOException e) {
                throw refuse(resetNow(), e);
            } finally {
                readingBelow = false;
            }
            if (read == 0) {
                return 0;
            }
            if (read == -1) {
                throw refuse(nothingYet() ? Refusal.CLOSED_BEFORE_ANSWER : Refusal.CLOSED_MID_HEAD, null);
            }
            if (nothingYet()) {
                int whole = scanInPlace(dst, start, read);
                if (whole >= 0) {
                    return whole;
                }
                continue;
            }
            keep(dst, start, read);
            int finalHeadEnd = scan();
            if (finalHeadEnd >= 0) {
                return handOver(dst, finalHeadEnd);
            }
        }
        return 0;
    }

    /**
     * A chunked body's bytes, passed on once {@link ChunkedResponseCheck} has seen their framing is sound, each byte
     * once. Undertow's chunk decoder reads a buffer's worth through this guard and pushes what it did not use back
     * into the push-back conduit under it ({@code ChunkedStreamSourceConduit}'s {@code BufferWrapper.pushBack}), so
     * the same bytes come up through this guard again: whatever appeared there since our last read was checked when
     * it first passed, and is skipped.
     */
    private int readChecked(ByteBuffer dst) throws IOException {
        checkedAgain += pushedBack() - pushedBackAfterRead;
        int start = dst.position();
        int read = next.read(dst);
        if (read > 0) {
            int head = Math.min(headLeft, read);
            headLeft -= head;
            int again = (int) Math.min(checkedAgain, read - head);
            checkedAgain -= again;
            try {
                chunks.check(dst, start + head + again, read - head - again);
            } catch (IOException e) {
                refusal = Refusal.MALFORMED;
                failure = e.getMessage();
                throw e;
            }
        }
        pushedBackAfterRead = pushedBack();
        return read;
    }

    /** Bytes waiting in Undertow's push-back conduit under this guard, to be read before the socket's. */
    private long pushedBack() {
        long bytes = 0;
        Object conduit = PUSHED_BACK_FIRST.get(pushBack);
        while (PUSHED_BACK_BUFFER.isInstance(conduit)) {
            bytes += ((ByteBuffer) ((Pooled<?>) PUSHED_BACK_BYTES.get(conduit)).getResource()).remaining();
            conduit = PUSHED_BACK_NEXT.get(conduit);
        }
        return bytes;
    }

    private static VarHandle field(Class<?> owner, String name, Class<?> type) {
        try {
            return MethodHandles.privateLookupIn(owner, MethodHandles.lookup()).findVarHandle(owner, name, type);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("this XNIO has no " + owner.getName() + "." + name + ": the chunked response check "
                    + "cannot tell bytes pushed back from new ones (written for Undertow 2.4's XNIO 3.8)", e);
        }
    }

    private static Class<?> nested(Class<?> owner, String name) {
        for (Class<?> member : owner.getDeclaredClasses()) {
            if (member.getSimpleName().equals(name)) {
                return member;
            }
        }
        throw new IllegalStateException("this XNIO has no " + owner.getName() + "$" + name
                + ": the chunked response check cannot tell bytes pushed back from new ones (written for Undertow 2.4's XNIO 3.8)");
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (passing && chunks != null) {
            for (int i = offs; i < offs + len; i++) {
                if (dsts[i].hasRemaining()) {
                    return readChecked(dsts[i]);
                }
            }
            return 0;
        }
        if (passing) {
            return next.read(dsts, offs, len);
        }
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return 0;
    }

    // Undertow's parser reads heads with read(ByteBuffer); these two keep any other reader scanned too.
    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        return passing && chunks == null ? next.transferTo(position, count, target) : target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        return passing && chunks == null ? next.transferTo(count, throughBuffer, target) : Conduits.transfer(this, count, throughBuffer, target);
    }

    private boolean nothingYet() {
        return length == 0 && droppedBytes == 0;
    }

    /**
     * The first bytes of the answer, just read into dst at start: scans them in the scratch copy. A
     * final head with nothing dropped before it stays in dst as read, the bytes after it pushed back;
     * after a dropped interim head, the final head is handed over; an incomplete head is kept in a
     * buffer of our own. Returns what read() returns, or -1 to read on.
     */
    private int scanInPlace(ByteBuffer dst, int start, int read) throws IOException {
        byte[] scratch = SCRATCH.get();
        if (scratch.length < read) {
            scratch = new byte[read];
            SCRATCH.set(scratch);
        }
        dst.get(start, scratch, 0, read);
        head = scratch;
        length = read;
        int finalHeadEnd = scan();
        if (finalHeadEnd >= 0 && droppedBytes == 0) {
            // The parser gets the head alone. Body bytes left after a head in its buffer, Undertow's
            // client pushes back and then wakes its own read listener, which by then finds the
            // exchange over and reads the socket once more for nothing (EAGAIN): a system call per request.
            if (finalHeadEnd < read) {
                byte[] body = new byte[read - finalHeadEnd];
                dst.get(start + finalHeadEnd, body);
                pushBack.pushBack(Buffers.pooledWrapper(ByteBuffer.wrap(body)));
                dst.position(start + finalHeadEnd);
            }
            head = null;
            startPassing(0);
            return finalHeadEnd;
        }
        dst.position(start);
        if (finalHeadEnd >= 0) {
            return handOver(dst, finalHeadEnd);
        }
        head = Arrays.copyOf(scratch, Math.max(1024, length)); // the scratch is the next request's
        return -1;
    }

    /** Moves the bytes just read into dst over to head[], leaving dst as it was. */
    private void keep(ByteBuffer dst, int start, int read) {
        if (head == null) {
            head = new byte[Math.max(1024, read)];
        } else if (length + read > head.length) {
            head = Arrays.copyOf(head, Math.max(head.length * 2, length + read));
        }
        dst.position(start);
        dst.get(head, length, read);
        dst.position(start);
        length += read;
    }

    /**
     * Reads the complete lines not yet read; drops each interim head it completes. Returns where the
     * final head ends in head[], or -1 while it is incomplete.
     */
    private int scan() throws IOException {
        if (status < 0 && length >= HTTP_1.length && !Arrays.equals(head, 0, HTTP_1.length, HTTP_1, 0, HTTP_1.length)) {
            throw refuse("sent a malformed answer (no HTTP/1.x status line)", null); // say so now, not at its first newline
        }
        for (int newline = indexOfNewline(lineStart); newline >= 0; newline = indexOfNewline(lineStart)) {
            if (newline == lineStart || head[newline - 1] != '\r') {
                // Undertow's client parser fails on it and closes, which would read as "closed without answering".
                throw refuse("sent a malformed answer (a bare LF in its head)", null);
            }
            int end = newline - 1;
            int start = lineStart;
            lineStart = newline + 1;
            if (status < 0) {
                status = statusOf(start, end);
            } else if (end > start) {
                header(start, end);
            } else if (droppedBytes + lineStart > maxHeadBytes) {
                throw refuse(tooLarge(), null);
            } else if (status >= 100 && status < 200 && status != 101) {
                dropInterimHead();
            } else {
                checkFinal();
                return lineStart;
            }
        }
        if (droppedBytes + length > maxHeadBytes) {
            throw refuse(tooLarge(), null);
        }
        return -1;
    }

    private int indexOfNewline(int from) {
        for (int i = from; i < length; i++) {
            if (head[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** "HTTP/1.x DDD " and a reason, maybe empty: anything else is not an HTTP/1 answer Undertow's parser reads. */
    private int statusOf(int start, int end) throws IOException {
        boolean shaped = end - start >= 12 && Arrays.equals(head, start, start + 7, HTTP_1, 0, 7)
                && isDigit(head[start + 7]) && head[start + 8] == ' '
                && head[start + 9] >= '1' && head[start + 9] <= '5' && isDigit(head[start + 10]) && isDigit(head[start + 11])
                && (end - start == 12 || head[start + 12] == ' ');
        if (!shaped) {
            throw refuse("sent a malformed answer (no HTTP/1.x status line)", null);
        }
        if (end - start == 12) {
            // RFC 9112 section 4 keeps the space even when the reason is empty, and Undertow's client parser fails without it.
            throw refuse("sent a malformed answer (a status line without the space after its code)", null);
        }
        return (head[start + 9] - '0') * 100 + (head[start + 10] - '0') * 10 + (head[start + 11] - '0');
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private void header(int start, int end) throws IOException {
        int colon = -1;
        for (int i = start; i < end; i++) {
            byte b = head[i];
            if (b == 0 || b == '\r') {
                throw refuse("sent a malformed answer (a NUL or bare CR in a header)", null);
            }
            if (colon < 0 && b == ':') {
                colon = i;
            } else if (colon < 0 && (b == ' ' || b == '\t')) {
                // RFC 9112 section 5.2 lets a proxy refuse obsolete line folding; whitespace before the
                // colon is refused by section 5.1: either could hide a framing header from one reader.
                throw refuse("sent a malformed answer (whitespace in a header name, or a folded line)", null);
            }
        }
        if (colon <= start) {
            throw refuse("sent a malformed answer (a header line without a name and colon)", null);
        }
        if (isName(start, colon, CONTENT_LENGTH)) {
            contentLengths++;
            contentLength = value(colon + 1, end);
        } else if (isName(start, colon, TRANSFER_ENCODING)) {
            transferEncodings++;
            transferEncoding = value(colon + 1, end);
        }
    }

    /** Whether head[start, end) is {@code lowerCaseName} in any case. OR-ing 0x20 lowers ASCII letters; the one other byte it maps onto {@code -}, CR, was refused already. */
    private boolean isName(int start, int end, byte[] lowerCaseName) {
        if (end - start != lowerCaseName.length) {
            return false;
        }
        for (int i = 0; i < lowerCaseName.length; i++) {
            if ((head[start + i] | 0x20) != lowerCaseName[i]) {
                return false;
            }
        }
        return true;
    }

    private String value(int start, int end) {
        return new String(head, start, end - start, StandardCharsets.ISO_8859_1).trim();
    }

    /**
     * The framing rules of RFC 9112 section 6 for a final response, read strictly: what two readers
     * could frame differently never reaches the client. RFC 9110 section 8.6 lets a recipient either
     * refuse repeated Content-Length fields or merge identical ones; we refuse them all, so the
     * client never sees a head it might frame differently from us.
     */
    private void checkFinal() throws IOException {
        if (status == 101 && !upgradeAsked) {
            throw refuse("sent a malformed answer (101 Switching Protocols to a request that did not ask to upgrade)", null);
        }
        if (contentLengths > 1) {
            throw refuse("sent a malformed answer (Content-Length " + contentLengths + " times)", null);
        }
        if (contentLengths == 1 && !isLength(contentLength)) {
            throw refuse("sent a malformed answer (Content-Length '" + contentLength + "')", null);
        }
        if (transferEncodings > 0 && contentLengths > 0) {
            throw refuse("sent a malformed answer (both Content-Length and Transfer-Encoding)", null);
        }
        if (transferEncodings > 1 || (transferEncodings == 1 && !transferEncoding.equalsIgnoreCase("chunked"))) {
            throw refuse("sent a malformed answer (Transfer-Encoding other than exactly 'chunked')", null);
        }
    }

    private static boolean isLength(String value) {
        if (value.isEmpty() || value.length() > 18) {
            return false; // 18 digits: under Long.MAX_VALUE, so parsing it cannot overflow
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The interim head ends at lineStart: forget it and start on the next one. */
    private void dropInterimHead() {
        droppedBytes += lineStart;
        System.arraycopy(head, lineStart, head, 0, length - lineStart);
        length -= lineStart;
        lineStart = 0;
        status = -1;
        contentLengths = 0;
        contentLength = null;
        transferEncodings = 0;
        transferEncoding = null;
    }

    /**
     * Gives the parser the final head, and no more than the head (what fits in dst now); puts the rest,
     * head and body bytes alike, back in Undertow's push-back conduit, and lets everything pass from now on.
     */
    private int handOver(ByteBuffer dst, int finalHeadEnd) {
        int now = Math.min(finalHeadEnd, dst.remaining());
        dst.put(head, 0, now);
        if (now < length) {
            pushBack.pushBack(Buffers.pooledWrapper(ByteBuffer.wrap(Arrays.copyOfRange(head, now, length))));
        }
        head = null;
        startPassing(finalHeadEnd - now);
        return now;
    }

    /**
     * The final head is through: from now on bytes pass, a chunked body's checked by {@link ChunkedResponseCheck}
     * after the {@code headStillToPass} bytes of head that went back to the push-back conduit.
     */
    private void startPassing(int headStillToPass) {
        passing = true;
        headLeft = headStillToPass;
        boolean hasBody = bodyExpected && status >= 200 && status != 204 && status != 304;
        if (hasBody && transferEncodings == 1) {
            chunks = new ChunkedResponseCheck();
            pushedBackAfterRead = pushedBack(); // what this guard put back: head and body bytes not yet checked
            // Only a chunked body can end in trailers, and ProxyHandler hands the backend's on to the client as they came
            // (HTTPTrailerChannelListener). Its ResponseCallback opens the client's response channel right after the parser
            // reads this head, on this thread, so the filter joins exactly the answers that may carry trailers; the others
            // pay for no conduit. A response already started is a 504 sent before this answer came: it goes nowhere.
            if (!exchange.isResponseStarted()) {
                exchange.addResponseWrapper(TrailerFields::filterResponse);
            }
        }
    }

    private String tooLarge() {
        return "sent a response head over the limit (--max-response-header-size " + maxHeadBytes + " bytes)";
    }

    private IOException refuse(Refusal kind, IOException cause) {
        return refuse(kind, kind.reason, cause);
    }

    private IOException refuse(String why, IOException cause) {
        return refuse(Refusal.MALFORMED, why, cause);
    }

    private IOException refuse(Refusal kind, String why, IOException cause) {
        refusal = kind;
        failure = why;
        head = null;
        return new IOException("the backend " + why, cause);
    }
}
