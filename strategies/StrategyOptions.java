package strategies;

import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Settings a strategy may need, from the command line.
 *
 * @param random        where random strategies draw from; shared by IO threads, so thread-safe
 * @param hashKey       what hash strategies hash on, as given to {@code --hash-key}; null means the client address
 * @param balanceFactor how far over its fair share {@code consistent-hash} lets a backend go (1.25: 25%)
 */
public record StrategyOptions(RandomGenerator random, String hashKey, double balanceFactor) {
    /** Unseeded randomness, hashing on the client address, the usual balance factor. */
    public static StrategyOptions defaults() {
        return new StrategyOptions(ThreadLocalRandomSource.INSTANCE, null, ConsistentHash.DEFAULT_FACTOR);
    }

    public StrategyOptions withHashKey(String key) {
        return new StrategyOptions(random, key, balanceFactor);
    }

    /**
     * Randomness from {@code seed}, so a run can be repeated: {@link Random} is thread-safe, at the
     * cost of one compare-and-set per draw that threads contend on.
     */
    public static RandomGenerator seeded(long seed) {
        return new Random(seed);
    }

    /** Each IO thread draws from its own ThreadLocalRandom: no contention, not reproducible. */
    enum ThreadLocalRandomSource implements RandomGenerator {
        INSTANCE;

        @Override
        public long nextLong() {
            return ThreadLocalRandom.current().nextLong();
        }

        @Override
        public int nextInt(int bound) {
            return ThreadLocalRandom.current().nextInt(bound);
        }

        @Override
        public long nextLong(long bound) {
            return ThreadLocalRandom.current().nextLong(bound);
        }
    }
}
