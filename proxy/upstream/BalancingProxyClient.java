package proxy.upstream;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.util.List;
import java.util.concurrent.TimeUnit;
import model.Backend;
import model.BackendPool;
import model.Failure;
import model.FailurePolicy;
import model.HealthMonitor;
import model.RetryBudget;
import model.Route;
import model.Routing;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import proxy.ProxySettings;
import proxy.exchange.Attempts;
import proxy.exchange.ProxiedRequest;
import proxy.request.ExchangeRequestView;

/**
 * Undertow's {@link ProxyClient} for our pool: {@link #findTarget} asks {@link Routing} for a backend
 * not yet tried for this request, {@link #getConnection} borrows a keep-alive connection to it from
 * {@link BackendConnections}.
 * <p>There is one retry loop, Undertow's own: every failed try, whether its connect failed here or the
 * backend failed after the request was sent ({@link FailureHook}), goes to the {@link FailurePolicy},
 * which decides whether to try elsewhere (spending from the {@link RetryBudget}), what the client gets
 * otherwise, and whether the backend is blamed. To try elsewhere, ProxyHandler's retry callback calls
 * {@link #findTarget} again, which picks again with the tried backends avoided; to answer, ProxyHandler
 * ends the exchange and {@link ErrorResponses} says the decided status. Undertow's own retry count is
 * set out of the way ({@link ProxyServer}): the budget and the untried backends are the only caps.
 * Thread-safe: per-request state lives in the exchange's {@link Attempts}.
 */
public final class BalancingProxyClient implements ProxyClient {
    private static final HttpString EXPLAIN = new HttpString("X-LB-Explain");

    private final BackendPool pool;
    private final BackendConnections connections;
    private final Routing routing;
    private final HealthMonitor health;
    private final FailurePolicy failures;
    private final long connectTimeoutMillis;
    private final int maxResponseHeaderBytes;
    private volatile boolean explain;

    public BalancingProxyClient(BackendPool pool, BackendConnections connections, Routing routing, HealthMonitor health, ProxySettings settings) {
        this.pool = pool;
        this.connections = connections;
        this.routing = routing;
        this.health = health;
        this.failures = new FailurePolicy(new RetryBudget(settings.backends().retryPercent()));
        this.connectTimeoutMillis = settings.timeouts().connect().toMillis();
        this.maxResponseHeaderBytes = settings.limits().maxResponseHeaderBytes();
        ResponseHeadGuard.requireUndertowHook();
    }

    /** When on, every response carries an {@code X-LB-Explain} header: {@link Route#explain} of the last pick. */
    public void setExplain(boolean explain) {
        this.explain = explain;
    }

    /** A backend chosen for one request: Undertow hands it back to {@link #getConnection}. */
    /** The backend a request goes to, with the request's attempts, so its connection's callback looks nothing up. */
    record BackendTarget(Backend backend, Attempts attempts) implements ProxyTarget {}

    @Override
    public ProxyTarget findTarget(HttpServerExchange exchange) {
        Attempts attempts = ProxiedRequest.of(exchange).attempts(exchange, health, failures);
        if (attempts.count() == 0) {
            failures.requestArrived(); // a retry was paid for when the FailurePolicy decided on it
        }
        ExchangeRequestView request = new ExchangeRequestView(exchange);
        Route route = routing.route(request, attempts.tried());
        if (route == null) {
            return null;
        }
        attempts.chose(route.backend());
        if (explain) {
            exchange.getResponseHeaders().put(EXPLAIN, route.explain(attempts.count()));
        }
        if (route.strategy().pinsClients()) {
            // Until a backend answers, the only Set-Cookie is ours: a retry's pick replaces the last one's.
            exchange.getResponseHeaders().remove(Headers.SET_COOKIE);
            String setCookie = route.strategy().pinningCookie(request, route.backend());
            if (setCookie != null) {
                exchange.getResponseHeaders().add(Headers.SET_COOKIE, setCookie);
            }
        }
        return new BackendTarget(route.backend(), attempts);
    }

