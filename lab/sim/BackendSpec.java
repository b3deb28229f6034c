package lab.sim;

/**
 * One simulated backend: its service-time distribution, how many requests it serves at once, its
 * weight, the share of requests it answers with an error, and whether it is dead (refuses every
 * connection, so the proxy's retry rules send the request elsewhere). Immutable.
 */
public record BackendSpec(Service service, int slots, int weight, double errorRate, boolean dead) {
    /** Requests per second it can serve: slots over mean service time; 0 when dead. */
    double capacityPerSecond() {
        return dead ? 0 : slots * 1e9 / service.meanNanos();
    }
}
