package strategies;

import java.util.random.RandomGenerator;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Least latency: of two backends drawn at random, the one with the lower cost, where cost is the
 * backend's peak-EWMA response time times its requests in flight plus one, per unit of weight (Finagle's
 * and Linkerd's "P2C + peak EWMA"). A slow backend's cost rises at its first slow answer; the average
 * decays while it gets no traffic, so it is tried again later and wins back its share once it is fast.
 * A backend with no measurement yet costs 0 while idle, so it is tried first, and more than any measured
 * one while it has requests in flight, as in Finagle. Thread-safe if its random source is.
 */
public final class LeastLatency implements Strategy {
    private final RandomGenerator random;

    public LeastLatency(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        int size = candidates.allowedCount();
        if (size == 1) {
            return candidates.allowed(0);
        }
        int i = random.nextInt(size);
        int j = random.nextInt(size - 1);
        if (j >= i) {
            j++; // two distinct indexes, uniformly
        }
        Backend a = candidates.allowed(i), b = candidates.allowed(j);
        return cost(b) < cost(a) ? b : a;
    }

    /** Finagle's penalty for a backend with requests in flight but no answer yet: it is worse than any measured one. */
    private static final double UNMEASURED_BUSY = Long.MAX_VALUE >> 16;

    private static double cost(Backend backend) {
        long latency = backend.latencyNanos();
        int inFlight = backend.inFlight();
        if (latency == 0) {
            return inFlight == 0 ? 0 : UNMEASURED_BUSY + inFlight;
        }
        return (double) latency * (inFlight + 1) / backend.weight();
    }
}
