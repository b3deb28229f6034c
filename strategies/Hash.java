package strategies;

import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Hash ({@code hash} and {@code ip-hash}): the same key (client address, header, cookie or path: see
 * {@link HashKey}) goes to the same backend for as long as that backend is in the pool, and when one of
 * N backends leaves, only the keys it had (about 1/N) move. Weights scale a backend's share of the ring.
 * Uses a {@link HashRing} (Karger et al. 1997; libketama) built once per pool version; a retry walks on
 * round the same ring to the next backend not avoided. See {@link ConsistentHash} for the variant that
 * also caps each backend's load. Thread-safe: the ring is immutable and published through a volatile field.
 */
public final class Hash implements Strategy {
    private final HashKey key;
    private final PerVersion<HashRing> rings = new PerVersion<>(HashRing::new);

    public Hash(HashKey key) {
        this.key = key;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        return rings.of(candidates).owner(Hashing.hash(key.of(request)), candidates);
    }
}
