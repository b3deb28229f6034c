// Every other file of this folder: scripts list this one and JBang follows //SOURCES into it.
//SOURCES HttpsRedirect.java LazyReadSuspension.java ParseFailureAnswer.java ProtocolSettings.java ThreadLocalBufferPool.java
//SOURCES PlainHttpOnTlsPort.java RequestLineTap.java Tunnel.java H2cUpgradedRequest.java

package proxy.listen;

import io.undertow.server.AbstractServerConnection;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The client connection cap without lockout: past {@code --max-client-conns}, the connection idle longest
 * between requests is closed to make room, as nginx reuses keep-alive connections, never one mid-request,
 * awaiting its answer or tunnelled; an HTTP/2 connection is idle while no stream is open on it. Tunnels close
 * after {@code --tunnel-idle-timeout} without a byte either way (HAProxy's {@code timeout tunnel}).
 * It counts each connection's bytes for {@link Tunnel} and the tunnels open for the drain, and feeds each connection's
 * {@link RequestLineTap}. Everything it keeps for a connection is one {@code Slot}, found from an exchange through
 * the connection's attachment, so a request costs no map lookup, no allocation and no conduit beyond one watch
 * each way. Thread-safe: a connection's state changes on its IO thread, which alone closes it for room; the idle
 * queue is locked.
 */
public final class ClientConnectionCap {
    private enum State { IDLE, BUSY, TUNNEL }

    /** Idle connections tried per connection over the cap: one may start a request as it is picked. */
    private static final int ROOM_ATTEMPTS = 3;

    private final int cap;
    private final long tunnelIdleNanos;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger tunnels = new AtomicInteger();
    /** Each open connection's slot, by its socket: how an exchange's connection finds its slot the first time. */
    private final Map<StreamConnection, Slot> slots = new ConcurrentHashMap<>();
    /**
     * The same slots by the client's address, which names one TCP connection on this listener: Undertow's HTTP/2
     * exchanges name a multiplexed connection that keeps its socket private, but tell the peer's address.
     */
    private final Map<SocketAddress, Slot> byPeer = new ConcurrentHashMap<>();
    /** Idle connections, longest idle first; touched on every IO thread, so locked inside. */
    private final IdleQueue idle = new IdleQueue();
    /** The slot of an HTTP/1.1 connection, put on Undertow's connection by its first exchange. */
    private static final AttachmentKey<Slot> SLOT = AttachmentKey.create(Slot.class);

    public ClientConnectionCap(int cap, long tunnelIdleMillis) {
        this.cap = cap;
        this.tunnelIdleNanos = TimeUnit.MILLISECONDS.toNanos(tunnelIdleMillis);
    }

    /**
     * Tracks a newly accepted connection (before Undertow's open listener takes it, so its conduits sit under
     * Undertow's and survive an upgrade), then makes room if it is one over the cap.
     *
     * @return the connection's request-line tap, which the watch on its source feeds
     */
    public RequestLineTap accepted(StreamConnection connection) {
        Slot slot = new Slot(connection);
        slots.put(connection, slot);
        if (connection.getPeerAddress() != null) {
            byPeer.put(connection.getPeerAddress(), slot);
        }
        connection.getSourceChannel().setConduit(new SourceWatch(connection.getSourceChannel().getConduit(), slot));
        connection.getSinkChannel().setConduit(new SinkWatch(connection.getSinkChannel().getConduit(), slot));
        if (open.incrementAndGet() > cap) {
            makeRoom(ROOM_ATTEMPTS);
        }
        slot.becomeIdle(); // awaiting its first request: reusable, as nginx's are, but the newest of all
        return slot.requestLine;
    }

    /**
     * Counts the connection out when it closes: called once Undertow's open listener has set its own close
     * listener (AbstractServerConnection sets it, and no other Undertow code replaces it), which still runs.
     */
    public void opened(StreamConnection connection) {
        ChannelListener<? super StreamConnection> undertows = connection.getCloseListener();
        connection.setCloseListener(closed -> {
            Slot slot = slots.remove(closed);
            if (slot != null) {
                forget(slot);
                slot.closed();
                countOut(slot);
            }
            ChannelListeners.invokeChannelListener(closed, undertows);
        });
        Slot early = connection.isOpen() ? null : slots.remove(connection);
        if (early != null) { // closed before the listener was in place (a parse failure on the first read)
            forget(early);
            early.closed();
            countOut(early);
        }
    }

    /** Client connections counted open now. */
    public int open() {
        return open.get();
    }

    /** Connections whose slot is still kept, by socket and by peer: each must fall to 0 as they close, or it leaks. */
    public int kept() {
        return slots.size() + byPeer.size();
    }

    private void forget(Slot slot) {
        SocketAddress peer = slot.connection.getPeerAddress();
        if (peer != null) {
            byPeer.remove(peer, slot);
        }
    }

    /**
     * Wraps the root handler: each exchange, when it completes, leaves its connection idle, tunnelled or closing
     * and re-arms its request-line tap; an HTTP/2 stream keeps its connection busy from its start to its end. An
     * HTTP/1.1 connection gets its slot and the byte counts a {@link Tunnel} reads as attachments on its first
     * exchange, so the requests after it find them there.
     */
    public HttpHandler around(HttpHandler next) {
        return exchange -> {
            ServerConnection connection = exchange.getConnection();
            if (connection instanceof AbstractServerConnection server) {
                Slot slot = connection.getAttachment(SLOT);
                if (slot == null && (slot = slots.get(server.getChannel())) != null) {
                    connection.putAttachment(SLOT, slot);
                    connection.putAttachment(Tunnel.BYTES, slot.bytes);
                }
                if (slot != null) {
                    exchange.addExchangeCompleteListener(slot.requestEnd);
                }
            } else {
                Slot slot = byPeer.get(connection.getPeerAddress());
                if (slot != null) {
                    slot.streamStarted();
                    exchange.addExchangeCompleteListener(slot.streamEnd);
                }
            }
            next.handleRequest(exchange);
        };
    }

    /** Tunnels (connections switched by a 101) open now: what a drain waits for. */
    public int openTunnels() {
        return tunnels.get();
    }

    /**
     * An HTTP/1.1 exchange completed: the next byte read starts a request, whose line the tap records; the connection
     * is idle unless the exchange opened a tunnel, closes it, or a pipelined request is already read.
     */
    private void requestCompleted(Slot slot, HttpServerExchange exchange, ExchangeCompletionListener.NextListener next) {
        try {
            AbstractServerConnection connection = (AbstractServerConnection) exchange.getConnection();
            slot.requestLine.nextRequest(connection.getExtraBytes());
            if (connection.isOpen()) {
                if (exchange.getStatusCode() == 101) {
                    slot.becomeTunnel();
                } else if (exchange.isPersistent() && !hasPipelinedBytes(connection)) {
                    slot.becomeIdle();
                    if (open.get() > cap) {
                        makeRoom(ROOM_ATTEMPTS);
                    }
                }
            }
        } finally {
            next.proceed();
        }
    }

    /** An HTTP/2 stream ended: with none left open, its connection is idle, and the first to close when room is needed. */
    private void streamCompleted(Slot slot, HttpServerExchange exchange, ExchangeCompletionListener.NextListener next) {
        try {
            if (slot.streamEnded() && exchange.getConnection().isOpen() && open.get() > cap) {
                makeRoom(ROOM_ATTEMPTS);
            }
        } finally {
            next.proceed();
        }
    }

    /** A pipelined request already read past this one is mid-request even though no byte is still to come. */
    private static boolean hasPipelinedBytes(AbstractServerConnection connection) {
        return connection.getExtraBytes() != null && connection.getExtraBytes().getBuffer().hasRemaining();
    }

    /**
     * Closes the connection idle longest, on its own IO thread, where its state changes: if a request began
     * on it meanwhile, it stays and the next idle one is tried. None idle: the new one is served over the
     * cap (XNIO stops accepting one past it per IO thread), and the next connection to fall idle makes room.
     */
    private void makeRoom(int attemptsLeft) {
        Slot victim = idle.takeOldest();
        if (victim == null) {
            return;
        }
        // Counted out now, not when its close is done on its thread: the exchange that completes next must
        // not see the room still taken and close a second one.
        countOut(victim);
        victim.connection.getIoThread().execute(() -> {
            if (victim.state == State.IDLE) {
                close(victim.connection);
            } else if (victim.connection.isOpen() && victim.countedOut.compareAndSet(true, false)) { // a request began on it
                if (open.incrementAndGet() > cap && attemptsLeft > 1) {
                    makeRoom(attemptsLeft - 1);
                }
            }
        });
    }

    /** Takes the connection off the count, once: when picked to make room, or when it closes. */
    private void countOut(Slot slot) {
        if (slot.countedOut.compareAndSet(false, true)) {
            open.decrementAndGet();
        }
    }

    /**
     * Closes the connection, then calls whoever waits to read or write on it, as Undertow's own read timeout
     * does: a closed socket gets no more events, and a tunnel's transfer to the backend learns of the end only
     * from a read, so without it the backend's side of the tunnel would stay open.
     */
    private static void close(StreamConnection connection) {
        IoUtils.safeClose(connection);
        if (connection.getSourceChannel().isReadResumed()) {
            ChannelListeners.invokeChannelListener(connection.getSourceChannel(), connection.getSourceChannel().getReadListener());
        }
        if (connection.getSinkChannel().isWriteResumed()) {
            ChannelListeners.invokeChannelListener(connection.getSinkChannel(), connection.getSinkChannel().getWriteListener());
        }
    }

    /** One client connection's state, changed on its IO thread. */
    private final class Slot {
        final StreamConnection connection;
        final AtomicBoolean countedOut = new AtomicBoolean();
        final Tunnel.Bytes bytes = new Tunnel.Bytes();
        final RequestLineTap requestLine = new RequestLineTap();
        final ExchangeCompletionListener requestEnd = (exchange, next) -> requestCompleted(this, exchange, next);
        final ExchangeCompletionListener streamEnd = (exchange, next) -> streamCompleted(this, exchange, next);
        volatile State state = State.BUSY;
        // The idle queue's links, guarded by its lock.
        Slot older;
        Slot newer;
        boolean queued;
        long lastActivity;
        // HTTP/2: streams open now. Bytes alone say nothing there (PING, SETTINGS, WINDOW_UPDATE come between streams).
        private final AtomicInteger streams = new AtomicInteger();
        private volatile boolean multiplexed;

        Slot(StreamConnection connection) {
            this.connection = connection;
        }

        void becomeIdle() {
            state = State.IDLE;
            idle.moveToNewest(this);
        }

        /**
         * A byte arrived: a request starts (or a tunnel is used); it is no longer a candidate to close. It stays in the
         * idle queue until it falls idle again (moved to the newest end) or {@link #makeRoom} passes over it: one lock
         * per request instead of two.
         */
        void received() {
            if (state == State.IDLE && !multiplexed) {
                state = State.BUSY;
            } else if (state == State.TUNNEL) {
                lastActivity = System.nanoTime();
            }
        }

        void streamStarted() {
            multiplexed = true;
            if (streams.getAndIncrement() == 0) {
                state = State.BUSY; // left in the idle queue, as an HTTP/1.1 connection's request leaves it
            }
        }

        /** Whether the connection fell idle: its last open stream ended. */
        boolean streamEnded() {
            if (streams.decrementAndGet() == 0) {
                becomeIdle();
                return true;
            }
            return false;
        }

        void sent() {
            if (state == State.TUNNEL) {
                lastActivity = System.nanoTime();
            }
        }

        void becomeTunnel() {
            if (state != State.TUNNEL) {
                tunnels.incrementAndGet();
            }
            state = State.TUNNEL;
            leaveIdle();
            lastActivity = System.nanoTime();
            connection.getIoThread().executeAfter(this::checkTunnel, TimeUnit.NANOSECONDS.toMillis(tunnelIdleNanos), TimeUnit.MILLISECONDS);
        }

        private void checkTunnel() {
            if (!connection.isOpen()) {
                return;
            }
            long idleFor = System.nanoTime() - lastActivity;
            if (idleFor >= tunnelIdleNanos) {
                close(connection);
            } else {
                connection.getIoThread().executeAfter(this::checkTunnel, TimeUnit.NANOSECONDS.toMillis(tunnelIdleNanos - idleFor) + 1,
                        TimeUnit.MILLISECONDS);
            }
        }

        void closed() {
            if (state == State.TUNNEL) {
                tunnels.decrementAndGet();
            }
            state = State.BUSY;
            leaveIdle();
        }

        private void leaveIdle() {
            idle.remove(this);
        }
    }

    /**
     * Connections in the order they last fell idle, linked through their slots; one that went busy since stays where
     * it was until it falls idle again or is passed over. A request costs one move to the newest end, a few pointer
     * changes under the lock, and nothing allocated. Thread-safe.
     */
    private static final class IdleQueue {
        private Slot oldest;
        private Slot newest;

        /** Puts {@code slot} at the newest end, taking it from where it was. */
        synchronized void moveToNewest(Slot slot) {
            if (slot.queued) {
                if (slot == newest) {
                    return;
                }
                remove(slot);
            }
            slot.queued = true;
            slot.older = newest;
            slot.newer = null;
            if (newest == null) {
                oldest = slot;
            } else {
                newest.newer = slot;
            }
            newest = slot;
        }

        synchronized void remove(Slot slot) {
            if (!slot.queued) {
                return;
            }
            slot.queued = false;
            if (slot.older == null) {
                oldest = slot.newer;
            } else {
                slot.older.newer = slot.newer;
            }
            if (slot.newer == null) {
                newest = slot.older;
            } else {
                slot.newer.older = slot.older;
            }
            slot.older = null;
            slot.newer = null;
        }

        /** The connection idle longest, taken off the queue with the busy ones queued before it; null when none is idle. */
        synchronized Slot takeOldest() {
            for (Slot slot = oldest; slot != null; slot = oldest) {
                remove(slot);
                if (slot.state == State.IDLE) {
                    return slot;
                }
            }
            return null;
        }
    }

    /** Tells the slot when bytes arrive from the client, and hands the request line's bytes to its tap. */
    private static final class SourceWatch extends AbstractStreamSourceConduit<StreamSourceConduit> {
        private final Slot slot;

        SourceWatch(StreamSourceConduit next, Slot slot) {
            super(next);
            this.slot = slot;
        }

        private int seen(int read) {
            seen((long) read);
            return read;
        }

        private long seen(long read) {
            if (read > 0) {
                slot.bytes.received += read;
                slot.received();
            }
            return read;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int start = dst.position();
            int read = next.read(dst);
            if (read > 0 && slot.requestLine.recording()) {
                slot.requestLine.record(dst, start, dst.position());
            }
            return seen(read);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            if (!slot.requestLine.recording()) {
                return seen(next.read(dsts, offs, len));
            }
            int[] starts = new int[len];
            for (int i = 0; i < len; i++) {
                starts[i] = dsts[offs + i].position();
            }
            long read = next.read(dsts, offs, len);
            for (int i = 0; i < len && read > 0 && slot.requestLine.recording(); i++) {
                slot.requestLine.record(dsts[offs + i], starts[i], dsts[offs + i].position());
            }
            return seen(read);
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            return seen(next.transferTo(position, count, target));
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            return seen(next.transferTo(count, throughBuffer, target));
        }
    }

    /** Tells the slot when bytes go to the client, so a tunnel answering in one direction only is not idle. */
    private static final class SinkWatch extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private final Slot slot;

        SinkWatch(StreamSinkConduit next, Slot slot) {
            super(next);
            this.slot = slot;
        }

        private int seen(int written) {
            seen((long) written);
            return written;
        }

        private long seen(long written) {
            if (written > 0) {
                slot.bytes.sent += written;
                slot.sent();
            }
            return written;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return seen(next.write(src));
        }

        @Override
        public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
            return seen(next.write(srcs, offs, len));
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            return seen(next.writeFinal(src));
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
            return seen(next.writeFinal(srcs, offs, len));
        }

        @Override
        public long transferFrom(FileChannel src, long position, long count) throws IOException {
            return seen(next.transferFrom(src, position, count));
        }

        @Override
        public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) throws IOException {
            return seen(next.transferFrom(source, count, throughBuffer));
        }
    }
}
