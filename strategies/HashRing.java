package strategies;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import proxy.Backend;

/**
 * A consistent-hashing ring over one list of backends, as in Karger et al. (1997) and libketama: each
 * backend owns 160 points per unit of weight, and a key belongs to the first point at or after its
 * hash, going round. Removing one of N backends moves only the keys its points owned (about 1/N);
 * the others stay put. Immutable once built, so any number of IO threads read it without locks;
 * building costs O(P log P) for P points, done once per pool change.
 */
final class HashRing {
    /** libketama's 160 points per server: shares within a few percent of the weights. */
    private static final int POINTS_PER_WEIGHT = 160;
    /** Past this many points in all, every backend's count is scaled down alike. */
    private static final int MAX_POINTS = 1 << 20;

    final List<Backend> backends;
    private final long[] points;
    private final Backend[] owners;

    HashRing(List<Backend> backends) {
        this.backends = backends;
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

    /** The owner of {@code hash}, or of the next point whose owner is in {@code allowed} (a retry's candidates). */
    Backend owner(long hash, Set<Backend> allowed) {
        int start = firstPoint(hash);
        for (int i = 0; i < points.length; i++) {
            Backend owner = ownerAt(start + i);
            if (allowed == null || allowed.contains(owner)) {
                return owner;
            }
        }
        return null;
    }

    static Set<Backend> identitySet(List<Backend> backends) {
        Set<Backend> set = Collections.newSetFromMap(new IdentityHashMap<>(backends.size() * 2));
        set.addAll(backends);
        return set;
    }
}
