package strategies;

import java.util.Arrays;
import java.util.List;
import model.Backend;
import model.Candidates;

/**
 * A consistent-hashing ring over one list of backends, as in Karger et al. (1997) and libketama: each
 * backend owns 160 points per unit of weight, and a key belongs to the first point at or after its
 * hash, going round. Removing one of N backends moves only the keys its points owned (about 1/N);
 * the others stay put. Immutable once built, so any number of IO threads read it without locks;
 * building costs O(P log P) for P points, done once per pool version, never per pick.
 */
final class HashRing {
    /** libketama's 160 points per server: shares within a few percent of the weights. */
    private static final int POINTS_PER_WEIGHT = 160;
    /** Past this many points in all, every backend's count is scaled down alike. */
    private static final int MAX_POINTS = 1 << 20;

    private final long[] points;
    private final Backend[] owners;

    HashRing(List<Backend> backends) {
        long wanted = 0;
        for (Backend backend : backends) {
            wanted += (long) POINTS_PER_WEIGHT * backend.weight();
        }
        double scale = Math.min(1.0, (double) MAX_POINTS / Math.max(1, wanted));
        long[][] pointOwner = new long[(int) Math.min(wanted, MAX_POINTS + backends.size())][];
        int total = 0;
        for (int i = 0; i < backends.size(); i++) {
            Backend backend = backends.get(i);
            int count = (int) Math.max(1, POINTS_PER_WEIGHT * backend.weight() * scale);
            for (int p = 0; p < count && total < pointOwner.length; p++) {
                // A backend's points depend on its own name and weight only, so they stay where they
                // are when other backends come or go: that is what keeps the other keys in place.
                pointOwner[total++] = new long[] {Hashing.hash(backend.name() + "#" + p), i};
            }
        }
        Arrays.sort(pointOwner, 0, total, (a, b) -> Long.compare(a[0], b[0]));
        this.points = new long[total];
        this.owners = new Backend[total];
        for (int i = 0; i < total; i++) {
            points[i] = pointOwner[i][0];
            owners[i] = backends.get((int) pointOwner[i][1]);
        }
    }

    /** Index of the first point at or after {@code hash}, going round. */
    int firstPoint(long hash) {
        int at = Arrays.binarySearch(points, hash);
        if (at < 0) {
            at = -at - 1;
        }
        return at == points.length ? 0 : at;
    }

    int size() {
        return points.length;
    }

    Backend ownerAt(int pointIndex) {
        return owners[Math.floorMod(pointIndex, owners.length)];
    }

    /**
     * The owner of {@code hash}, or when {@code candidates} avoids it, of the next point round the ring
     * whose owner is not avoided: a retry moves on as HAProxy's chash_get_server_hash does, and keys whose
     * owner is not avoided stay where they are.
     */
    Backend owner(long hash, Candidates candidates) {
        int start = firstPoint(hash);
        for (int i = 0; i < points.length; i++) {
            Backend owner = ownerAt(start + i);
            if (!candidates.isAvoided(owner)) {
                return owner;
            }
        }
        return candidates.allowed(0); // unreachable while the contract holds: one backend is allowed
    }
}
