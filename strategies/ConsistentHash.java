package strategies;

import java.util.List;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Consistent hashing with bounded loads ({@code consistent-hash}; Mirrokni, Thorup, Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", 2018; HAProxy's hash-balance-factor): a key goes to its ring
 * owner, as in {@link Hash}, unless that backend already carries more than its cap, {@code factor} times
 * its fair share of the requests in flight (this one included), rounded up; then it walks on round the
 * ring to the next backend within its cap. The cap allows one request of slack over HAProxy's (a
 * backend takes a request while the ones it already carries are within the cap, not while they plus
 * this one are): at low load the fair share is below one, and a client's previous request, still
 * counted in flight for the moment its exchange takes to complete, would otherwise send its next one
 * elsewhere. Keys stay sticky while load is even, and a hot key spills over instead of piling up.
 * The cap needs the total in flight, read from every candidate: O(n) per pick; the ring is built once
 * per pool version. Thread-safe: the ring is immutable; the counts are the backends' atomics.
 */
public final class ConsistentHash implements Strategy {
    public static final double DEFAULT_FACTOR = 1.25;

    private final HashKey key;
    private final double factor;
    private final PerVersion<HashRing> rings = new PerVersion<>(HashRing::new);

    public ConsistentHash(HashKey key, double factor) {
        if (!(factor > 1.0)) {
            throw new IllegalArgumentException("--hash-balance-factor must be above 1 (1.25 lets a backend carry 25% over its share), got " + factor);
        }
        this.key = key;
        this.factor = factor;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        HashRing ring = rings.of(candidates);
        long inFlight = 0, totalWeight = 0;
        List<Backend> all = candidates.all();
        for (int i = 0; i < all.size(); i++) {
            Backend backend = all.get(i);
            if (!candidates.isAvoided(backend)) {
                inFlight += backend.inFlight();
                totalWeight += backend.weight();
            }
        }
        double capPerWeight = factor * (inFlight + 1) / totalWeight; // counting this request too
        int start = ring.firstPoint(Hashing.hash(key.of(request)));
        for (int i = 0; i < ring.size(); i++) {
            Backend owner = ring.ownerAt(start + i);
            if (!candidates.isAvoided(owner) && owner.inFlight() <= cap(capPerWeight, owner)) {
                return owner;
            }
        }
        return ring.owner(Hashing.hash(key.of(request)), candidates); // unreachable: the caps sum to more than the load
    }

    /** The most requests {@code backend} may carry before this one: its weighted share of the cap, rounded up. */
    static long cap(double capPerWeight, Backend backend) {
        return (long) Math.ceil(capPerWeight * backend.weight());
    }
}
