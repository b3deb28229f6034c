package admin;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import model.Backend;
import model.BackendHealth;
import model.BackendPool;
import text.Json;

/**
 * Renders the pool's live state and the traffic statistics as the JSON of {@code /stats}: since start
 * and over the recent window, with rates computed here (not in a browser), so any reader, a headless
 * screenshot included, sees the same numbers. Stateless.
 */
final class StatsReport {
    /** The window "recent share" covers, in seconds. */
    static final int SHARE_SECONDS = 30;

    private StatsReport() {}

    /**
     * @param upstream  the upstream whose pool, {@code pool}, the fields before {@code upstreams} describe in detail
     * @param upstreams every upstream's pool by name, with its configured strategy
     */
    static String json(String upstream, BackendPool pool, TrafficStats stats, History history, String strategy, Function<String, String> label,
                       Map<String, BackendPool> upstreams, Function<String, String> strategyOf) {
        List<Backend> backends = pool.all();
        long total = backends.stream().mapToLong(backend -> stats.of(backend).requests.sum()).sum();
        long recentTotal = backends.stream().mapToLong(backend -> history.requestsInLast(upstream, backend, SHARE_SECONDS)).sum();
        long totalWeight = backends.stream().mapToLong(Backend::weight).sum();
        long now = System.currentTimeMillis();
        StringBuilder json = new StringBuilder("{\"upstream\":").append(Json.quote(upstream))
                .append(",\"strategy\":").append(Json.quote(strategy)).append(",\"backends\":[");
        for (int i = 0; i < backends.size(); i++) {
            Backend backend = backends.get(i);
            TrafficStats.Counters counters = stats.of(backend);
            long requests = counters.requests.sum();
            String state = state(backend.health());
            json.append(i == 0 ? "" : ",")
                .append("{\"backend\":").append(Json.quote(backend.name()))
                .append(",\"label\":").append(Json.quote(label.apply(backend.name())))
                .append(",\"state\":").append(Json.quote(state))
                .append(",\"returnsInSeconds\":").append(state.equals("ejected")
                        ? History.number(Math.max(0, Math.ceil((backend.health().ejectedUntilMillis() - now) / 1e3))) : "null")
                .append(",\"weight\":").append(backend.weight())
                .append(",\"inFlight\":").append(backend.inFlight())
                .append(",\"requests\":").append(requests)
                .append(",\"ratePerSecond\":").append(format(history.rate(upstream, backend)))
                .append(",\"errors\":").append(counters.byClass[4].sum())
                .append(",\"retriedAway\":").append(counters.retriedAway.sum())
                .append(",\"status\":{");
            for (int c = 0; c < TrafficStats.STATUS_CLASSES.length; c++) {
                json.append(c == 0 ? "" : ",").append('"').append(TrafficStats.STATUS_CLASSES[c]).append("\":").append(counters.byClass[c].sum());
            }
            json.append("},\"latencyMs\":{")
                .append("\"p50\":").append(format(counters.latency.sinceStartMillis(50)))
                .append(",\"p90\":").append(format(counters.latency.sinceStartMillis(90)))
                .append(",\"p99\":").append(format(counters.latency.sinceStartMillis(99)))
                .append("},\"recentLatencyMs\":{")
                .append("\"p50\":").append(History.number(history.recentMillis(backend, 50)))
                .append(",\"p99\":").append(History.number(history.recentMillis(backend, 99)))
                .append("},\"share\":").append(format(total == 0 ? 0 : (double) requests / total))
                .append(",\"recentShare\":").append(format(recentTotal == 0 ? 0 : (double) history.requestsInLast(upstream, backend, SHARE_SECONDS) / recentTotal))
                .append(",\"expectedShare\":").append(format((double) backend.weight() / totalWeight))
                .append('}');
        }
        return json.append("],\"requests\":").append(total)
                .append(",\"recentWindowSeconds\":").append(SHARE_SECONDS)
                .append(",\"answeredByProxy\":").append(stats.unrouted())
                .append(",\"retries\":").append(stats.retries())
                .append(",\"fairness\":").append(format(stats.fairness(backends)))
                .append(",\"upstreams\":").append(upstreams(upstreams, stats, strategyOf, label))
                .append("}\n").toString();
    }

    /** Every upstream in configuration order: its strategy and each backend's state, weight, in-flight count and requests. */
    private static String upstreams(Map<String, BackendPool> upstreams, TrafficStats stats, Function<String, String> strategyOf,
                                    Function<String, String> label) {
        StringBuilder json = new StringBuilder("[");
        upstreams.forEach((name, pool) -> {
            json.append(json.length() == 1 ? "" : ",").append("{\"upstream\":").append(Json.quote(name))
                    .append(",\"strategy\":").append(Json.quote(strategyOf.apply(name))).append(",\"backends\":[");
            List<Backend> backends = pool.all();
            for (int i = 0; i < backends.size(); i++) {
                Backend backend = backends.get(i);
                json.append(i == 0 ? "" : ",").append("{\"backend\":").append(Json.quote(backend.name()))
                        .append(",\"label\":").append(Json.quote(label.apply(backend.name())))
                        .append(",\"state\":").append(Json.quote(state(backend.health())))
                        .append(",\"weight\":").append(backend.weight())
                        .append(",\"inFlight\":").append(backend.inFlight())
                        .append(",\"requests\":").append(stats.of(backend).requests.sum()).append('}');
            }
            json.append("]}");
        });
        return json.append(']').toString();
    }

    private static String state(BackendHealth health) {
        if (health.isDraining()) return "draining";
        if (!health.isCheckedUp()) return "down";
        if (health.isEjected()) return "ejected";
        return "up";
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.4f", value);
    }
}
