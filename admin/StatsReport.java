package admin;

import java.util.List;
import java.util.Locale;
import proxy.Backend;
import proxy.BackendHealth;
import proxy.BackendPool;
import proxy.Json;

/** Renders the pool's live state and the traffic statistics as JSON for people and as Prometheus text for scrapers. Stateless. */
final class StatsReport {
    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

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
            for (int c = 0; c < CLASSES.length; c++) {
                json.append(c == 0 ? "" : ",").append('"').append(CLASSES[c]).append("\":").append(counters.byClass[c].sum());
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

    static String prometheus(BackendPool pool, TrafficStats stats) {
        StringBuilder text = new StringBuilder();
        text.append("# HELP lb_requests_total Requests answered through each backend, by status class.\n# TYPE lb_requests_total counter\n");
        for (Backend backend : pool.all()) {
            TrafficStats.Counters counters = stats.of(backend);
            for (int c = 0; c < CLASSES.length; c++) {
                text.append("lb_requests_total{backend=\"").append(backend.name()).append("\",code=\"").append(CLASSES[c]).append("\"} ")
                    .append(counters.byClass[c].sum()).append('\n');
            }
        }
        text.append("# HELP lb_backend_in_flight Requests sent to each backend and not yet answered.\n# TYPE lb_backend_in_flight gauge\n");
        for (Backend backend : pool.all()) {
            text.append("lb_backend_in_flight{backend=\"").append(backend.name()).append("\"} ").append(backend.inFlight()).append('\n');
        }
        text.append("# HELP lb_backend_up Whether each backend takes requests (1) or not (0).\n# TYPE lb_backend_up gauge\n");
        for (Backend backend : pool.all()) {
            text.append("lb_backend_up{backend=\"").append(backend.name()).append("\"} ").append(backend.health().isAvailable() ? 1 : 0).append('\n');
        }
        text.append("# HELP lb_request_duration_seconds Request duration through each backend, by quantile.\n# TYPE lb_request_duration_seconds summary\n");
        for (Backend backend : pool.all()) {
            TrafficStats.Counters counters = stats.of(backend);
            for (double quantile : new double[] {0.5, 0.9, 0.99}) {
                text.append("lb_request_duration_seconds{backend=\"").append(backend.name()).append("\",quantile=\"").append(quantile).append("\"} ")
                    .append(format(counters.latency.percentileMillis(quantile) / 1000)).append('\n');
            }
            text.append("lb_request_duration_seconds_count{backend=\"").append(backend.name()).append("\"} ").append(counters.requests.sum()).append('\n');
        }
        text.append("# HELP lb_proxy_answered_total Requests the proxy answered itself (no backend, over limits).\n# TYPE lb_proxy_answered_total counter\n")
            .append("lb_proxy_answered_total ").append(stats.unrouted()).append('\n');
        return text.toString();
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
