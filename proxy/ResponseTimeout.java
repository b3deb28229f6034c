package proxy;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;

/**
 * Answers 504 when no backend has started to answer a request within the timeout, counted from when
 * the whole request was received and handed on, as nginx's proxy_read_timeout does for the first byte:
 * armed by {@link GatewayHandler} for a request without a body, by {@link RequestBodyWatch} when it reads
 * the body's end, so an upload that trickles in within --body-timeout is never a 504 blamed on the
 * backend. Undertow's ProxyHandler only has a timeout on the whole request, which would also cut a long
 * download that is flowing fine; once the response has started, this timer is done, and a stalled
 * transfer (or a backend that stops taking the body) is left to the idle timeout. One per request,
 * armed on the exchange's IO thread and confined to it.
 */
final class ResponseTimeout implements Runnable, ExchangeCompletionListener {
    private final HttpServerExchange exchange;
    private final XnioExecutor.Key timer;

    private ResponseTimeout(HttpServerExchange exchange, long millis) {
        this.exchange = exchange;
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
        exchange.setStatusCode(504);
        exchange.endExchange();
        // Only now, with the 504 under way: closing first would let ProxyHandler retry the request.
        Attempts attempts = Attempts.peek(exchange);
        if (attempts != null && attempts.connection() != null) {
            IoUtils.safeClose(attempts.connection());
        }
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        timer.remove();
        next.proceed();
    }
}
