package admin;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import model.Backend;
import proxy.observe.CompletedRequest;
import proxy.observe.TrafficObserver;

/**
 * Per-backend counters built from every completed request: requests, answers by status class,
 * retries away from it, bytes sent, and its response times (HdrHistogram); what {@code /stats},
 * {@code /history} and the dashboard report. Thread-safe: adders and a lock-free recorder, one small
 * record per backend created on its first request and dropped by {@link #retain} once it leaves the pool.
 */
public final class TrafficStats implements TrafficObserver {
    /** The status classes counted, in the order of {@code Counters.byClass}. */
    static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    /** One backend's counters. */
    static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder[] byClass = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
        /** Requests this backend failed that the proxy then sent to another one: errors the client never saw. */
        final LongAdder retriedAway = new LongAdder();
        final LongAdder bytesSent = new LongAdder();
        final LatencyRecorder latency = new LatencyRecorder();
    }

    private final Map<Backend, Counters> byBackend = new ConcurrentHashMap<>();
    private final LongAdder unrouted = new LongAdder();
    private final LongAdder retries = new LongAdder();

    @Override
    public void completed(CompletedRequest request) {
        for (Backend failed : request.retriedFrom()) {
            of(failed).retriedAway.increment();
        }
        retries.add(request.retries());
        if (request.backend() == null) {
            unrouted.increment(); // answered by the proxy itself: 503 with no backend, 413, ...
            return;
        }
        Counters counters = of(request.backend());
        counters.requests.increment();
        int statusClass = Math.max(1, Math.min(5, request.status() / 100));
        counters.byClass[statusClass - 1].increment();
        counters.bytesSent.add(request.bytesSent());
        counters.latency.record(request.durationNanos());
    }

    Counters of(Backend backend) {
        return byBackend.computeIfAbsent(backend, b -> new Counters());
    }

    /** Forgets the backends no longer in the pool, so a removed one leaves nothing behind. */
    void retain(Collection<Backend> pool) {
        byBackend.keySet().retainAll(pool);
    }

    long unrouted() {
        return unrouted.sum();
    }

    /** Retries since start, over all backends. */
    long retries() {
        return retries.sum();
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
