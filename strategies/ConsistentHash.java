package strategies;

import java.util.List;
import java.util.Set;
import proxy.Backend;

/**
 * Consistent hashing: the same key (client address, header, cookie or path: see {@link HashKey}) goes
 * to the same backend for as long as that backend is in the pool, and when one of N backends leaves,
 * only the keys it had (about 1/N) move. Weights scale a backend's share of the ring. Uses a
 * {@link HashRing} (Karger et al. 1997; libketama) rebuilt only when the pool changes; a retry walks on
 * round the same ring to the next backend that is still a candidate. Thread-safe: the ring is immutable
 * and swapped through a volatile field.
 */
public final class ConsistentHash implements Strategy {
    private final HashKey key;
    private final PoolCache<HashRing> rings = new PoolCache<>(HashRing::new);

    public ConsistentHash(HashKey key) {
        this.key = key;
    }

    @Override
    public Backend pick(List<Backend> candidates, RequestView request) {
        long hash = Hashing.hash(key.of(request));
        HashRing ring = rings.get(candidates);
        if (ring != null) {
            return ring.owner(hash, null);
        }
        // A list seen once, usually a retry's: walk on round the pool's ring to the next backend still a
        // candidate, if that ring has them all; a list with backends the ring lacks gets its own ring.
        HashRing last = rings.last();
        Set<Backend> allowed = HashRing.identitySet(candidates);
        if (HashRing.identitySet(last.backends).containsAll(allowed)) {
            return last.owner(hash, allowed);
        }
        return new HashRing(candidates).owner(hash, null);
    }
}
