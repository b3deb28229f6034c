package proxy.exchange;

import proxy.listen.Tunnel;
import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.util.List;
import model.FailurePolicy;
import model.HealthMonitor;
import proxy.observe.CompletedRequest;
import proxy.observe.TrafficObserver;
import proxy.request.ExchangeRequestView;
import proxy.request.RequestBodyWatch;

/**
 * One client request as the proxy handles it, in the exchange's one attachment of ours: when it arrived
 * and what it asked for, the route it took, its {@link Attempts} at backends, the {@link ClientFault} that
 * ended it if the client broke it, and the {@link RequestBodyWatch} timing its body. Created by
 * {@link GatewayHandler} as the request comes in; when there are {@link TrafficObserver}s it also tells them
 * about the request as its exchange completes. Confined to the exchange's IO thread, so unsynchronized.
 */
public final class ProxiedRequest implements ExchangeCompletionListener {
    private static final AttachmentKey<ProxiedRequest> KEY = AttachmentKey.create(ProxiedRequest.class);

    private final long startNanos;
    private final String target;
    private final List<TrafficObserver> observers;
    private Router.Chosen route;
    private Attempts attempts;
    private ClientFault clientFault;
    private RequestBodyWatch bodyWatch;

    private ProxiedRequest(long startNanos, String target, List<TrafficObserver> observers) {
        this.startNanos = startNanos;
        this.target = target;
        this.observers = observers;
    }

    /**
     * Starts the record of {@code exchange}'s request, reported to {@code observers} when it completes.
     * The target is kept as received, before routing rewrites it or anyone decodes it: nginx's $request logs it so.
     */
    static ProxiedRequest start(HttpServerExchange exchange, List<TrafficObserver> observers) {
        ProxiedRequest request = new ProxiedRequest(System.nanoTime(), exchange.getRequestURI(), observers);
        exchange.putAttachment(KEY, request);
        if (!observers.isEmpty()) {
            exchange.addExchangeCompleteListener(request);
        }
        return request;
    }

    /** The request's record; started here, unreported, should a request reach us past {@link GatewayHandler}. */
    public static ProxiedRequest of(HttpServerExchange exchange) {
        ProxiedRequest request = exchange.getAttachment(KEY);
        return request != null ? request : start(exchange, List.of());
    }

    /** The request's record, or null when it never reached {@link GatewayHandler}. */
    public static ProxiedRequest peek(HttpServerExchange exchange) {
        return exchange.getAttachment(KEY);
    }

    void routed(Router.Chosen chosen) {
        this.route = chosen;
    }

    /** The request's attempts, created and tied to the exchange's completion on first use. */
    public Attempts attempts(HttpServerExchange exchange, HealthMonitor health, FailurePolicy policy) {
        if (attempts == null) {
            attempts = new Attempts(health, policy, exchange.getRequestMethod().toString());
            exchange.addExchangeCompleteListener(attempts);
        }
        return attempts;
    }

    /** The request's attempts, or null when it never reached the proxy client. */
    public Attempts attempts() {
        return attempts;
    }

    /** Notes {@code fault} unless an earlier one is noted: the first cause is the one reported. */
    public void clientFault(HttpServerExchange exchange, ClientFault fault) {
        if (clientFault == null) {
            clientFault = fault;
        }
        exchange.setPersistent(false); // what follows on this connection can no longer be framed reliably
    }

    /** The client fault noted on this request, or null when the client did nothing wrong. */
    ClientFault clientFault() {
        return clientFault;
    }

    public void watchingBody(RequestBodyWatch watch) {
        this.bodyWatch = watch;
    }

    /** The watch on this request's body, or null when it has none or the proxy has not started to read it. */
    public RequestBodyWatch bodyWatch() {
        return bodyWatch;
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
        try {
            String client = ExchangeRequestView.clientAddressOf(exchange);
            CompletedRequest request = new CompletedRequest(client == null ? "" : client,
                    exchange.getRequestMethod().toString(), target, exchange.getQueryString(),
                    exchange.getStatusCode(), exchange.getResponseBytesSent(), startNanos, System.nanoTime() - startNanos,
                    attempts == null ? null : attempts.lastTried(), attempts == null ? 0 : attempts.count(),
                    exchange.getProtocol().toString(), exchange.getRequestHeaders().getFirst(Headers.REFERER),
                    exchange.getRequestHeaders().getFirst(Headers.USER_AGENT), attempts == null ? List.of() : attempts.triedBeforeLast(),
                    route == null ? null : route.route().name(), route == null ? null : route.upstream().name,
                    GatewayHandler.tlsProtocolOf(exchange));
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
