package proxy;

import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/**
 * The short plain-text bodies the proxy answers with when it, not a backend, ends a request: 502 when a
 * backend failed after the request was sent to it, 503 when no backend could take it, 504 when the
 * backend did not answer in time, 413 and 431/400 for requests over the limits, and the status of a
 * {@link ClientFault} (400, 408, 413, 501) when the client caused the failure. Undertow's ProxyHandler
 * ends such requests with a bare status; this listener runs just before that empty response is sent.
 * What Undertow's parser refuses before any handler of ours runs gets its body from
 * {@link ParseFailureAnswer} instead; only Undertow's {@code HostHeaderHandler} (a {@code Host} that does
 * not match an absolute-form target) still ends its exchange with an empty 400, before a listener of
 * ours can be registered. Stateless.
 */
final class ErrorResponses implements DefaultResponseListener {
    static final ErrorResponses INSTANCE = new ErrorResponses();

    /** ProxyHandler's "next" handler: reached when the pool had no backend to offer at all. */
    static final HttpHandler NO_BACKEND = exchange -> {
        exchange.setStatusCode(503);
        exchange.endExchange();
    };

    private ErrorResponses() {}

    @Override
    public boolean handleDefaultResponse(HttpServerExchange exchange) {
        if (!exchange.isResponseChannelAvailable()) {
            return false;
        }
        ClientFault fault = ClientFault.of(exchange);
        if (fault != null) {
            // Whatever ProxyHandler made of it (500 from its body transfer, 503 after the backend
            // connection we closed), the client caused it: say what it did.
            exchange.setStatusCode(fault.status());
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender().send(fault.body());
            return true;
        }
        Attempts attempts = Attempts.peek(exchange);
        // ProxyHandler says 500 when writing the request to the backend failed (its IoExceptionHandler):
        // the client's side is ruled out above, so the backend reset or closed while it was being sent.
        if (exchange.getStatusCode() == 500 && attempts != null && attempts.current() != null) {
            attempts.backendFailed(!exchange.isRequestComplete());
            exchange.setStatusCode(502);
            exchange.setPersistent(false);
        }
        // ProxyHandler says 503 for a backend that reset or closed after receiving the request too;
        // nginx and HAProxy call that 502, and so do we: the gateway got no valid answer.
        if (exchange.getStatusCode() == 503 && attempts != null && attempts.didBackendFailAfterSend()) {
            exchange.setStatusCode(502);
        }
        String body = switch (exchange.getStatusCode()) {
            case 400 -> "400 Bad Request: the request could not be parsed\n";
            case 408 -> "408 Request Timeout: the request body stopped arriving (--body-timeout)\n";
            case 413 -> "413 Content Too Large: the request body is over the proxy's limit (--max-body-size)\n";
            case 414 -> "414 URI Too Long: the request target is over the proxy's limit (--max-header-size)\n";
            case 431 -> "431 Request Header Fields Too Large: the headers are over the proxy's limit (--max-header-size)\n";
            case 501 -> "501 Not Implemented: the request uses a feature the proxy does not support\n";
            case 502 -> "502 Bad Gateway: the backend " + (attempts != null && attempts.backendFailure() != null
                    ? attempts.backendFailure() : "closed the connection without answering") + "\n";
            case 503 -> "503 Service Unavailable: no backend could take the request\n";
            case 504 -> "504 Gateway Timeout: the backend did not answer in time (--timeout)\n";
            default -> null;
        };
        if (body == null) {
            return false;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send(body);
        return true;
    }
}
