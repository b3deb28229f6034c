package config;

import java.net.URI;
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
 * @param maxConns    requests in flight a backend may have before others are chosen; 0: no limit
 * @param retryBudget retries per 100 requests over the last 10 s; 0: never retry
 */
public record UpstreamConfig(String name, List<Address> backends, List<Address> backups, Picking picking,
                             HealthSettings health, int maxConns, int retryBudget) {
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

    public UpstreamConfig {
        Objects.requireNonNull(name);
        backends = List.copyOf(backends);
        backups = List.copyOf(backups);
    }

    /** This upstream under another name, with other backends: how the file's upstreams start from the flags' values. */
    UpstreamConfig named(String newName, List<Address> newBackends, List<Address> newBackups) {
        return new UpstreamConfig(newName, newBackends, newBackups, picking, health, maxConns, retryBudget);
    }
}
