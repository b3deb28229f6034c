package admin;

import java.util.List;
import java.util.Locale;
import model.Backend;
import model.BackendHealth;
import model.BackendPool;
import proxy.Json;

/** Renders the pool's live state and the traffic statistics as the JSON of {@code /stats}. Stateless. */
final class StatsReport {

    private StatsReport() {}

    static String json(BackendPool pool, TrafficStats stats, String strategy) {
        List<Backend> backends = pool.all();
        long total = backends.stream().mapToLong(backend -> stats.of(backend).requests.sum()).sum();
        long totalWeight = backends.stream().mapToLong(Backend::weight).sum();
        StringBuilder json = new StringBuilder("{\"strategy\":").append(Json.quote(strategy)).append(",\"backends\":[");
        for (int i = 0; i < backends.size(); i++) {
            Backend backend = backends.get(i);
            TrafficStats.Counters counters = stats.of(backend);
            long requests = counters.requests.sum();
            json.append(i == 0 ? "" : ",")
                .append("{\"backend\":").append(Json.quote(backend.name()))
                .append(",\"state\":").append(Json.quote(state(backend.health())))
                .append(",\"weight\":").append(backend.weight())
                .append(",\"inFlight\":").append(backend.inFlight())
                .append(",\"requests\":").append(requests)
                .append(",\"errors\":").append(counters.byClass[4].sum())
                .append(",\"status\":{");
            for (int c = 0; c < TrafficStats.STATUS_CLASSES.length; c++) {
                json.append(c == 0 ? "" : ",").append('"').append(TrafficStats.STATUS_CLASSES[c]).append("\":").append(counters.byClass[c].sum());
            }
            json.append("},\"latencyMs\":{")
                .append("\"p50\":").append(format(counters.latency.percentileMillis(0.50)))
                .append(",\"p90\":").append(format(counters.latency.percentileMillis(0.90)))
                .append(",\"p99\":").append(format(counters.latency.percentileMillis(0.99)))
                .append("},\"share\":").append(format(total == 0 ? 0 : (double) requests / total))
                .append(",\"expectedShare\":").append(format((double) backend.weight() / totalWeight))
                .append('}');
        }
        return json.append("],\"requests\":").append(total)
                .append(",\"answeredByProxy\":").append(stats.unrouted())
                .append(",\"fairness\":").append(format(stats.fairness(backends)))
                .append("}\n").toString();
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
