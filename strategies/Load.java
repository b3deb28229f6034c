package strategies;

import model.Backend;

/** How loaded a backend is, for the load-aware strategies: requests in flight per unit of weight. Stateless. */
final class Load {
    private Load() {}

    /** {@code a} unless {@code b} has fewer requests in flight per unit of weight (compared without division). */
    static Backend lighter(Backend a, Backend b) {
        return compare(b, a) < 0 ? b : a;
    }

    /** -1, 0 or 1 as {@code a} carries less, as much or more load per unit of weight than {@code b}. */
    static int compare(Backend a, Backend b) {
        return Long.compare((long) a.inFlight() * b.weight(), (long) b.inFlight() * a.weight());
    }
}
