package strategies;

import java.util.List;
import java.util.random.RandomGenerator;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Random, weighted: each pick is independent and a backend's chance is its share of the total weight
 * of the backends not avoided. Cumulative weights are computed once per pool version, so a pick is one
 * random number and a binary search (O(log n)); with backends to avoid (a retry, a full backend) it is
 * one pass over the weights instead, still in proportion. Thread-safe if its random source is.
 */
public final class WeightedRandom implements Strategy {
    private final RandomGenerator random;
    private final PerVersion<CumulativeWeights> sums = new PerVersion<>(CumulativeWeights::new);

    public WeightedRandom(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        CumulativeWeights weights = sums.of(candidates);
        return weights.get(weights.pickIndex(candidates, random));
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

        /** The index of a backend drawn in proportion to weight among those {@code candidates} does not avoid. */
        int pickIndex(Candidates candidates, RandomGenerator random) {
            if (candidates.allowedCount() < backends.size()) {
                return pickAvoiding(candidates, random);
            }
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

        /** One pass: the allowed backends' weights summed, then the ticket walked down them. */
        private int pickAvoiding(Candidates candidates, RandomGenerator random) {
            long allowedWeight = 0;
            for (int i = 0; i < backends.size(); i++) {
                Backend backend = backends.get(i);
                if (!candidates.isAvoided(backend)) {
                    allowedWeight += backend.weight();
                }
            }
            long ticket = random.nextLong(allowedWeight);
            for (int i = 0; i < backends.size(); i++) {
                Backend backend = backends.get(i);
                if (!candidates.isAvoided(backend)) {
                    ticket -= backend.weight();
                    if (ticket < 0) {
                        return i;
                    }
                }
            }
            throw new IllegalStateException("the tickets add up to the allowed weight");
        }

        /** The next index after {@code index}, going round, of a backend {@code candidates} does not avoid. */
        int nextAllowed(int index, Candidates candidates) {
            for (int step = 1; step < backends.size(); step++) {
                int next = (index + step) % backends.size();
                if (!candidates.isAvoided(backends.get(next))) {
                    return next;
                }
            }
            return index;
        }

        Backend get(int index) {
            return backends.get(index);
        }
    }
}
