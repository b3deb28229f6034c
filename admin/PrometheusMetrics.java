package admin;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import model.Backend;
import model.BackendPool;

/**
 * {@code /metrics}: the pool and the traffic statistics in Prometheus's text exposition format,
 * written by the Prometheus Java client's own writer from snapshots taken at scrape time, so requests
 * pay nothing for it. Names follow Prometheus conventions: {@code lb_requests_total} (counter, by
 * backend and status class), {@code lb_request_duration_seconds} (summary), {@code lb_backend_in_flight}
 * and {@code lb_backend_up} (gauges), {@code lb_proxy_answered_total}. Stateless.
 */
final class PrometheusMetrics {
    private static final PrometheusTextFormatWriter WRITER = new PrometheusTextFormatWriter(false);

    private PrometheusMetrics() {}

    static String contentType() {
        return WRITER.getContentType();
    }

    static String text(BackendPool pool, TrafficStats stats) {
        CounterSnapshot.Builder requests = CounterSnapshot.builder().name("lb_requests")
                .help("Requests answered through each backend, by status class");
        GaugeSnapshot.Builder inFlight = GaugeSnapshot.builder().name("lb_backend_in_flight")
                .help("Requests sent to each backend and not answered yet");
        GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("lb_backend_up")
                .help("Whether each backend takes requests (1) or not (0)");
        SummarySnapshot.Builder durations = SummarySnapshot.builder().name("lb_request_duration_seconds")
                .help("Time from a request's arrival to the end of its answer, through each backend");
        for (Backend backend : pool.all()) {
            TrafficStats.Counters counters = stats.of(backend);
            for (int c = 0; c < TrafficStats.STATUS_CLASSES.length; c++) {
                requests.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("backend", backend.name(), "code", TrafficStats.STATUS_CLASSES[c]))
                        .value(counters.byClass[c].sum()).build());
            }
            inFlight.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("backend", backend.name())).value(backend.inFlight()).build());
            up.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("backend", backend.name()))
                    .value(backend.health().isAvailable() ? 1 : 0).build());
            SummaryDataPointSnapshot.Builder duration = SummaryDataPointSnapshot.builder();
            duration.labels(Labels.of("backend", backend.name()));
            duration.quantiles(Quantiles.of(quantile(counters, 0.5), quantile(counters, 0.9), quantile(counters, 0.99)));
            duration.count(counters.requests.sum());
            duration.sum(counters.nanosTotal.sum() / 1e9);
            durations.dataPoint(duration.build());
        }
        CounterSnapshot answeredByProxy = CounterSnapshot.builder().name("lb_proxy_answered")
                .help("Requests the proxy answered itself: no backend could take them, or they were over a limit")
                .dataPoint(CounterDataPointSnapshot.builder().value(stats.unrouted()).build()).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            WRITER.write(out, MetricSnapshots.of(requests.build(), durations.build(), inFlight.build(), up.build(), answeredByProxy));
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static Quantile quantile(TrafficStats.Counters counters, double quantile) {
        return new Quantile(quantile, counters.latency.percentileMillis(quantile) / 1000);
    }
}
