package admin;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import model.Backend;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.observe.TrafficObserver;

/**
 * {@code /metrics}, built with the Prometheus Java client (1.x) in a registry of its own; every backend
 * series carries the labels {@code upstream}, {@code backend} (its name, as the dashboard shows it: the
 * address when it has none) and {@code address} (the same address may serve two upstreams):
 * {@code lb_requests_total} (by backend and status class), {@code lb_request_duration_seconds} (a
 * histogram with classic buckets, so instances aggregate), {@code lb_retries_total} (by the backend
 * retried away from), {@code lb_response_bytes_total}, {@code lb_proxy_answered_total}; from the pool at
 * scrape time {@code lb_ejections_total}, {@code lb_health_checks_total} (by result), {@code lb_backend_up},
 * {@code lb_backend_in_flight}, {@code lb_backend_weight}; the client side's {@code lb_client_connections_total},
 * {@code lb_client_connections_open}, {@code lb_client_received_bytes_total}, {@code lb_client_sent_bytes_total};
 * {@code lb_build_info}, and the client library's JVM and process metrics. OpenMetrics when the
 * {@code Accept} header asks for it. A backend that leaves the pool leaves no series behind. Thread-safe:
 * the client's metrics are.
 */
final class PrometheusMetrics implements TrafficObserver {
    static final String VERSION = "0.1";
    private static final ExpositionFormats FORMATS = ExpositionFormats.init();

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ProxyServer proxy;
    private final Function<String, String> label;
    private final Set<Series> seen = ConcurrentHashMap.newKeySet();
    private final Map<Backend, Points> byBackend = new ConcurrentHashMap<>();
    private final Counter requests = Counter.builder().name("lb_requests_total")
            .help("Requests answered through each backend, by status class").labelNames("upstream", "backend", "address", "code").register(registry);
    private final Histogram durations = Histogram.builder().name("lb_request_duration_seconds")
            .help("Time from a request's arrival to the end of its answer, through each backend")
            .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
            .labelNames("upstream", "backend", "address").register(registry);
    private final Counter retries = Counter.builder().name("lb_retries_total")
            .help("Requests a backend failed that the proxy then sent to another backend, by the backend that failed")
            .labelNames("upstream", "backend", "address").register(registry);
    private final Counter responseBytes = Counter.builder().name("lb_response_bytes_total")
            .help("Response body bytes sent to clients, by the backend that answered").labelNames("upstream", "backend", "address").register(registry);
    private final Counter answeredByProxy = Counter.builder().name("lb_proxy_answered_total")
            .help("Requests the proxy answered itself: no backend could take them, or they were over a limit").register(registry);

