package strategies;

import java.util.List;
import proxy.Backend;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with
 * Bounded Loads", 2018; HAProxy's hash-balance-factor): a key goes to its ring owner, as in
 * {@link ConsistentHash}, unless that backend already carries more than {@code factor} times its fair
 * share of the requests in flight; then it walks on round the ring to the next backend under its cap.
 * Keys stay sticky while load is even, and no backend is ever pushed past the cap by a hot key.
 * The cap needs the pool's total in flight, read from every candidate: O(n) per pick.
 * Thread-safe: the ring is immutable; the counts are the backends' atomics.
 */
public final class BoundedLoadHash implements Strategy {
    public static final double DEFAULT_FACTOR = 1.25;

    private final HashKey key;
    private final double factor;
    private final PoolCache<HashRing> rings = new PoolCache<>(HashRing::new);

    public BoundedLoadHash(HashKey key, double factor) {
        if (!(factor > 1.0)) {
            throw new IllegalArgumentException("--hash-balance-factor must be above 1 (1.25 lets a backend carry 25% over its share), got " + factor);
        }
        this.key = key;
        this.factor = factor;
    }

    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        HashRing ring = rings.get(candidates);
        if (ring == null) {
            ring = new HashRing(candidates); // a retry's one-off list: rare
        }
        long inFlight = 0, totalWeight = 0;
        for (Backend backend : candidates) {
            inFlight += backend.inFlight();
            totalWeight += backend.weight();
        }
        // Counting this request too, so an idle pool lets every backend take at least one.
        double capPerWeight = factor * (inFlight + 1) / totalWeight;
        int start = ring.firstPoint(Hashing.hash(key.of(request)));
        for (int i = 0; i < ring.size(); i++) {
            Backend owner = ring.ownerAt(start + i);
            if (owner.inFlight() + 1 <= Math.ceil(capPerWeight * owner.weight())) {
                return owner;
            }
        }
        return ring.ownerAt(start); // unreachable: the caps sum to more than the load
    }
}
