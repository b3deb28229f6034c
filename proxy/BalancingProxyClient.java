package proxy;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.CookieImpl;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.List;
import java.util.concurrent.TimeUnit;
import model.Backend;
import model.BackendPool;
import model.HealthMonitor;
import model.RetryBudget;
import model.Route;
import model.Routing;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import strategies.StickySession;

/**
 * Undertow's {@link ProxyClient} for our pool: {@link #findTarget} asks {@link Routing} for a backend
 * not yet tried for this request, {@link #getConnection} borrows a keep-alive connection to it from
 * {@link BackendConnections}. A refused connect moves on to the next untried backend at once (nothing
 * was sent, so any method may go elsewhere); only when none is left does Undertow's ProxyHandler hear
 * of the failure, and answer 503. The {@link HealthMonitor} hears of every failure; every try after the
 * first spends from the {@link RetryBudget}. Thread-safe: per-request state lives in the exchange's
 * {@link Attempts}.
 */
public final class BalancingProxyClient implements ProxyClient {
    private static final HttpString EXPLAIN = new HttpString("X-LB-Explain");

    private final BackendPool pool;
    private final BackendConnections connections;
    private final Routing routing;
    private final HealthMonitor health;
    private final RetryBudget retries;
    private final long connectTimeoutMillis;
    private final int maxResponseHeaderBytes;
    private volatile boolean explain;

    BalancingProxyClient(BackendPool pool, BackendConnections connections, Routing routing, HealthMonitor health, ProxySettings settings) {
        this.pool = pool;
        this.connections = connections;
        this.routing = routing;
        this.health = health;
        this.retries = new RetryBudget(settings.retryPercent());
        this.connectTimeoutMillis = settings.connectTimeout().toMillis();
        this.maxResponseHeaderBytes = settings.maxResponseHeaderBytes();
        ResponseHeadGuard.requireUndertowHook();
    }

    /** When on, every response carries an {@code X-LB-Explain} header: {@link Route#explain} of the last pick. */
    void setExplain(boolean explain) {
        this.explain = explain;
    }

    /** A backend chosen for one request: Undertow hands it back to {@link #getConnection}. */
    record BackendTarget(Backend backend) implements ProxyTarget {}

    @Override
    public ProxyTarget findTarget(HttpServerExchange exchange) {
        Attempts attempts = Attempts.of(exchange, health);
        if (attempts.count() == 0) {
            retries.requestArrived();
        } else if (!retries.tryRetry()) {
            return null; // over the retry budget: fail this request rather than add load to a failing pool
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
        if (route.strategy() instanceof StickySession sticky) {
            pin(exchange, request, sticky, route.backend());
        }
        return new BackendTarget(route.backend());
    }

    /** Sets the sticky cookie for {@code chosen} unless the client already sent it (a retry overwrites it). */
    private static void pin(HttpServerExchange exchange, ExchangeRequestView request, StickySession sticky, Backend chosen) {
        String value = sticky.cookieValue(chosen);
        if (!value.equals(request.cookie(sticky.cookieName()))) {
            exchange.setResponseCookie(new CookieImpl(sticky.cookieName(), value).setPath("/").setHttpOnly(true).setSameSiteMode("Lax"));
        }
    }

    @Override
    public void getConnection(ProxyTarget target, HttpServerExchange exchange, ProxyCallback<ProxyConnection> callback,
                              long timeout, TimeUnit timeUnit) {
        Backend backend = ((BackendTarget) target).backend();
        ConnectionCallback connecting = new ConnectionCallback(backend, callback, timeout, timeUnit);
        ProxyConnectionPool backendConnections = connections.to(backend);
        if (backendConnections == null) {
            connecting.failed(exchange); // it left the pool since it was chosen: try the next
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
        return pool.all().stream().<ProxyTarget>map(BackendTarget::new).toList();
    }

    /**
     * Counts the request against the backend once a connection is handed out, and turns a failed or
     * timed-out connect into a try on the next untried backend. Undertow's pool has no connect timeout
     * of its own, so a timer on the exchange's IO thread gives up on a backend that never accepts (set only
     * when no pooled connection was ready at once); a connection that arrives after that is closed unused.
     * Confined to the exchange's IO thread.
     */
    private final class ConnectionCallback implements ProxyCallback<ProxyConnection> {
        private final Backend backend;
        private final ProxyCallback<ProxyConnection> proxyHandler;
        private final long timeout;
        private final TimeUnit timeUnit;
        private XnioExecutor.Key deadline;
        private boolean settled;

        ConnectionCallback(Backend backend, ProxyCallback<ProxyConnection> proxyHandler, long timeout, TimeUnit timeUnit) {
            this.backend = backend;
            this.proxyHandler = proxyHandler;
            this.timeout = timeout;
            this.timeUnit = timeUnit;
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
                guard = ResponseHeadGuard.install(connection.getConnection(),
                        exchange.getRequestHeaders().contains(Headers.UPGRADE), maxResponseHeaderBytes);
            } catch (IllegalStateException e) {
                IoUtils.safeClose(connection.getConnection()); // never send a request whose answer we cannot check
                tryNext(exchange, e.getMessage());
                return;
            }
            Attempts.of(exchange, health).sending(backend, connection.getConnection(), guard);
            proxyHandler.completed(exchange, connection);
        }

        void timedOut(HttpServerExchange exchange) {
            if (!settled) {
                settled = true;
                tryNext(exchange, "connect timed out");
            }
        }

        @Override
        public void failed(HttpServerExchange exchange) {
            if (settle()) {
                tryNext(exchange, "connect failed");
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

        private void tryNext(HttpServerExchange exchange, String why) {
            health.failed(backend, why);
            ProxyTarget next = exchange.isComplete() ? null : findTarget(exchange);
            if (next == null) {
                proxyHandler.failed(exchange);
            } else {
                getConnection(next, exchange, proxyHandler, timeout, timeUnit);
            }
        }

        @Override
        public void queuedRequestFailed(HttpServerExchange exchange) {
            failed(exchange);
        }

        @Override
        public void couldNotResolveBackend(HttpServerExchange exchange) {
            failed(exchange);
        }
    }
}
