package model;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Decides which backends a request may go to, asks the strategy for one of them, and says why: the one
 * place for these rules. In order: the primaries that are up; if none of them can take it, the backups
 * that are up; if no backend is up at all and panic mode is on, every primary (Envoy's panic mode). In
 * each group a backend is avoided when this request already tried it, when it has
 * {@code maxInFlightPerBackend} requests in flight (--max-conns), and, with slow start, when it is
 * warming up and a draw against its warmth (0 to 1 over the slow-start time) says not yet. Avoided
 * backends are named to the strategy rather than left out of a new list, so weights, rings and
 * schedules still hold (HAProxy passes the server to avoid the same way).
 * Thread-safe: reads the pool's published versions; the strategy is swapped through a volatile field.
 */
public final class Routing {
    private record NamedStrategy(String name, Strategy strategy) {}

    private final BackendPool pool;
    private final int maxInFlightPerBackend;
    private final long slowStartNanos;
    private final boolean panic;
    private final RandomGenerator random;
    private volatile NamedStrategy current;

    /**
     * @param maxInFlightPerBackend a backend with this many requests in flight is avoided; 0: no limit
     * @param random                draws for slow start; shared by IO threads, so thread-safe
     */
    public Routing(BackendPool pool, HealthSettings health, int maxInFlightPerBackend, RandomGenerator random,
                   String strategyName, Strategy strategy) {
        this.pool = pool;
        this.maxInFlightPerBackend = maxInFlightPerBackend;
        this.slowStartNanos = health.slowStart().toNanos();
        this.panic = health.panic();
        this.random = random;
        this.current = new NamedStrategy(strategyName, strategy);
    }

    /** From the next request on, {@code strategy} picks; {@code name} is what {@link Route#explain} calls it. */
    public void setStrategy(String name, Strategy strategy) {
        current = new NamedStrategy(name, strategy);
    }

    /** The backend for this request and why, or null when none may take it (the proxy answers 503). */
    public Route route(RequestView request, Collection<Backend> tried) {
        NamedStrategy strategy = current;
        Route route = within("primaries", pool.eligibleCandidates(), strategy, request, tried);
        if (route == null) {
            route = within("backups", pool.backupCandidates(), strategy, request, tried);
        }
        if (route == null && panic && pool.eligible().isEmpty() && pool.eligibleBackups().isEmpty()) {
            route = within("panic, all primaries", pool.panicCandidates(), strategy, request, tried);
        }
        return route;
    }

    private Route within(String group, Candidates version, NamedStrategy strategy, RequestView request, Collection<Backend> tried) {
        if (version.all().isEmpty()) {
            return null;
        }
        Map<Backend, String> avoided = Map.of(); // a map of its own only when something is avoided
        if (!tried.isEmpty() || maxInFlightPerBackend > 0) {
            for (Backend backend : version.all()) {
                if (tried.contains(backend)) {
                    avoided = with(avoided, backend, "tried");
                } else if (maxInFlightPerBackend > 0 && backend.inFlight() >= maxInFlightPerBackend) {
                    avoided = with(avoided, backend, "full");
                }
            }
        }
        Candidates candidates = version.avoiding(avoided.keySet());
        if (candidates.allowedCount() == 0) {
            return null;
        }
        Backend chosen = strategy.strategy().pick(candidates, request);
        if (slowStartNanos > 0 && candidates.allowedCount() > 1 && isStillCold(chosen)) {
            avoided = with(avoided, chosen, "warming up");
            candidates = version.avoiding(avoided.keySet());
            chosen = strategy.strategy().pick(candidates, request);
        }
        return new Route(chosen, strategy.strategy(), strategy.name(), group, candidates, avoided);
    }

    /** {@code avoided} plus {@code backend}, in the order they were found: a new map the first time. */
    private static Map<Backend, String> with(Map<Backend, String> avoided, Backend backend, String why) {
        Map<Backend, String> more = avoided.isEmpty() ? new LinkedHashMap<>(4) : avoided;
        more.put(backend, why);
        return more;
    }

    /** Slow start: a backend that just came back keeps a pick only with the probability of its warmth. */
    private boolean isStillCold(Backend chosen) {
        double warmth = chosen.health().warmth(System.nanoTime(), slowStartNanos);
        return warmth < 1 && random.nextDouble() >= warmth;
    }
}
