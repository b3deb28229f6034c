package admin;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import model.Backend;
import proxy.CompletedRequest;
import proxy.TrafficObserver;

/**
 * Per-backend counters built from every completed request: requests, answers by status class, and
 * a latency histogram; what {@code /stats} and {@code /metrics} report. Thread-safe: adders and atomic
 * buckets, one small record per backend created on its first request.
 */
public final class TrafficStats implements TrafficObserver {
    /** The status classes counted, in the order of {@code Counters.byClass}. */
    static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    /** One backend's counters. */
    static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder[] byClass = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
        final LatencyHistogram latency = new LatencyHistogram();
        final LongAdder nanosTotal = new LongAdder();
    }

    private final Map<Backend, Counters> byBackend = new ConcurrentHashMap<>();
    private final LongAdder unrouted = new LongAdder();

    @Override
    public void completed(CompletedRequest request) {
        if (request.backend() == null) {
            unrouted.increment(); // answered by the proxy itself: 503 with no backend, 413, ...
            return;
        }
        Counters counters = byBackend.computeIfAbsent(request.backend(), backend -> new Counters());
        counters.requests.increment();
        int statusClass = Math.max(1, Math.min(5, request.status() / 100));
        counters.byClass[statusClass - 1].increment();
        counters.latency.record(request.durationNanos());
        counters.nanosTotal.add(request.durationNanos());
    }

    Counters of(Backend backend) {
        return byBackend.computeIfAbsent(backend, b -> new Counters());
    }

    long unrouted() {
        return unrouted.sum();
    }

    /**
     * Jain's fairness index of the backends' shares measured against their weights (Jain, Chiu and
     * Hawe, 1984): 1 when every backend got exactly its weight's share, down to 1/n when one got all.
     */
    double fairness(List<Backend> backends) {
        double sum = 0, sumOfSquares = 0;
        for (Backend backend : backends) {
            double normalized = of(backend).requests.sum() / (double) backend.weight();
            sum += normalized;
            sumOfSquares += normalized * normalized;
        }
        return sumOfSquares == 0 ? 1 : sum * sum / (backends.size() * sumOfSquares);
    }
}
