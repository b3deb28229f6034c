package strategies;

import java.math.BigInteger;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Smooth weighted round robin, nginx's algorithm (ngx_http_upstream_get_peer, 2012): each backend
 * gets picks in proportion to its weight, spread out rather than in bursts: weights 5, 1, 1 give
 * a a b a c a a, not a a a a a b c. Each step every backend's "current" grows by its weight, the
 * largest wins and gives back the total. The sequence repeats every sum-of-weights picks (divided by
 * their greatest common divisor), so it is computed once per pool version and picking is one atomic
 * increment and an array read. A pool too large for that (weights × backends past 2^26 steps to
 * precompute) runs the same steps live under a lock instead. An avoided backend (tried, full, warming
 * up) has its turns skipped, so the others keep their weights' proportions (HAProxy's fwrr skips a
 * server it must avoid the same way). Thread-safe.
 */
public final class WeightedRoundRobin implements Strategy {
    private static final long MAX_PRECOMPUTED_STEPS = 1L << 26;

    private final AtomicLong next = new AtomicLong();
    private final PerVersion<Schedule> schedules = new PerVersion<>(Schedule::new);

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        Schedule schedule = schedules.of(candidates);
        List<Backend> all = candidates.all();
        // Every backend has a turn in each cycle, so an allowed one comes up within one cycle.
        for (long turn = 0; turn < schedule.cycle; turn++) {
            Backend backend = all.get(schedule.next(next.getAndIncrement()));
            if (!candidates.isAvoided(backend)) {
                return backend;
            }
        }
        return candidates.allowed(0); // unreachable while the contract holds: one backend is allowed
    }

    /** One pool's cycle of picks, as indexes into its list. Immutable but for the live fallback's lock. */
    static final class Schedule {
        private final int[] order;
        private final SmoothWeights live;
        private final long cycle;

        Schedule(List<Backend> backends) {
            int[] weights = reducedWeights(backends);
            long cycle = 0;
            for (int weight : weights) {
                cycle += weight;
            }
            this.cycle = cycle;
            if (cycle * weights.length <= MAX_PRECOMPUTED_STEPS) {
                SmoothWeights steps = new SmoothWeights(weights);
                order = new int[(int) cycle];
                for (int i = 0; i < order.length; i++) {
                    order[i] = steps.step();
                }
                live = null;
            } else {
                order = null;
                live = new SmoothWeights(weights);
            }
        }

        int next(long counter) {
            if (order != null) {
                return order[(int) Math.floorMod(counter, (long) order.length)];
            }
            synchronized (live) {
                return live.step();
            }
        }

        /** Weights divided by their greatest common divisor: 2, 4, 6 cycles like 1, 2, 3, in a third of the steps. */
        private static int[] reducedWeights(List<Backend> backends) {
            int gcd = 0;
            for (Backend backend : backends) {
                gcd = BigInteger.valueOf(gcd).gcd(BigInteger.valueOf(backend.weight())).intValue();
            }
            int[] weights = new int[backends.size()];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = backends.get(i).weight() / gcd;
            }
            return weights;
        }
    }

    /** nginx's step: everyone's current grows by its weight; the largest wins and gives back the total. Not thread-safe. */
    static final class SmoothWeights {
        private final int[] weights;
        private final long[] current;
        private final long total;

        SmoothWeights(int[] weights) {
            this.weights = weights;
            this.current = new long[weights.length];
            long sum = 0;
            for (int weight : weights) {
                sum += weight;
            }
            this.total = sum;
        }

        int step() {
            int best = 0;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            return best;
        }
    }
}
