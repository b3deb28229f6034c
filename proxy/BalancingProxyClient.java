package proxy;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.CookieImpl;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import strategies.StickySession;
import strategies.Strategy;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Undertow's {@link ProxyClient} for our pool: {@link #findTarget} asks the strategy for one of the
 * backends not yet tried for this request, {@link #getConnection} borrows a keep-alive connection from
 * that backend's own pool. A refused connect moves on to the next untried backend at once (nothing was
 * sent, so any method may go elsewhere); only when none is left does Undertow's ProxyHandler hear of the
 * failure, and answer 503. Only backends the {@link HealthMonitor} lets take traffic, and that are under
 * the in-flight limit, are offered; the monitor hears of every failure; every try after the first
 * spends from the {@link RetryBudget}. Thread-safe: per-request state lives in the exchange's {@link Attempts}.
 */
public final class BalancingProxyClient implements ProxyClient {
    private final BackendPool pool;
    private final HealthMonitor health;
    private final RetryBudget retries;
    private final int maxInFlightPerBackend;
    private volatile Strategy strategy;
    private volatile boolean explain;

    private final long connectTimeoutMillis;
    private final int maxResponseHeaderBytes;

    BalancingProxyClient(BackendPool pool, Strategy strategy, HealthMonitor health, ProxySettings settings) {
        this.pool = pool;
        this.strategy = strategy;
        this.health = health;
        this.retries = new RetryBudget(settings.retryPercent());
        this.maxInFlightPerBackend = settings.maxInFlightPerBackend();
        this.connectTimeoutMillis = settings.connectTimeout().toMillis();
        this.maxResponseHeaderBytes = settings.maxResponseHeaderBytes();
        ResponseHeadGuard.requireUndertowHook();
    }

    public void setStrategy(Strategy strategy) {
        this.strategy = strategy;
    }

    /** When on, every response carries an {@code X-LB-Explain} header describing the last pick. */
    void setExplain(boolean explain) {
        this.explain = explain;
    }

    private static final HttpString EXPLAIN = new HttpString("X-LB-Explain");

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
        List<Backend> candidates = offered(attempts, pool.eligible());
        if (candidates.isEmpty()) {
            candidates = offered(attempts, pool.eligibleBackups()); // no primary could: the backups' turn
        }
        if (candidates.isEmpty() && health.panics() && pool.eligible().isEmpty() && pool.eligibleBackups().isEmpty()) {
            candidates = offered(attempts, pool.primaries()); // panic: nothing is up, so try them all anyway
        }
        if (candidates.isEmpty()) {
            return null;
        }
        Strategy current = strategy;
        ExchangeRequestView request = new ExchangeRequestView(exchange);
        Backend chosen = current.pick(candidates, request);
        if (health.slowStartNanos() > 0 && candidates.size() > 1) {
            chosen = warmedUp(chosen, candidates, current, request);
        }
        attempts.chose(chosen);
        if (explain) {
            exchange.getResponseHeaders().put(EXPLAIN, current.getClass().getSimpleName() + " picked " + chosen.name()
                    + " of " + candidates.size() + " candidates (" + String.join(", ", candidates.stream().map(Backend::name).toList())
                    + "); attempt " + attempts.count());
        }
        if (current instanceof StickySession sticky) {
            pin(exchange, request, sticky, chosen);
        }
        return new BackendTarget(chosen);
    }

    /**
     * Slow start: a backend that has just come back keeps a pick only with the probability of its
     * warmth (0 to 1 over the slow-start time); otherwise the strategy picks again without it. Works
     * the same under every strategy, at the cost of one more pick while a backend warms up.
     */
    private Backend warmedUp(Backend chosen, List<Backend> candidates, Strategy current, ExchangeRequestView request) {
        double warmth = chosen.health().warmth(System.nanoTime(), health.slowStartNanos());
        if (warmth >= 1 || ThreadLocalRandom.current().nextDouble() < warmth) {
            return chosen;
        }
        List<Backend> others = new ArrayList<>(candidates);
        others.remove(chosen);
        return current.pick(others, request);
    }

    /** Those of {@code backends} not yet tried for this request and under the in-flight limit. */
    private List<Backend> offered(Attempts attempts, List<Backend> backends) {
        List<Backend> candidates = attempts.untried(backends);
        return maxInFlightPerBackend > 0 ? belowLimit(candidates) : candidates;
    }

    /** The candidates with room for one more request; the same list when all have room. */
    private List<Backend> belowLimit(List<Backend> candidates) {
        for (Backend backend : candidates) {
            if (backend.inFlight() >= maxInFlightPerBackend) {
                return candidates.stream().filter(b -> b.inFlight() < maxInFlightPerBackend).toList();
            }
        }
        return candidates;
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
        connecting.deadline = exchange.getIoThread().executeAfter(() -> connecting.timedOut(exchange), connectTimeoutMillis, TimeUnit.MILLISECONDS);
        backend.connections().connect(target, exchange, connecting, timeout, timeUnit, false);
    }

    @Override
    public List<ProxyTarget> getAllTargets() {
        return pool.all().stream().<ProxyTarget>map(BackendTarget::new).toList();
    }

    /**
     * Counts the request against the backend once a connection is handed out, and turns a failed or
     * timed-out connect into a try on the next untried backend. Undertow's pool has no connect timeout
     * of its own, so a timer on the exchange's IO thread gives up on a backend that never accepts; a
     * connection that arrives after that is closed unused. Confined to the exchange's IO thread.
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
            deadline.remove();
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
