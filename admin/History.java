package admin;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import model.Backend;
import model.BackendPool;
import org.HdrHistogram.Histogram;
import proxy.observe.EventLog;
import text.Json;

/**
 * The last five minutes at one-second resolution, kept server-side so a script, a test, a screenshot
 * and a person see the same numbers: once a second, for each backend, the requests, 5xx answers and
 * retries away from it in that second, and that second's p50 and p99 (from {@link LatencyRecorder}).
 * Also the recent window (last {@value #RECENT_SECONDS} s) the dashboard's rates, shares and latencies
 * come from. Thread-safe: one timer thread writes; readers copy under the lock.
 */
final class History {
    static final int KEPT_SECONDS = 300;
    static final int RECENT_SECONDS = 10;
    static final int RATE_SECONDS = 5;

    /** One backend in one second; p50 and p99 are NaN when it answered nothing that second. */
    record Point(long requests, long errors, long retries, double p50Millis, double p99Millis) {}

    /** One second: its start in epoch seconds, and each backend's point, by upstream and then by backend name. */
    record Second(long epochSecond, Map<String, Map<String, Point>> points) {
        Point point(String upstream, String backend) {
            Map<String, Point> ofUpstream = points.get(upstream);
            return ofUpstream == null ? null : ofUpstream.get(backend);
        }
    }

    /** What was counted so far, to turn running totals into per-second counts. */
    private record Totals(long requests, long errors, long retries) {}

