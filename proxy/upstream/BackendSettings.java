package proxy.upstream;

import io.undertow.server.handlers.proxy.ConnectionPoolErrorHandler;
import io.undertow.server.handlers.proxy.ConnectionPoolManager;

/**
 * How the proxy keeps connections to each backend: how many keep-alive connections its pool keeps per
 * IO thread, how long an idle one is kept, and how long a backend that refused a connection is skipped
 * by its pool. Immutable; each pool gets its own {@link ConnectionPoolManager} from
 * {@link #newManager()} because the error state lives there.
 */
public record BackendSettings(int maxConnectionsPerThread, long idleTtlMillis, int problemRetrySeconds) {
    public static final BackendSettings DEFAULTS = new BackendSettings(512, 30_000, 1);

    ConnectionPoolManager newManager() {
        return new Manager(this);
    }

    /** One backend pool's settings plus its "was the last connect refused?" state. */
    private static final class Manager extends ConnectionPoolErrorHandler.SimpleConnectionPoolErrorHandler
            implements ConnectionPoolManager {
        private final BackendSettings settings;

        Manager(BackendSettings settings) {
            this.settings = settings;
        }

        @Override public int getProblemServerRetry() { return settings.problemRetrySeconds; }
        @Override public int getMaxConnections() { return settings.maxConnectionsPerThread; }
        @Override public int getMaxCachedConnections() { return settings.maxConnectionsPerThread; }
        @Override public int getSMaxConnections() { return Math.min(64, settings.maxConnectionsPerThread); }
        @Override public long getTtl() { return settings.idleTtlMillis; }
        @Override public int getMaxQueueSize() { return 1024; }
    }
}
