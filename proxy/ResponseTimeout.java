package proxy;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.TimeUnit;
import model.Failure;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;

/**
 * Answers 504 when a backend keeps a request waiting for longer than the timeout, as nginx's
 * proxy_read_timeout (for the first byte of the answer) and proxy_send_timeout (for taking the body) do.
 * The time is the backend's only: while the proxy waits for a client's body bytes, that is the client's
 * turn ({@link RequestBodyWatch} says until when; --body-timeout governs it), so an upload that trickles
 * in for longer than the timeout is never a 504 blamed on the backend. Undertow's ProxyHandler only has a
 * timeout on the whole request, which would also cut a long download that is flowing fine; once the
 * response has started, this timer is done, and a stalled transfer is left to the idle timeout. One per
 * request, armed on the exchange's IO thread and confined to it.
 */
final class ResponseTimeout implements Runnable, ExchangeCompletionListener {
    private final HttpServerExchange exchange;
    private final long timeoutNanos;
    private final long armedNanos = System.nanoTime();
    private XnioExecutor.Key timer;

    private ResponseTimeout(HttpServerExchange exchange, long millis) {
        this.exchange = exchange;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(millis);
        this.timer = exchange.getIoThread().executeAfter(this, millis, TimeUnit.MILLISECONDS);
    }

    static void arm(HttpServerExchange exchange, long millis) {
        exchange.addExchangeCompleteListener(new ResponseTimeout(exchange, millis));
    }

    @Override
    public void run() {
        if (exchange.isResponseStarted() || exchange.isComplete()) {
            return;
        }
        long waited = System.nanoTime() - backendsTurnStartedNanos();
        if (waited < timeoutNanos) {
            // Part of the time was the client's (a body still arriving): the backend gets its full share.
            timer = exchange.getIoThread().executeAfter(this, timeoutNanos - waited, TimeUnit.NANOSECONDS);
            return;
        }
        Attempts attempts = Attempts.peek(exchange);
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
        RequestBodyWatch body = RequestBodyWatch.of(exchange);
        return body == null ? armedNanos : Math.max(armedNanos, body.clientsTurnEndedNanos());
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        timer.remove();
        next.proceed();
    }
}
