package strategies;

import java.util.random.RandomGenerator;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Power of two choices: draw two backends at random (in proportion to weight) and send the request to
 * the one with fewer requests in flight per unit of weight. Almost as good as scanning every backend
 * for the least loaded, at the cost of two draws (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", 2001; Envoy's least-request default). Thread-safe if its random source is.
 */
public final class PowerOfTwo implements Strategy {
    private final RandomGenerator random;
    private final PerVersion<WeightedRandom.CumulativeWeights> sums = new PerVersion<>(WeightedRandom.CumulativeWeights::new);

    public PowerOfTwo(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        if (candidates.allowedCount() == 1) {
            return candidates.allowed(0);
        }
        WeightedRandom.CumulativeWeights weights = sums.of(candidates);
        int first = weights.pickIndex(candidates, random);
        int second = weights.pickIndex(candidates, random);
        for (int redraw = 0; second == first && redraw < 2; redraw++) {
            second = weights.pickIndex(candidates, random);
        }
        if (second == first) {
            second = weights.nextAllowed(first, candidates); // always two distinct backends to compare
        }
        return Load.lighter(weights.get(first), weights.get(second));
    }
}
