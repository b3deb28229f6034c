// Every other file of this folder: scripts list this one and JBang follows //SOURCES into it.
//SOURCES BackendConnectionAbort.java BackendConnections.java BackendRequestHead.java BackendSettings.java BalancingProxyClient.java ChunkedResponseCheck.java ResponseHeadGuard.java ResponseTimeout.java TrailerFields.java

package proxy.upstream;

import config.UpstreamConfig;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.proxy.ProxyHandler;
import java.util.random.RandomGenerator;
import model.BackendPool;
import model.HealthMonitor;
import model.Routing;
import model.Strategy;
import proxy.ProxySettings;
import proxy.exchange.ErrorResponses;
import proxy.exchange.FailureHook;
import proxy.observe.EventLog;

/**
 * One named upstream as it runs: its pool of live backends, the health monitor judging them, the
 * {@link Routing} and strategy picking among them, and the {@link BalancingProxyClient} and Undertow
 * {@link ProxyHandler} forwarding to them, with their own retry budget. A reload keeps the pool (and so
 * every backend's state) and, unless their settings changed, the rest. Thread-safe: final parts.
 */
public final class Upstream {
    public final String name;
    public final BackendPool pool;
    public final Strategy strategy;
    public final HealthMonitor health;
    public final Routing routing;
    public final BalancingProxyClient client;
    public final HttpHandler handler;
    public final BackendConnections connections;

    /**
     * Builds the parts over {@code pool}; the caller starts {@link #health} and adds the pool's connection listener.
     *
     * @param health the monitor to keep (a reload that left its settings alone), or null for a new one
     * @param random where slow start draws; shared by IO threads, so thread-safe
     */
    public Upstream(String name, BackendPool pool, String strategyName, Strategy strategy, RandomGenerator random, ProxySettings settings,
             EventLog events, boolean explain, BackendConnections connections, HealthMonitor health) {
        this.name = name;
        this.pool = pool;
        this.connections = connections;
        this.strategy = strategy;
        this.health = health != null ? health : new HealthMonitor(pool, settings.health(), events::record);
        this.routing = new Routing(pool, settings.health(), settings.backends().maxInFlightPerBackend(), random,
                strategyName, strategy);
        this.client = new BalancingProxyClient(pool, connections, routing, this.health, settings);
        client.setExplain(explain);
        this.handler = ProxyHandler.builder()
                .setProxyClient(client)
                .setMaxRequestTime(-1) // ResponseTimeout times the first byte instead of the whole exchange
                .setNext(ErrorResponses.NO_BACKEND)
                .setReuseXForwarded(true) // ForwardedHeaders already dropped what an untrusted client sent
                .setRewriteHostHeader(false)
                // One retry loop: the FailurePolicy decides each retry and the budget caps them, so
                // Undertow's own count of tries must never be what stops one.
                .setMaxConnectionRetries(Integer.MAX_VALUE)
                .setIdempotentRequestPredicate(FailureHook.INSTANCE)
                .build();
    }

    /** The server-wide settings with this upstream's health, limit and retry budget in place of the flags'. */
    public static ProxySettings settingsFor(ProxySettings global, UpstreamConfig upstream) {
        return new ProxySettings(global.listener(), global.timeouts(), global.limits(),
                new ProxySettings.Backends(upstream.maxConns(), upstream.retryBudget()), upstream.health());
    }
}
