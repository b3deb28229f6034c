package strategies;

import java.util.List;
import java.util.random.RandomGenerator;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Least connections: the backend with the fewest requests in flight per unit of weight, ties broken at
 * random so that an idle pool still spreads (HAProxy's leastconn, nginx's least_conn). It reads every
 * candidate's count on every pick, O(n): the counts change with every request and belong to the
 * backends, so there is no ordered structure to keep. For large pools, {@code power-of-two} gets
 * nearly the same balance from two reads. Thread-safe if its random source is.
 */
public final class LeastConnections implements Strategy {
    private final RandomGenerator random;

    public LeastConnections(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        Backend best = null;
        int ties = 0;
        List<Backend> all = candidates.all();
        for (int i = 0; i < all.size(); i++) {
            Backend candidate = all.get(i);
            if (candidates.isAvoided(candidate)) {
                continue;
            }
            int order = best == null ? -1 : Load.compare(candidate, best);
            if (order < 0) {
                best = candidate;
                ties = 1;
            } else if (order == 0 && random.nextInt(++ties) == 0) {
                best = candidate; // reservoir sampling: each of the k tied backends wins with chance 1/k
            }
        }
        return best;
    }
}
