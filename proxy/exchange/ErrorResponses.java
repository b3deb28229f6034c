package proxy.exchange;

import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import model.Failure;
import model.FailurePolicy;

/**
 * Gives the proxy's own answers (their rows in {@link ProxyAnswer}) when it, not a backend, ends a request: the status
 * and reason the {@link FailurePolicy} decided on a backend's failure (502, 503, 504), 503 when no
 * backend could take it, 413 for a body over the limit, and the status of a
 * {@link ClientFault} (400, 408, 413, 501) when the client caused the failure. Undertow's ProxyHandler
 * ends such requests with a bare status; this listener runs just before that empty response is sent.
 * What Undertow's parser refuses before any handler of ours runs gets its body from
 * {@link ParseFailureAnswer} instead; only Undertow's {@code HostHeaderHandler} (a {@code Host} that does
 * not match an absolute-form target) still ends its exchange with an empty 400, before a listener of
 * ours can be registered. Stateless.
 */
public final class ErrorResponses implements DefaultResponseListener {
    static final ErrorResponses INSTANCE = new ErrorResponses();

    /** ProxyHandler's "next" handler: reached when the pool had no backend to offer at all. */
    public static final HttpHandler NO_BACKEND = exchange -> {
        exchange.setStatusCode(503);
        exchange.endExchange();
    };

    private ErrorResponses() {}

    @Override
    public boolean handleDefaultResponse(HttpServerExchange exchange) {
        if (!exchange.isResponseChannelAvailable()) {
            return false;
        }
        ProxiedRequest request = ProxiedRequest.peek(exchange);
        ClientFault fault = request == null ? null : request.clientFault();
        if (fault != null) {
            // Whatever ProxyHandler made of it (500 from its body transfer, 503 after the backend
            // connection we closed), the client caused it: say what it did.
            exchange.setStatusCode(fault.status());
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender().send(fault.body());
            return true;
        }
        // ProxyHandler ends every failed request with a bare 503; the FailurePolicy decided what it is
        // (502 for a backend that failed after receiving it, as nginx and HAProxy say; 503; 504).
        Attempts attempts = request == null ? null : request.attempts();
        // ProxyHandler says 500 when writing the request to the backend failed (its IoExceptionHandler):
        // the client's side is ruled out above, so the backend reset or closed while it was being sent.
        if (exchange.getStatusCode() == 500 && attempts != null && attempts.hasBackend()) {
            attempts.backendFailed(!exchange.isRequestComplete());
            exchange.setPersistent(false);
        }
        FailurePolicy.Decision decision = attempts == null ? null : attempts.decision();
        if (decision != null) {
            exchange.setStatusCode(decision.status());
        }
        // Only these reach here: a client's fault was answered above, and what Undertow's parser refuses
        // (400, 414, 431) never gets this far (ParseFailureAnswer gives it a body).
        ProxyAnswer answer = ProxyAnswer.forStatus(exchange.getStatusCode());
        String body = answer == null ? null
                : answer == ProxyAnswer.BACKEND_FAILED ? answer.body(decision != null ? decision.reason() : Failure.CLOSED_BEFORE_ANSWER.reason())
                : answer.body();
        if (body == null) {
            return false;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send(body);
        return true;
    }
}
