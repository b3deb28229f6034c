package proxy.listen;

import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Saves the two {@code epoll_ctl} calls a proxied request would otherwise cost on its client
 * connection. Undertow's {@code HttpReadListener} suspends reads on the client connection as soon as it
 * has parsed a request head and resumes them when the exchange completes. The JDK's epoll selector turns
 * a suspension into {@code EPOLL_CTL_DEL} at its next select, which always comes while the backend is
 * answering, and the resumption into {@code EPOLL_CTL_ADD}: two system calls per request for nothing,
 * since a keep-alive client sends nothing while it waits for its answer.
 *
 * <p>This conduit, at the bottom of each client connection's source, takes the suspension at its word
 * but lazily, as Netty does with its auto-read: the socket stays registered for reading, and only if it
 * really becomes readable while reads are suspended (a pipelined request, the client closing, a body
 * nobody asked for yet) is the interest dropped, then and there. Whoever suspended reads sees exactly
 * what it asked for: {@link #isReadResumed()} answers false and no read-ready event reaches it until it
 * resumes. Resuming is passed down every time; the selector ignores a resumption of what is still
 * registered.
 *
 * <p>Thread-safe in the way XNIO needs: reads may be resumed from any thread, while read-ready events
 * come on the connection's IO thread, which re-checks after dropping the interest so that a resumption
 * racing with the drop is never lost.
 */
public final class LazyReadSuspension extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private volatile boolean wanted;

    private LazyReadSuspension(StreamSourceConduit next) {
        super(next);
        this.wanted = next.isReadResumed();
    }

    /**
     * Puts the conduit right above the socket of a newly accepted client connection, and routes the
     * socket's read-ready events through it: XNIO's {@code setConduit} only swaps the channel's
     * reference, leaving the socket to call the channel's own handler directly.
     */
    public static void install(StreamConnection connection) {
        ConduitStreamSourceChannel channel = connection.getSourceChannel();
        LazyReadSuspension lazy = new LazyReadSuspension(channel.getConduit());
        channel.setConduit(lazy);
        lazy.setReadReadyHandler(new ReadReadyHandler.ChannelListenerHandler<>(channel));
    }

    @Override
    public void suspendReads() {
        wanted = false; // the socket's interest stays: see readReady below
    }

    @Override
    public void resumeReads() {
        wanted = true;
        next.resumeReads();
    }

    @Override
    public void wakeupReads() {
        wanted = true;
        next.wakeupReads();
    }

    @Override
    public boolean isReadResumed() {
        return wanted;
    }

    @Override
    public void setReadReadyHandler(ReadReadyHandler handler) {
        next.setReadReadyHandler(handler == null ? null : new Filter(handler));
    }

    /** Passes read-ready events on only while reads are wanted; the first unwanted one drops the interest for real. */
    private final class Filter implements ReadReadyHandler {
        private final ReadReadyHandler handler;

        Filter(ReadReadyHandler handler) {
            this.handler = handler;
        }

        @Override
        public void readReady() {
            if (wanted) {
                handler.readReady();
                return;
            }
            next.suspendReads();
            if (wanted) { // resumed from another thread between the check and the suspension
                next.resumeReads();
            }
        }

        @Override
        public void forceTermination() {
            handler.forceTermination();
        }

        @Override
        public void terminated() {
            handler.terminated();
        }
    }
}