    /** @param label a backend's name (the demo's "demo-1") by its address, or the address itself when it has none */
    PrometheusMetrics(ProxyServer proxy, Function<String, String> label) {
        this.proxy = proxy;
        this.label = label;
        CounterWithCallback.builder().name("lb_ejections_total").help("Times each backend was ejected after failing requests in a row")
                .labelNames("upstream", "backend", "address").callback(callback -> proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend ->
                        callback.call(backend.health().ejectionsTotal(), upstream, label.apply(backend.name()), backend.name())))).register(registry);
        CounterWithCallback.builder().name("lb_health_checks_total").help("Active health checks of each backend, by result")
                .labelNames("upstream", "backend", "address", "result").callback(callback -> proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend -> {
                    callback.call(backend.health().checksGood(), upstream, label.apply(backend.name()), backend.name(), "good");
                    callback.call(backend.health().checksFailed(), upstream, label.apply(backend.name()), backend.name(), "failed");
                }))).register(registry);
        GaugeWithCallback.builder().name("lb_backend_up").help("Whether each backend takes requests (1) or not (0)")
                .labelNames("upstream", "backend", "address").callback(callback -> proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend ->
                        callback.call(backend.health().isAvailable() ? 1 : 0, upstream, label.apply(backend.name()), backend.name())))).register(registry);
        GaugeWithCallback.builder().name("lb_backend_in_flight").help("Requests sent to each backend and not answered yet")
                .labelNames("upstream", "backend", "address").callback(callback -> proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend ->
                        callback.call(backend.inFlight(), upstream, label.apply(backend.name()), backend.name())))).register(registry);
        GaugeWithCallback.builder().name("lb_backend_weight").help("Each backend's weight")
                .labelNames("upstream", "backend", "address").callback(callback -> proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend ->
                        callback.call(backend.weight(), upstream, label.apply(backend.name()), backend.name())))).register(registry);
        CounterWithCallback.builder().name("lb_client_connections_total").help("Client connections accepted")
                .callback(callback -> callback.call(proxy.connectionsAccepted())).register(registry);
        GaugeWithCallback.builder().name("lb_client_connections_open").help("Client connections open now")
                .callback(callback -> callback.call(proxy.clientStatistics().getActiveConnections())).register(registry);
        CounterWithCallback.builder().name("lb_client_received_bytes_total").help("Bytes received from clients, headers included")
                .callback(callback -> callback.call(proxy.clientStatistics().getBytesReceived())).register(registry);
        CounterWithCallback.builder().name("lb_client_sent_bytes_total").help("Bytes sent to clients, headers included")
                .callback(callback -> callback.call(proxy.clientStatistics().getBytesSent())).register(registry);
        Info.builder().name("lb_build_info").help("The load balancer's version, its Undertow, and the Java running it")
                .labelNames("version", "undertow", "java").register(registry)
                .setLabelValues(VERSION, "2.4.4.Final", System.getProperty("java.version"));
        JvmMetrics.builder().register(registry);
    }

    @Override
    public void completed(CompletedRequest request) {
        String upstream = request.upstream() == null ? "" : request.upstream();
        for (Backend failed : request.retriedFrom()) {
            pointsOf(upstream, failed).retried().inc();
        }
        Backend backend = request.backend();
        if (backend == null) {
            answeredByProxy.inc();
            return;
        }
        Points points = pointsOf(upstream, backend);
        points.requests(Math.max(1, Math.min(5, request.status() / 100))).inc();
        points.duration.observe(request.durationNanos() / 1e9);
        points.bytes.inc(request.bytesSent());
    }

    /** The backend's series in {@code upstream}, looked up by label values once, not on every request. */
    private Points pointsOf(String upstream, Backend backend) {
        Points points = byBackend.get(backend);
        if (points == null || !points.series.upstream().equals(upstream)) {
            Series series = new Series(upstream, label.apply(backend.name()), backend.name());
            seen.add(series);
            points = new Points(series);
            byBackend.put(backend, points);
        }
        return points;
    }

    /**
     * One backend's series in one upstream, resolved to the client library's data points: a request then costs
     * no label-list hashing. The status classes' and retries' series are made on first use, as before, so a
     * backend shows only the classes it answered. Thread-safe: two threads may resolve a series at once, and both
     * get the same data point.
     */
    private final class Points {
        final Series series;
        final DistributionDataPoint duration;
        final CounterDataPoint bytes;
        private final CounterDataPoint[] byClass = new CounterDataPoint[TrafficStats.STATUS_CLASSES.length];
        private volatile CounterDataPoint retried;

        Points(Series series) {
            this.series = series;
            this.duration = durations.labelValues(series.labels());
            this.bytes = responseBytes.labelValues(series.labels());
        }

        /** @param statusClass 1 for 1xx up to 5 for 5xx */
        CounterDataPoint requests(int statusClass) {
            CounterDataPoint point = byClass[statusClass - 1];
            if (point == null) {
                point = requests.labelValues(series.upstream(), series.backend(), series.address(), TrafficStats.STATUS_CLASSES[statusClass - 1]);
                byClass[statusClass - 1] = point;
            }
            return point;
        }

        CounterDataPoint retried() {
            CounterDataPoint point = retried;
            if (point == null) {
                point = retries.labelValues(series.labels());
                retried = point;
            }
            return point;
        }
    }

    /** The content type of the format {@code accept} asks for: OpenMetrics if it names it, else Prometheus text 0.0.4. */
    static String contentType(String accept) {
        return writer(accept).getContentType();
    }

    /** The metrics in the format {@code accept} asks for. */
    String scrape(String accept) {
        forgetRemovedBackends();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer(accept).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Drops every series of a backend that left the pool (a request finishing after it left may have re-created one). */
    private void forgetRemovedBackends() {
        Set<Series> current = new HashSet<>();
        Set<Backend> inPools = Collections.newSetFromMap(new IdentityHashMap<>());
        proxy.pools().forEach((upstream, pool) -> pool.all().forEach(backend -> {
            current.add(new Series(upstream, label.apply(backend.name()), backend.name()));
            inPools.add(backend);
        }));
        byBackend.keySet().retainAll(inPools);
        for (Series series : List.copyOf(seen)) {
            if (!current.contains(series)) {
                seen.remove(series);
                for (String code : TrafficStats.STATUS_CLASSES) {
                    requests.remove(series.upstream(), series.backend(), series.address(), code);
                }
                durations.remove(series.labels());
                retries.remove(series.labels());
                responseBytes.remove(series.labels());
            }
        }
    }

    /** One backend of one upstream: the labels its series carry, its name and its address. */
    private record Series(String upstream, String backend, String address) {
        String[] labels() {
            return new String[] {upstream, backend, address};
        }
    }

    private static ExpositionFormatWriter writer(String accept) {
        ExpositionFormatWriter writer = FORMATS.findWriter(accept == null ? "" : accept);
        // Without an Accept header, or with a protobuf one, answer plain text: the format every scraper reads.
        return writer.getContentType().startsWith("application/vnd.google.protobuf") ? FORMATS.getPrometheusTextFormatWriter() : writer;
    }
}
