package proxy.upstream;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.TimeUnit;
import model.Failure;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import proxy.exchange.Attempts;
import proxy.exchange.ProxiedRequest;
import proxy.request.RequestBodyWatch;

/**
 * Answers 504 when a backend keeps a request waiting for longer than the timeout, as nginx's
 * proxy_read_timeout (for the first byte of the answer) and proxy_send_timeout (for taking the body) do.
 * The time is the backend's only: while the proxy waits for a client's body bytes, that is the client's
 * turn ({@link RequestBodyWatch} says until when; --body-timeout governs it), so an upload that trickles
 * in for longer than the timeout is never a 504 blamed on the backend. Undertow's ProxyHandler only has a
 * timeout on the whole request, which would also cut a long download that is flowing fine; once the
 * response has started, this timer is done, and a stalled transfer is left to the idle timeout.
 *
 * <p>Every request is timed, and almost none times out, so arming and disarming must cost next to
 * nothing: an XNIO timer per request costs a sorted-set insertion and removal on the IO thread (2% of
 * the proxy's CPU in a profile under load). Instead each IO thread keeps its armed timeouts in a list
 * ordered by deadline ({@link Deadlines}), which with one timeout for all requests is arrival order:
 * arming appends, completing unlinks, and a single XNIO timer wakes the thread at the earliest deadline.
 * One per request, armed on the exchange's IO thread and confined to it.
 */
public final class ResponseTimeout implements ExchangeCompletionListener {
    private static final ThreadLocal<Deadlines> DEADLINES = ThreadLocal.withInitial(Deadlines::new);

    private final HttpServerExchange exchange;
    private final Deadlines deadlines;
    private final long timeoutNanos;
    private final long armedNanos = System.nanoTime();
    private long deadlineNanos;
    private ResponseTimeout previous;
    private ResponseTimeout next;
    private boolean queued;

    private ResponseTimeout(HttpServerExchange exchange, Deadlines deadlines, long millis) {
        this.exchange = exchange;
        this.deadlines = deadlines;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(millis);
        this.deadlineNanos = armedNanos + timeoutNanos;
    }

    /** Starts timing the backend's turn of {@code exchange}; called on its IO thread. */
    public static void arm(HttpServerExchange exchange, long millis) {
        Deadlines deadlines = DEADLINES.get();
        ResponseTimeout timeout = new ResponseTimeout(exchange, deadlines, millis);
        deadlines.add(timeout, exchange.getIoThread());
        exchange.addExchangeCompleteListener(timeout);
    }

    /** The deadline passed: a 504, unless the answer has started or the client's turn pushed it back. */
    private void expire() {
        if (exchange.isResponseStarted() || exchange.isComplete()) {
            return;
        }
        long waited = System.nanoTime() - backendsTurnStartedNanos();
        if (waited < timeoutNanos) {
            // Part of the time was the client's (a body still arriving): the backend gets its full share.
            deadlineNanos = System.nanoTime() + timeoutNanos - waited;
            deadlines.add(this, exchange.getIoThread());
            return;
        }
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        Attempts attempts = request == null ? null : request.attempts();
        if (attempts != null) {
            attempts.failed(Failure.RESPONSE_TIMED_OUT, null); // the FailurePolicy's 504, counted against the backend
        }
        exchange.setStatusCode(504);
        if (!exchange.isRequestComplete()) {
            exchange.setPersistent(false); // close rather than drain a body no backend will read
        }
        exchange.endExchange();
        // Only now, with the 504 under way: closing first would let ProxyHandler retry the request.
        if (attempts != null && attempts.connection() != null) {
            IoUtils.safeClose(attempts.connection());
        }
    }

    /** Since when only the backend holds the request up: arrival, or the end of the client's last turn sending the body. */
    private long backendsTurnStartedNanos() {
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        RequestBodyWatch body = request == null ? null : request.bodyWatch();
        return body == null ? armedNanos : Math.max(armedNanos, body.clientsTurnEndedNanos());
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        if (exchange.getIoThread() == Thread.currentThread()) {
            deadlines.remove(this);
        } else {
            exchange.getIoThread().execute(() -> deadlines.remove(this)); // the list belongs to the IO thread
        }
        next.proceed();
    }

    /**
     * One IO thread's armed timeouts, earliest deadline first, and the one XNIO timer that wakes the
     * thread at the earliest. A timeout that completes early is unlinked and leaves the timer be: when
     * it fires, it finds a later deadline at the head and sets itself again for that one.
     */
    private static final class Deadlines implements Runnable {
        private ResponseTimeout first;
        private ResponseTimeout last;
        private XnioExecutor.Key timer;
        private long timerNanos;
        private XnioIoThread thread;

        /** Links {@code timeout} in deadline order: from the end, where a new deadline almost always belongs. */
        void add(ResponseTimeout timeout, XnioIoThread ioThread) {
            thread = ioThread;
            ResponseTimeout after = last;
            while (after != null && after.deadlineNanos - timeout.deadlineNanos > 0) { // differences: nanoTime may wrap
                after = after.previous;
            }
            timeout.previous = after;
            timeout.next = after == null ? first : after.next;
            if (timeout.next == null) {
                last = timeout;
            } else {
                timeout.next.previous = timeout;
            }
            if (after == null) {
                first = timeout;
            } else {
                after.next = timeout;
            }
            timeout.queued = true;
            if (timer == null || first.deadlineNanos - timerNanos < 0) {
                schedule(first.deadlineNanos);
            }
        }

        void remove(ResponseTimeout timeout) {
            if (!timeout.queued) {
                return;
            }
            timeout.queued = false;
            if (timeout.previous == null) {
                first = timeout.next;
            } else {
                timeout.previous.next = timeout.next;
            }
            if (timeout.next == null) {
                last = timeout.previous;
            } else {
                timeout.next.previous = timeout.previous;
            }
            timeout.previous = null;
            timeout.next = null;
        }

        private void schedule(long atNanos) {
            if (timer != null) {
                timer.remove();
            }
            timerNanos = atNanos;
            timer = thread.executeAfter(this, Math.max(0, atNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        /** The timer: expires every timeout whose deadline has passed, then waits for the next. */
        @Override
        public void run() {
            timer = null;
            long now = System.nanoTime();
            while (first != null && first.deadlineNanos - now <= 0) {
                ResponseTimeout due = first;
                remove(due);
                due.expire(); // may link it again, later
            }
            if (first != null && timer == null) {
                schedule(first.deadlineNanos);
            }
        }
    }
}
