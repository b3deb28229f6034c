package proxy;

import io.undertow.predicate.IdempotentPredicate;
import io.undertow.predicate.Predicate;
import io.undertow.server.HttpServerExchange;

/**
 * Decides, when a backend fails after the request was sent to it, whether ProxyHandler may send it to
 * another backend: only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE), since a POST may
 * already have taken effect. ProxyHandler asks this exactly on that failure path, so it is also where
 * we note the failure, for the 502 in {@link ErrorResponses}, unless a {@link ClientFault} explains it. ProxyHandler itself never replays a body
 * it has started streaming. Stateless.
 */
final class RetryPolicy implements Predicate {
    static final RetryPolicy INSTANCE = new RetryPolicy();

    private RetryPolicy() {}

    @Override
    public boolean resolve(HttpServerExchange exchange) {
        if (ClientFault.of(exchange) != null) {
            return false; // the client broke the request (bad body, timeout, abort): no backend is to blame, none may retry it
        }
        Attempts attempts = Attempts.peek(exchange);
        if (attempts != null) {
            attempts.backendFailed(!exchange.isRequestComplete());
        }
        if (!exchange.isRequestComplete()) {
            exchange.setPersistent(false); // close rather than drain a body no backend will read (up to --max-body-size)
        }
        return IdempotentPredicate.INSTANCE.resolve(exchange);
    }
}
