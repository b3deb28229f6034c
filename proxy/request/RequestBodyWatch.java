package proxy.request;

import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.ConduitFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.StreamSourceConduit;
import proxy.exchange.ClientFault;
import proxy.exchange.ProxiedRequest;
import proxy.upstream.BackendConnectionAbort;

/**
 * Watches a client's request body on its way to the backend: a body that stops arriving for longer than
 * the body timeout fails the read with {@link ClientFault#BODY_TIMEOUT} (nginx's
 * {@code client_body_timeout}; Undertow has no such timeout, only the connection's idle timeout), and
 * any failure to read the body (a reset, a close mid-body) is noted as the client's doing
 * ({@link ClientFault#ABORTED}) so that it is answered 400/408 and never blamed on the backend. Either
 * way the backend connection is aborted ({@link BackendConnectionAbort}), never completed. The timer counts only while the proxy
 * waits for bytes: not while the backend is slow to take them. It also tells {@link ResponseTimeout}
 * when it was last the client's turn, so that time spent waiting for a slow upload is not counted
 * against the backend. Confined to the exchange's IO thread.
 */
public final class RequestBodyWatch extends AbstractStreamSourceConduit<StreamSourceConduit> implements Runnable {
    private final HttpServerExchange exchange;
    private final long timeoutNanos;
    private long lastProgressNanos = System.nanoTime();
    private boolean waiting;
    private XnioExecutor.Key timer;
    private IOException failure;
    private boolean ended;

    private RequestBodyWatch(StreamSourceConduit next, HttpServerExchange exchange, long timeoutNanos) {
        super(next);
        this.exchange = exchange;
        this.timeoutNanos = timeoutNanos;
        ProxiedRequest.of(exchange).watchingBody(this);
    }

    /**
     * Until when it was the client's turn: now while the proxy waits for body bytes, else when the
     * last ones (or the body's end) arrived. From then on, only the backend can hold the request up.
     */
    public long clientsTurnEndedNanos() {
        return waiting ? System.nanoTime() : lastProgressNanos;
    }

    /** Watches this exchange's request body, once the proxy reads it. */
    public static void watch(HttpServerExchange exchange, long timeoutMillis) {
        exchange.addRequestWrapper(new Wrapper(TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
    }

    /** Wraps the request conduit Undertow built (length-delimited, or our strict chunk decoder). */
    private record Wrapper(long timeoutNanos) implements ConduitWrapper<StreamSourceConduit> {
        @Override
        public StreamSourceConduit wrap(ConduitFactory<StreamSourceConduit> factory, HttpServerExchange exchange) {
            return new RequestBodyWatch(factory.create(), exchange, timeoutNanos);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (failure != null) {
            throw failure;
        }
        try {
            int read = next.read(dst);
            progressed(read);
            return read;
        } catch (IOException e) {
            throw clientFailed(e);
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        if (failure != null) {
            throw failure;
        }
        try {
            long read = next.read(dsts, offset, length);
            progressed(read);
            return read;
        } catch (IOException e) {
            throw clientFailed(e);
        }
    }

    private void progressed(long read) {
        if (read == -1) {
            if (!ended) {
                ended = true;
                lastProgressNanos = System.nanoTime(); // the client's last turn: from here on the request is the backend's
            }
            waiting = false;
            cancelTimer();
        } else if (read > 0) {
            lastProgressNanos = System.nanoTime();
            waiting = false;
        } else {
            waiting = true;
            if (timer == null) {
                timer = exchange.getIoThread().executeAfter(this, timeoutNanos, TimeUnit.NANOSECONDS);
            }
        }
    }

    private IOException clientFailed(IOException e) {
        if (!exchange.isResponseStarted()) {
            // Kept only when no more precise cause was noted. Once an answer is under way, the read may
            // have failed because the proxy itself ended the exchange (a 504), which is not the client's doing.
            ProxiedRequest.of(exchange).clientFault(exchange, ClientFault.ABORTED);
        }
        failure = e;
        cancelTimer();
        // Before ProxyHandler hears of it: its own close of the backend connection would complete the request.
        BackendConnectionAbort.abort(exchange);
        return e;
    }

    /** The timer: fails the body when it has been waited for too long, else waits out the rest. */
    @Override
    public void run() {
        timer = null;
        if (failure == null && !ended && waiting && !exchange.getConnection().isOpen()) {
            // An HTTP/2 client's connection closed mid-body: Undertow marks the stream's request complete and wakes no
            // reader, so ProxyHandler's transfer would wait, the backend holding half a request, until --timeout.
            clientFailed(new IOException("the client's connection closed before its request body was complete"));
            return;
        }
        if (failure != null || exchange.isComplete() || exchange.isRequestComplete()) {
            return;
        }
        long idle = System.nanoTime() - lastProgressNanos;
        if (!waiting || idle < timeoutNanos) {
            timer = exchange.getIoThread().executeAfter(this, waiting ? timeoutNanos - idle : timeoutNanos, TimeUnit.NANOSECONDS);
            return;
        }
        ProxiedRequest.of(exchange).clientFault(exchange, ClientFault.BODY_TIMEOUT);
        failure = new IOException("request body refused: nothing arrived for " + TimeUnit.NANOSECONDS.toMillis(idle) + " ms");
        BackendConnectionAbort.abort(exchange);
        // Whoever waits for the body (ProxyHandler's transfer) reads again and gets the failure.
        next.wakeupReads();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.remove();
            timer = null;
        }
    }

    @Override
    public void resumeReads() {
        if (failure != null) {
            next.wakeupReads();
        } else {
            next.resumeReads();
        }
    }

    @Override
    public void terminateReads() throws IOException {
        cancelTimer();
        next.terminateReads();
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
