package proxy;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.GracefulShutdownHandler;
import io.undertow.server.handlers.proxy.ProxyHandler;
import java.net.InetSocketAddress;
import org.xnio.Options;
import strategies.Strategy;

/**
 * The running load balancer: an Undertow HTTP listener whose handler chain is
 * graceful-shutdown → {@link GatewayHandler} → Undertow's {@link ProxyHandler} → {@link BalancingProxyClient}.
 * Every proxied request stays on the IO thread that accepted it, from picking a backend to streaming the
 * answer back. Thread-safe; {@link #stop()} may be called from any thread, once.
 */
public final class ProxyServer {
    private final BackendPool pool;
    private final BalancingProxyClient client;
    private final GracefulShutdownHandler shutdown;
    private final Undertow undertow;
    private final ProxySettings settings;

    private ProxyServer(ProxySettings settings, BackendPool pool, Strategy strategy) {
        this.settings = settings;
        this.pool = pool;
        this.client = new BalancingProxyClient(pool, strategy);
        ProxyHandler proxy = ProxyHandler.builder()
                .setProxyClient(client)
                .setMaxRequestTime((int) settings.timeout().toMillis())
                .setNext(ErrorResponses.NO_BACKEND)
                .setReuseXForwarded(false)
                .setRewriteHostHeader(false)
                .setMaxConnectionRetries(1)
                .setIdempotentRequestPredicate(RetryPolicy.INSTANCE)
                .build();
        this.shutdown = new GracefulShutdownHandler(new GatewayHandler(proxy, settings.maxBodyBytes()));
        int idleMillis = (int) settings.idleTimeout().toMillis();
        this.undertow = Undertow.builder()
                .addHttpListener(settings.port(), settings.bindAddress())
                .setIoThreads(settings.ioThreads())
                .setWorkerThreads(2) // proxying never leaves the IO threads; the workers stay idle
                .setSocketOption(Options.BACKLOG, 1024)
                .setSocketOption(Options.TCP_NODELAY, true)
                .setServerOption(UndertowOptions.MAX_HEADER_SIZE, settings.maxHeaderBytes())
                .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, settings.maxBodyBytes())
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, idleMillis)
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis)
                .setServerOption(UndertowOptions.IDLE_TIMEOUT, idleMillis)
                .setHandler(shutdown)
                .build();
    }

    /**
     * Starts listening and returns once connections are accepted.
     *
     * @throws IllegalStateException naming the address when it cannot listen (in use, not local)
     */
    public static ProxyServer start(ProxySettings settings, BackendPool pool, Strategy strategy) {
        ProxyServer server = new ProxyServer(settings, pool, strategy);
        try {
            server.undertow.start();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot listen on " + settings.bindAddress() + ":" + settings.port() + ": " + cause.getMessage(), e);
        }
        return server;
    }

    /** The port it listens on: the chosen one when started with port 0. */
    public int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    public BackendPool pool() {
        return pool;
    }

    public void setStrategy(Strategy strategy) {
        client.setStrategy(strategy);
    }

    /**
     * Stops accepting connections, lets requests in flight finish (up to the drain timeout), then closes
     * everything. Returns whether every request finished in time.
     */
    public boolean stop() {
        undertow.getListenerInfo().forEach(Undertow.ListenerInfo::suspend);
        shutdown.shutdown();
        boolean drained;
        try {
            drained = shutdown.awaitShutdown(settings.drainTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        undertow.stop();
        pool.close();
        return drained;
    }
}
