package strategies;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Settings a strategy may need, from the command line: the source of randomness (seeded with
 * {@code --seed} so a run can be reproduced) and the request key hash strategies hash on.
 *
 * @param random  shared by IO threads, so it must be thread-safe
 * @param hashKey what hash strategies hash on, as given to {@code --hash-key}, or null for the default
 */
public record StrategyOptions(RandomGenerator random, String hashKey) {
    /** Unseeded randomness and default keys. */
    public static StrategyOptions defaults() {
        return new StrategyOptions(ThreadLocalRandomSource.INSTANCE, null);
    }

    /** Each IO thread draws from its own ThreadLocalRandom: no contention, not reproducible. */
    enum ThreadLocalRandomSource implements RandomGenerator {
        INSTANCE;

        @Override
        public long nextLong() {
            return ThreadLocalRandom.current().nextLong();
        }
    }
}
