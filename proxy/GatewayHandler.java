package proxy;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ResponseCommitListener;
import io.undertow.server.handlers.HttpContinueAcceptingHandler;
import io.undertow.util.Headers;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the load balancer does to every request before Undertow's ProxyHandler forwards it, and to
 * every response before it goes back: refuse framing it cannot trust ({@link RequestFramingGuard},
 * {@link AbsoluteFormTarget}), watch the body ({@link RequestBodyWatch}), enforce the body limit, drop
 * hop-by-hop headers both ways, keep or replace the client's forwarding headers as
 * {@link ForwardedHeaders} decides (untrusted clients' X-Forwarded-* never reach a backend), and give
 * proxy-made errors a short body. Thread-safe, runs on the IO thread.
 */
final class GatewayHandler implements HttpHandler {
    private static final ResponseCommitListener STRIP_RESPONSE_HOP_BY_HOP =
            exchange -> HopByHopHeaders.stripResponse(exchange.getResponseHeaders(), exchange.getStatusCode());

    private final HttpHandler proxy;
    private final HttpHandler continueThenForward = new HttpContinueAcceptingHandler(this::forward);
    private final long maxBodyBytes;
    private final int maxHeaderBytes;
    private final long responseTimeoutMillis;
    private final long bodyTimeoutMillis;
    private final List<TrafficObserver> observers = new CopyOnWriteArrayList<>();
    private volatile ForwardedHeaders forwarded = ForwardedHeaders.REPLACE_ALL;
    private volatile boolean allowUnderscoresInHeaders;

    GatewayHandler(HttpHandler proxy, long maxBodyBytes, int maxHeaderBytes, long responseTimeoutMillis, long bodyTimeoutMillis) {
        this.proxy = proxy;
        this.maxBodyBytes = maxBodyBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.responseTimeoutMillis = responseTimeoutMillis;
        this.bodyTimeoutMillis = bodyTimeoutMillis;
    }

    void addObserver(TrafficObserver observer) {
        observers.add(observer);
    }

    void setForwardedHeaders(ForwardedHeaders forwarded) {
        this.forwarded = forwarded;
    }

    void setAllowUnderscoresInHeaders(boolean allow) {
        this.allowUnderscoresInHeaders = allow;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (!observers.isEmpty()) {
            // The target as received, before routing rewrites it or anyone decodes it: nginx's $request logs it so.
            exchange.addExchangeCompleteListener(new CompletionReport(System.nanoTime(), exchange.getRequestURI(), observers));
        }
        exchange.addDefaultResponseListener(ErrorResponses.INSTANCE);
        // Framing first: a request whose body cannot be framed without doubt reaches no backend.
        ClientFault fault = RequestFramingGuard.check(exchange, maxHeaderBytes);
        if (fault == null) {
            fault = AbsoluteFormTarget.toOriginForm(exchange);
        }
        if (fault != null) {
            ClientFault.record(exchange, fault);
            exchange.setStatusCode(fault.status());
            exchange.endExchange();
            return;
        }
        if (exchange.getRequestContentLength() > maxBodyBytes) {
            exchange.setPersistent(false); // the unread body would otherwise be parsed as the next request
            exchange.setStatusCode(413);
            exchange.endExchange();
            return;
        }
        // A chunked body has no length up front: Undertow fails the read once it passes the limit.
        exchange.setMaxEntitySize(maxBodyBytes);
        if (!exchange.isRequestComplete()) {
            RequestBodyWatch.watch(exchange, bodyTimeoutMillis);
        }

        // Undertow only notices "Connection: close" alone; a client may list it among other options.
        if (HopByHopHeaders.connectionLists(exchange.getRequestHeaders(), Headers.CLOSE.toString())) {
            exchange.setPersistent(false);
        }
        HopByHopHeaders.stripRequest(exchange.getRequestHeaders());
        DroppedRequestHeaders.strip(exchange.getRequestHeaders(), allowUnderscoresInHeaders);
        forwarded.apply(exchange);
        exchange.addResponseCommitListener(STRIP_RESPONSE_HOP_BY_HOP);
        exchange.addResponseWrapper(TrailerFields::filterResponse); // a backend's trailers, filtered as the request's are
        ResponseTimeout.arm(exchange, responseTimeoutMillis);
        // A client that sent "Expect: 100-continue" waits for our go-ahead before sending its body. Like
        // nginx, we give it as soon as the request passed the checks above, and do not forward the
        // expectation: a backend that never says 100 would otherwise leave the client waiting.
        continueThenForward.handleRequest(exchange);
    }

    private void forward(HttpServerExchange exchange) throws Exception {
        exchange.getRequestHeaders().remove(Headers.EXPECT);
        proxy.handleRequest(exchange);
    }

    /** Tells the observers about one request when its exchange completes. Confined to the exchange's IO thread. */
    private record CompletionReport(long startNanos, String target, List<TrafficObserver> observers) implements ExchangeCompletionListener {
        @Override
        public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
            try {
                Attempts attempts = Attempts.peek(exchange);
                Router.Chosen chosen = exchange.getAttachment(Router.CHOSEN);
                String client = ExchangeRequestView.clientAddressOf(exchange);
                CompletedRequest request = new CompletedRequest(client == null ? "" : client,
                        exchange.getRequestMethod().toString(), target, exchange.getQueryString(),
                        exchange.getStatusCode(), exchange.getResponseBytesSent(), startNanos, System.nanoTime() - startNanos,
                        attempts == null ? null : attempts.lastTried(), attempts == null ? 0 : attempts.count(),
                        exchange.getProtocol().toString(), exchange.getRequestHeaders().getFirst(Headers.REFERER),
                        exchange.getRequestHeaders().getFirst(Headers.USER_AGENT), attempts == null ? List.of() : attempts.triedBeforeLast(),
                        chosen == null ? null : chosen.route().name(), chosen == null ? null : chosen.upstream().name);
                if (Tunnel.opens(exchange)) {
                    // Reported once, when the tunnel closes, as nginx logs a WebSocket: with its lifetime and bytes.
                    Tunnel.whenClosed(exchange, (received, sent) ->
                            report(request.asTunnel(System.nanoTime() - startNanos, Math.max(received, 0), Math.max(sent, 0))));
                } else {
                    report(request);
                }
            } finally {
                next.proceed();
            }
        }

        private void report(CompletedRequest request) {
            for (TrafficObserver observer : observers) {
                observer.completed(request);
            }
        }
    }
}