    @Override
    public void getConnection(ProxyTarget target, HttpServerExchange exchange, ProxyCallback<ProxyConnection> callback,
                              long timeout, TimeUnit timeUnit) {
        BackendTarget chosen = (BackendTarget) target;
        Backend backend = chosen.backend();
        Attempts attempts = chosen.attempts() != null ? chosen.attempts() : ProxiedRequest.of(exchange).attempts(exchange, health, failures);
        ConnectionCallback connecting = new ConnectionCallback(backend, attempts, callback);
        ProxyConnectionPool backendConnections = connections.to(backend);
        if (backendConnections == null) {
            connecting.failed(exchange); // it left the pool since it was chosen: as good as refused
            return;
        }
        backendConnections.connect(target, exchange, connecting, timeout, timeUnit, false);
        // A pooled connection that is ready is handed over before connect returns; only a connection
        // being opened (or a request queued for one) needs the timer, so most requests schedule none.
        if (!connecting.settled) {
            connecting.deadline = exchange.getIoThread().executeAfter(() -> connecting.timedOut(exchange), connectTimeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public List<ProxyTarget> getAllTargets() {
        return pool.all().stream().<ProxyTarget>map(backend -> new BackendTarget(backend, null)).toList();
    }

    /**
     * Counts the request against the backend once a connection is handed out, and hands a failed or
     * timed-out connect to the {@link FailurePolicy}: then ProxyHandler's retry callback tries elsewhere,
     * or its "no backend" path answers. Undertow's pool has no connect timeout of its own, so a timer on
     * the exchange's IO thread gives up on a backend that never accepts (set only when no pooled
     * connection was ready at once); a connection that arrives after that is closed unused. Confined to
     * the exchange's IO thread.
     */
    private final class ConnectionCallback implements ProxyCallback<ProxyConnection> {
        private final Backend backend;
        private final Attempts attempts;
        private final ProxyCallback<ProxyConnection> proxyHandler;
        private XnioExecutor.Key deadline;
        private boolean settled;

        ConnectionCallback(Backend backend, Attempts attempts, ProxyCallback<ProxyConnection> proxyHandler) {
            this.backend = backend;
            this.attempts = attempts;
            this.proxyHandler = proxyHandler;
        }

        @Override
        public void completed(HttpServerExchange exchange, ProxyConnection connection) {
            if (!settle() || exchange.isComplete()) {
                IoUtils.safeClose(connection.getConnection()); // too late: the request has moved on, or was answered 504
                return;
            }
            // The backend's answer to this request is read through a guard: 1xx, framing, head size.
            ResponseHeadGuard guard;
            try {
                guard = ResponseHeadGuard.install(connection.getConnection(), exchange, exchange.getRequestHeaders().contains(Headers.UPGRADE),
                        !Methods.HEAD.equals(exchange.getRequestMethod()), maxResponseHeaderBytes);
            } catch (IllegalStateException e) {
                // Never send a request whose answer we cannot check. A pooled connection still in the middle of an
                // answer (its request's client reset an HTTP/2 stream, and Undertow's pool handed it straight on
                // before that exchange's listeners could close it) is the pool's leftover, not the backend's
                // failure: closed, and the same backend asked again; each leftover is gone once closed.
                boolean leftover = ResponseHeadGuard.isMidAnswer(connection.getConnection());
                IoUtils.safeClose(connection.getConnection());
                if (leftover) {
                    getConnection(new BackendTarget(backend, attempts), exchange, proxyHandler, connectTimeoutMillis, TimeUnit.MILLISECONDS);
                } else {
                    connectFailed(exchange, Failure.CONNECT_FAILED);
                }
                return;
            }
            // ProxyHandler keeps the means to resend the request only when its body is already read in full.
            attempts.sending(backend, connection.getConnection(), guard, exchange.isRequestComplete());
            // Only a request that brings its own X-Forwarded-For gets Undertow's bare-comma join, which BackendRequestHead
            // respaces; every other request goes on the pool's connection as it is, with nothing allocated or delegated.
            proxyHandler.completed(exchange, exchange.getRequestHeaders().contains(Headers.X_FORWARDED_FOR)
                    ? new ProxyConnection(new BackendRequestHead(connection.getConnection()), connection.getTargetPath()) : connection);
        }

        void timedOut(HttpServerExchange exchange) {
            if (!settled) {
                settled = true;
                connectFailed(exchange, Failure.CONNECT_TIMED_OUT);
            }
        }

        @Override
        public void failed(HttpServerExchange exchange) {
            if (settle()) {
                connectFailed(exchange, Failure.CONNECT_FAILED);
            }
        }

        /** Marks the connect attempt over; false if it already was (the timer fired first). */
        private boolean settle() {
            if (settled) {
                return false;
            }
            settled = true;
            if (deadline != null) {
                deadline.remove();
            }
            return true;
        }

        /** Nothing was sent: the policy decides between ProxyHandler's retry (another pick) and its 503. */
        private void connectFailed(HttpServerExchange exchange, Failure failure) {
            FailurePolicy.Decision decision = attempts.failed(failure, backend);
            if (exchange.isComplete()) {
                return; // already answered (a 504): the failure is counted, nobody is waiting
            }
            if (decision.retry()) {
                proxyHandler.failed(exchange);
            } else {
                proxyHandler.couldNotResolveBackend(exchange);
            }
        }

        /**
         * Undertow's pool says this when every connection to the backend is in use and its queue of waiting
         * requests is full ({@code ProxyConnectionPool.connect}): our limit, not the backend's failure, so it
         * blames nobody. A flood of HTTP/2 streams reset by their client reaches it.
         */
        @Override
        public void queuedRequestFailed(HttpServerExchange exchange) {
            if (settle()) {
                connectFailed(exchange, Failure.POOL_EXHAUSTED);
            }
        }

        @Override
        public void couldNotResolveBackend(HttpServerExchange exchange) {
            failed(exchange);
        }
    }
}
