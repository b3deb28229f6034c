package config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;
import model.HealthSettings;
import model.Strategy;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * One named upstream as configured: its backends and backups (addresses and weights, not live backends),
 * how it picks among them, how it judges them and how much it asks of them. Immutable; the proxy keeps
 * the live backends of an upstream by address across reloads.
 *
 * @param maxConns     requests in flight a backend may have before others are chosen; 0: no limit
 * @param retryBudget  retries per 100 requests over the last 10 s; 0: never retry
 * @param backendTrust how its https:// backends are trusted, where it differs from the flags'
 */
public record UpstreamConfig(String name, List<Address> backends, List<Address> backups, Picking picking,
                             HealthSettings health, int maxConns, int retryBudget, BackendTrust backendTrust) {
    /** Where one backend listens and its weight. */
    public record Address(URI uri, int weight) {
        public String name() {
            return uri.getHost() + ":" + uri.getPort();
        }

        @Override
        public String toString() {
            return uri + (weight == 1 ? "" : ",weight=" + weight);
        }
    }

    /**
     * The strategy and its options: what decides whether a reload rebuilds it.
     *
     * @param seed null: a fresh random source
     */
    public record Picking(String strategy, String hashKey, double balanceFactor, Long seed) {
        /** @throws IllegalArgumentException naming what the strategy cannot read (a bad hash key, say) */
        public Strategy create() {
            Strategies.Entry entry = Strategies.byName(strategy)
                    .orElseThrow(() -> new IllegalArgumentException("unknown strategy '" + strategy + "'; choose one of: " + Strategies.names()));
            return entry.create(options());
        }

        /** Where slow start draws: unseeded and per IO thread, whatever the strategy's seed, as before upstreams had one. */
        public RandomGenerator slowStartRandom() {
            return StrategyOptions.defaults().random();
        }

        public StrategyOptions options() {
            return new StrategyOptions(seed == null ? StrategyOptions.defaults().random() : StrategyOptions.seeded(seed), hashKey, balanceFactor);
        }
    }

    /**
     * An upstream's own {@code backend-ca} / {@code backend-insecure} keys; null where it has none, and the flags'
     * {@code --backend-ca} / {@code --backend-insecure} apply. {@code insecure} false verifies even under a global
     * {@code --backend-insecure} (against {@code ca}, else {@code --backend-ca}, else the JDK's trust store).
     */
    public record BackendTrust(Path ca, Boolean insecure) {
        public static final BackendTrust FROM_FLAGS = new BackendTrust(null, null);
    }

    public UpstreamConfig {
        Objects.requireNonNull(name);
        backends = List.copyOf(backends);
        backups = List.copyOf(backups);
        backendTrust = backendTrust == null ? BackendTrust.FROM_FLAGS : backendTrust;
    }

    /** With https:// backends trusted as the flags say. */
    public UpstreamConfig(String name, List<Address> backends, List<Address> backups, Picking picking, HealthSettings health, int maxConns,
                          int retryBudget) {
        this(name, backends, backups, picking, health, maxConns, retryBudget, BackendTrust.FROM_FLAGS);
    }

    /** This upstream under another name, with other backends: how the file's upstreams start from the flags' values. */
    UpstreamConfig named(String newName, List<Address> newBackends, List<Address> newBackups) {
        return new UpstreamConfig(newName, newBackends, newBackups, picking, health, maxConns, retryBudget, backendTrust);
    }
}
