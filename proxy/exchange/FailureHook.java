package proxy.exchange;

import io.undertow.predicate.Predicate;
import io.undertow.server.HttpServerExchange;
import model.Failure;
import model.FailurePolicy;

/**
 * Undertow's way in to our {@link FailurePolicy} for a request that failed after it was sent: when a
 * backend resets, closes or answers garbage, ProxyHandler's {@code handleFailure} asks its "idempotent
 * request" predicate whether to try again, and this predicate answers with the policy's decision, noted
 * in the request's {@link Attempts} for the answer ({@link ErrorResponses}) and health. A true sends
 * the request round our one retry loop (ProxyHandler calls {@link BalancingProxyClient#findTarget}
 * again); ProxyHandler itself never replays a body it has started streaming. Stateless.
 */
public final class FailureHook implements Predicate {
    public static final FailureHook INSTANCE = new FailureHook();

    private FailureHook() {}

    @Override
    public boolean resolve(HttpServerExchange exchange) {
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        Attempts attempts = request == null ? null : request.attempts();
        if (attempts == null) {
            return false;
        }
        if (request.clientFault() != null) {
            return attempts.failed(Failure.CLIENT_FAULT, null).retry(); // the client broke it: no backend to blame, none may retry it
        }
        boolean retry = attempts.backendFailed(!exchange.isRequestComplete()).retry();
        if (!exchange.isRequestComplete()) {
            exchange.setPersistent(false); // close rather than drain a body no backend will read (up to --max-body-size)
        }
        return retry;
    }
}
