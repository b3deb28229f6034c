package strategies;

import java.util.List;
import java.util.random.RandomGenerator;
import proxy.Backend;

/**
 * Power of two choices: draw two backends at random (in proportion to weight) and send the request to
 * the one with fewer requests in flight per unit of weight. Almost as good as scanning every backend
 * for the least loaded, at the cost of two draws (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", 2001; Envoy's least-request default). Thread-safe if its random source is.
 */
public final class PowerOfTwo implements Strategy {
    private final RandomGenerator random;
    private final PoolCache<WeightedRandom.CumulativeWeights> sums = new PoolCache<>(WeightedRandom.CumulativeWeights::new);

    public PowerOfTwo(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        WeightedRandom.CumulativeWeights weights = sums.get(candidates);
        if (weights == null) {
            weights = new WeightedRandom.CumulativeWeights(candidates);
        }
        int first = weights.pickIndex(random);
        int second = weights.pickIndex(random);
        for (int redraw = 0; second == first && redraw < 2; redraw++) {
            second = weights.pickIndex(random);
        }
        if (second == first) {
            second = (first + 1) % candidates.size(); // always two distinct backends to compare
        }
        return Load.lighter(weights.get(first), weights.get(second));
    }
}