    private final Supplier<Map<String, BackendPool>> pools;
    private final TrafficStats stats;
    private final Deque<Second> seconds = new ArrayDeque<>();
    private final Map<Backend, Totals> previous = new HashMap<>();
    private final Map<Backend, Deque<Histogram>> recentLatency = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "admin-history");
        thread.setDaemon(true);
        return thread;
    });

    /** @param pools every upstream's pool by name, in configuration order, as it is now */
    History(Supplier<Map<String, BackendPool>> pools, TrafficStats stats) {
        this.pools = pools;
        this.stats = stats;
    }

    /** Starts sampling on the next whole second of the wall clock, so samples line up with log timestamps. */
    void start() {
        long delay = 1_000 - System.currentTimeMillis() % 1_000;
        timer.scheduleAtFixedRate(this::tick, delay, 1_000, TimeUnit.MILLISECONDS);
    }

    void stop() {
        timer.shutdownNow();
    }

    /** Closes the second that just ended. Package-private so a test can close seconds without waiting. */
    synchronized void tick() {
        Map<String, BackendPool> upstreams = pools.get();
        List<Backend> all = new ArrayList<>();
        upstreams.values().forEach(pool -> all.addAll(pool.all()));
        stats.retain(all);
        previous.keySet().retainAll(all);
        recentLatency.keySet().retainAll(all);
        Map<String, Map<String, Point>> points = new LinkedHashMap<>();
        upstreams.forEach((upstream, pool) -> {
            Map<String, Point> ofUpstream = new LinkedHashMap<>();
            pool.all().forEach(backend -> ofUpstream.put(backend.name(), sample(backend)));
            points.put(upstream, ofUpstream);
        });
        seconds.addLast(new Second(System.currentTimeMillis() / 1_000 - 1, points));
        if (seconds.size() > KEPT_SECONDS) {
            seconds.removeFirst();
        }
    }

    /** {@code backend}'s point for the second that just ended. */
    private Point sample(Backend backend) {
        TrafficStats.Counters counters = stats.of(backend);
        Totals now = new Totals(counters.requests.sum(), counters.byClass[4].sum(), counters.retriedAway.sum());
        Totals before = previous.getOrDefault(backend, new Totals(0, 0, 0));
        previous.put(backend, now);
        Histogram second = counters.latency.closeSecond();
        Deque<Histogram> recent = recentLatency.computeIfAbsent(backend, b -> new ArrayDeque<>());
        recent.addLast(second);
        if (recent.size() > RECENT_SECONDS) {
            recent.removeFirst();
        }
        boolean any = second.getTotalCount() > 0;
        return new Point(now.requests - before.requests, now.errors - before.errors, now.retries - before.retries,
                any ? second.getValueAtPercentile(50) / 1e3 : Double.NaN, any ? second.getValueAtPercentile(99) / 1e3 : Double.NaN);
    }

    /** A copy of the kept seconds, oldest first. */
    synchronized List<Second> seconds() {
        return new ArrayList<>(seconds);
    }

    /** Requests per second through {@code backend}, averaged over the last {@value #RATE_SECONDS} whole seconds. */
    synchronized double rate(String upstream, Backend backend) {
        return requestsInLast(upstream, backend, RATE_SECONDS) / (double) Math.max(1, Math.min(RATE_SECONDS, seconds.size()));
    }

    /** Requests through {@code backend} in the last {@code count} whole seconds. */
    synchronized long requestsInLast(String upstream, Backend backend, int count) {
        long sum = 0;
        var newestFirst = seconds.descendingIterator();
        for (int i = 0; i < count && newestFirst.hasNext(); i++) {
            Point point = newestFirst.next().point(upstream, backend.name());
            sum += point == null ? 0 : point.requests();
        }
        return sum;
    }

    /** A percentile (0 to 100) of {@code backend}'s response times over the last {@value #RECENT_SECONDS} s, in ms; NaN when none. */
    synchronized double recentMillis(Backend backend, double percentile) {
        Deque<Histogram> recent = recentLatency.get(backend);
        if (recent == null || recent.isEmpty()) {
            return Double.NaN;
        }
        Histogram sum = new Histogram(3);
        recent.forEach(sum::add);
        return sum.getTotalCount() == 0 ? Double.NaN : sum.getValueAtPercentile(percentile) / 1e3;
    }

    /**
     * The JSON of {@code GET /history}: {@code seconds} (epoch seconds), one series per backend
     * ({@code requests}, {@code errors}, {@code retries} per second; {@code p50Ms}, {@code p99Ms}, null
     * where it answered nothing), and the events as markers ({@code t} in epoch seconds).
     */
    String json(String upstream, Function<String, String> label, List<EventLog.Event> events) {
        List<Second> kept = seconds();
        List<String> names = new ArrayList<>();
        kept.forEach(second -> second.points().getOrDefault(upstream, Map.of()).keySet().forEach(name -> {
            if (!names.contains(name)) names.add(name);
        }));
        BackendPool pool = pools.get().get(upstream);
        if (pool != null) {
            pool.all().forEach(backend -> {
                if (!names.contains(backend.name())) names.add(backend.name());
            });
        }
        StringBuilder json = new StringBuilder("{\"upstream\":").append(Json.quote(upstream)).append(",\"seconds\":[");
        for (int i = 0; i < kept.size(); i++) {
            json.append(i == 0 ? "" : ",").append(kept.get(i).epochSecond());
        }
        json.append("],\"backends\":[");
        for (int b = 0; b < names.size(); b++) {
            String name = names.get(b);
            json.append(b == 0 ? "" : ",").append("{\"backend\":").append(Json.quote(name)).append(",\"label\":").append(Json.quote(label.apply(name)));
            series(json, "requests", kept, upstream, name, point -> (double) point.requests());
            series(json, "errors", kept, upstream, name, point -> (double) point.errors());
            series(json, "retries", kept, upstream, name, point -> (double) point.retries());
            series(json, "p50Ms", kept, upstream, name, Point::p50Millis);
            series(json, "p99Ms", kept, upstream, name, Point::p99Millis);
            json.append('}');
        }
        json.append("],\"events\":[");
        for (int i = 0; i < events.size(); i++) {
            EventLog.Event event = events.get(i);
            json.append(i == 0 ? "" : ",").append("{\"t\":").append(number(event.time().toEpochMilli() / 1e3))
                .append(",\"kind\":").append(Json.quote(event.kind().name().toLowerCase(Locale.ROOT)))
                .append(",\"backend\":").append(event.backend() == null ? "null" : Json.quote(label.apply(event.backend())))
                .append(",\"text\":").append(Json.quote(labelled(event.text(), event.backend(), label))).append('}');
        }
        return json.append("],\"now\":").append(number(Instant.now().toEpochMilli() / 1e3)).append("}\n").toString();
    }

    /** An event's text with the backend's address replaced by its name, when it has one. */
    static String labelled(String text, String backend, Function<String, String> label) {
        if (backend == null || label.apply(backend).equals(backend)) return text;
        return text.replace(backend, label.apply(backend));
    }

    private static void series(StringBuilder json, String field, List<Second> kept, String upstream, String name, ToDoubleFunction<Point> value) {
        json.append(",\"").append(field).append("\":[");
        for (int i = 0; i < kept.size(); i++) {
            Point point = kept.get(i).point(upstream, name);
            json.append(i == 0 ? "" : ",").append(point == null ? "null" : number(value.applyAsDouble(point)));
        }
        json.append(']');
    }

    static String number(double value) {
        if (Double.isNaN(value)) return "null";
        if (value == Math.rint(value) && Math.abs(value) < 1e15) return Long.toString((long) value);
        return String.format(Locale.ROOT, "%.3f", value);
    }
}
