package strategies;

import java.util.List;
import java.util.random.RandomGenerator;
import proxy.Backend;

/**
 * Random, weighted: each pick is independent and a backend's chance is its share of the total weight.
 * Cumulative weights are computed once per pool, so a pick is one random number and a binary search
 * (O(log n)); a retry's one-off list is summed on the spot. Thread-safe if its random source is.
 */
public final class WeightedRandom implements Strategy {
    private final RandomGenerator random;
    private final PoolCache<CumulativeWeights> sums = new PoolCache<>(CumulativeWeights::new);

    public WeightedRandom(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        CumulativeWeights weights = sums.get(candidates);
        return (weights != null ? weights : new CumulativeWeights(candidates)).pick(random);
    }

    /** Running totals of a list's weights: backend i owns the numbers from total[i-1] up to total[i]. Immutable. */
    static final class CumulativeWeights {
        private final List<Backend> backends;
        private final long[] totals;

        CumulativeWeights(List<Backend> backends) {
            this.backends = backends;
            this.totals = new long[backends.size()];
            long sum = 0;
            for (int i = 0; i < totals.length; i++) {
                sum += backends.get(i).weight();
                totals[i] = sum;
            }
        }

        Backend pick(RandomGenerator random) {
            return backends.get(pickIndex(random));
        }

        int pickIndex(RandomGenerator random) {
            long ticket = random.nextLong(totals[totals.length - 1]);
            int low = 0, high = totals.length - 1;
            while (low < high) { // the first backend whose running total passes the ticket
                int middle = (low + high) >>> 1;
                if (totals[middle] > ticket) {
                    high = middle;
                } else {
                    low = middle + 1;
                }
            }
            return low;
        }

        Backend get(int index) {
            return backends.get(index);
        }
    }
}
