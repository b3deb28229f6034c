package proxy.upstream;

import io.undertow.client.UndertowClient;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import model.Backend;
import model.BackendPool;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.ssl.XnioSsl;
import tls.BackendTls;
import tls.CertificateProblem;

/**
 * Undertow's keep-alive connections to each backend, kept beside the model's {@link Backend} rather
 * than inside it: a {@link ProxyConnectionPool} is opened when a backend joins the pool and closed
 * when it leaves (its idle connections at once; those in use when their request ends).
 * Thread-safe: a concurrent map, written by the pool's listener calls, read by IO threads.
 */
public final class BackendConnections implements BackendPool.Listener {
    private final Map<Backend, ProxyConnectionPool> pools = new ConcurrentHashMap<>();
    private final BackendSettings settings;
    private final Xnio xnio;
    private final BackendTls trust;  // null: the JDK's trust store, host names checked
    private XnioSsl https;           // made when the first https:// backend joins: reading the trust store costs start-up time

    public BackendConnections(BackendSettings settings, Xnio xnio, BackendTls trust) {
        this.settings = settings;
        this.xnio = xnio;
        this.trust = trust;
    }

    private synchronized XnioSsl https() {
        if (https == null) {
            try {
                https = new UndertowXnioSsl(xnio, OptionMap.EMPTY, (trust != null ? trust : BackendTls.verifying(null)).context());
            } catch (CertificateProblem e) {
                throw new IllegalStateException("the JDK's trust store cannot be read: " + e.getMessage(), e);
            }
        }
        return https;
    }

    @Override
    public void joined(Backend backend) {
        // The pool keeps its own error state (a refused connect marks the host as a problem for a
        // while), so each backend gets its own manager instance.
        pools.computeIfAbsent(backend, joining -> new ProxyConnectionPool(settings.newManager(), joining.uri(),
                "https".equals(joining.uri().getScheme()) ? https() : null, UndertowClient.getInstance(), OptionMap.create(Options.TCP_NODELAY, true)));
    }

    @Override
    public void left(Backend backend) {
        ProxyConnectionPool connections = pools.remove(backend);
        if (connections != null) {
            connections.close();
        }
    }

    /** The connections to {@code backend}, or null when it has left the pool since it was chosen. */
    ProxyConnectionPool to(Backend backend) {
        return pools.get(backend);
    }

    /** Closes every backend's idle connections; call once the proxy has stopped. */
    public void closeAll() {
        pools.values().forEach(ProxyConnectionPool::close);
        pools.clear();
    }
}
