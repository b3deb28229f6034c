package lab.sim;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import model.Backend;
import model.BackendPool;
import model.Failure;
import model.FailurePolicy;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import model.RetryBudget;
import model.Route;
import model.Routing;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * A discrete-event simulation, in simulated time, of the project's own {@link Routing} and strategies
 * in front of queueing backends: Poisson arrivals at a chosen share of the pool's capacity, each
 * backend serving {@code slots} requests at once from a FIFO queue, the model's backends reading the
 * simulated clock, dead backends refused and retried by the model's {@link FailurePolicy}. The same
 * setup and seed give the same result, bit for bit. Not thread-safe: one run, one thread.
 */
public final class Simulation {
    /** Requests the proxy may retry per 100, as the proxy's own default budget allows. */
    private static final int RETRY_PERCENT = 20;

    /**
     * What to simulate.
     *
     * @param load     offered load as a share of the live backends' total capacity (0.5: half busy)
     * @param requests how many requests arrive; the first tenth warms the queues up and is not measured
     * @param zipf     skew of the user keys (0: uniform over 1,000 users)
     * @param leaveAt  share of the requests after which the first backend leaves the pool; negative: never
     * @param returnAt share after which it comes back; negative: never
     */
    public record Setup(List<BackendSpec> backends, double load, int requests, long seed, double zipf,
                        double leaveAt, double returnAt) {
        public Setup {
            backends = List.copyOf(backends);
        }

        /** {@code count} equal backends, uniform users, no churn. */
        public static Setup uniform(int count, Service service, int slots, double load, int requests, long seed) {
            List<BackendSpec> specs = new ArrayList<>();
            for (int i = 0; i < count; i++) specs.add(new BackendSpec(service, slots, 1, 0, false));
            return new Setup(specs, load, requests, seed, 0, -1, -1);
        }

        public Setup withSeed(long newSeed) {
            return new Setup(backends, load, requests, newSeed, zipf, leaveAt, returnAt);
        }
    }

    private final Setup setup;
    private final String strategyName;
    private final SimClock clock = new SimClock();
    private final List<Backend> backends = new ArrayList<>();
    private final Station[] stations;
    private final Map<Backend, Integer> index = new IdentityHashMap<>();
    private final BackendPool pool;
    private final Routing routing;
    private final FailurePolicy policy;
    private final EventHeap completions = new EventHeap();
    private final SplittableRandom serviceRandom, errorRandom;
    private final long[] arrivedAt;
    private final int[] station;
    private final long[] timeInSystem;
    private final long[] queueSeen;
    private long errors, unanswered;

    private Simulation(Setup setup, Strategies.Entry entry) {
        this.setup = setup;
        this.strategyName = entry.name();
        stations = new Station[setup.backends().size()];
        for (int i = 0; i < stations.length; i++) {
            BackendSpec spec = setup.backends().get(i);
            Backend backend = new Backend(URI.create("http://b" + (i + 1) + ".sim"), spec.weight(), Backend.DEFAULT_LATENCY_DECAY, clock);
            backends.add(backend);
            index.put(backend, i);
            stations[i] = new Station(spec);
        }
        SplittableRandom root = new SplittableRandom(setup.seed());
        serviceRandom = root.split();
        errorRandom = root.split();
        pool = new BackendPool(backends);
        StrategyOptions options = new StrategyOptions(StrategyOptions.seeded(root.nextLong()), "header:X-User", 1.25);
        HealthSettings health = new HealthSettings(HealthChecks.OFF, PassiveEjection.OFF, Duration.ZERO, false);
        routing = new Routing(pool, health, 0, StrategyOptions.seeded(root.nextLong()), entry.name(), entry.create(options));
        policy = new FailurePolicy(new RetryBudget(RETRY_PERCENT, clock));
        int n = setup.requests();
        arrivedAt = new long[n];
        station = new int[n];
        timeInSystem = new long[n];
        queueSeen = new long[64];
        Arrays.fill(timeInSystem, -1);
    }

    /** Runs {@code entry}'s strategy through {@code setup}. */
    public static SimResult run(Setup setup, Strategies.Entry entry) {
        return new Simulation(setup, entry).run();
    }

    private SimResult run() {
        double capacity = setup.backends().stream().mapToDouble(BackendSpec::capacityPerSecond).sum();
        if (capacity <= 0) {
            throw new IllegalArgumentException("no live backend: nothing can serve the load");
        }
        double meanGapNanos = 1e9 / (setup.load() * capacity);
        SplittableRandom arrivals = new SplittableRandom(setup.seed() * 31 + 7);
        Users users = new Users(setup.zipf(), new SplittableRandom(setup.seed() * 31 + 11));
        int n = setup.requests();
        int leaveAt = setup.leaveAt() < 0 ? -1 : (int) (setup.leaveAt() * n);
        int returnAt = setup.returnAt() < 0 ? -1 : (int) (setup.returnAt() * n);
        double nextArrival = 0;
        int next = 0;
        while (next < n || !completions.isEmpty()) {
            if (next < n && (completions.isEmpty() || (long) nextArrival <= completions.peekTime())) {
                clock.advanceTo((long) nextArrival);
                if (next == leaveAt) pool.remove(backends.get(0));
                if (next == returnAt && returnAt > leaveAt) pool.add(backends.get(0));
                arrive(next++, users.next());
                nextArrival += -Math.log(1 - arrivals.nextDouble()) * meanGapNanos; // exponential gaps: Poisson arrivals
            } else {
                clock.advanceTo(completions.peekTime());
                complete(completions.poll());
            }
        }
        return result();
    }

    /** Routes a request as the proxy would: a dead backend refuses, the failure policy decides on a retry. */
    private void arrive(int request, SimRequest view) {
        long now = clock.getAsLong();
        arrivedAt[request] = now;
        policy.requestArrived();
        List<Backend> tried = List.of();
        FailurePolicy.Decision earlier = null;
        while (true) {
            Route route = routing.route(view, tried);
            if (route == null) {
                unanswered++;
                return;
            }
            Backend backend = route.backend();
            int at = index.get(backend);
            Station target = stations[at];
            backend.requestStarted();
            if (target.spec.dead()) {
                backend.requestFinished(-1);
                earlier = policy.decide(Failure.CONNECT_FAILED, "GET", true, earlier);
                if (!earlier.retry()) {
                    unanswered++;
                    return;
                }
                List<Backend> more = new ArrayList<>(tried);
                more.add(backend);
                tried = more;
                continue;
            }
            station[request] = at;
            if (request >= warmUp()) {
                queueSeen[Math.min(target.inSystem(), queueSeen.length - 1)]++;
            }
            if (target.admit(request)) {
                completions.add(now + target.spec.service().draw(serviceRandom), request);
            }
            return;
        }
    }

    private void complete(int request) {
        long now = clock.getAsLong();
        int at = station[request];
        Station target = stations[at];
        long latency = now - arrivedAt[request];
        backends.get(at).requestFinished(latency);
        if (request >= warmUp()) {
            timeInSystem[request] = latency;
            target.served++;
            if (target.spec.errorRate() > 0 && errorRandom.nextDouble() < target.spec.errorRate()) {
                errors++;
            }
        }
        int waiting = target.release();
        if (waiting >= 0) {
            completions.add(now + target.spec.service().draw(serviceRandom), waiting);
        }
    }

    /** The first tenth of the requests fills the queues to their steady state and is left out of the numbers. */
    private int warmUp() {
        return setup.requests() / 10;
    }

    private SimResult result() {
        long[] measured = Arrays.stream(timeInSystem, warmUp(), timeInSystem.length).filter(t -> t >= 0).sorted().toArray();
        long[] served = new long[stations.length];
        for (int i = 0; i < stations.length; i++) served[i] = stations[i].served;
        return new SimResult(strategyName, measured, served, errors, unanswered, queueSeen.clone());
    }

    /** User keys for the requests: uniform over 1,000 users or Zipf-skewed, each user's request view made once. */
    private static final class Users {
        private static final int COUNT = 1_000;
        private final SimRequest[] views = new SimRequest[COUNT];
        private final double[] cumulative;
        private final SplittableRandom random;

        Users(double zipf, SplittableRandom random) {
            this.random = random;
            for (int i = 0; i < COUNT; i++) views[i] = SimRequest.of(i);
            if (zipf > 0) {
                cumulative = new double[COUNT];
                double sum = 0;
                for (int rank = 1; rank <= COUNT; rank++) cumulative[rank - 1] = sum += 1 / Math.pow(rank, zipf);
                for (int i = 0; i < COUNT; i++) cumulative[i] /= sum;
            } else {
                cumulative = null;
            }
        }

        SimRequest next() {
            if (cumulative == null) return views[random.nextInt(COUNT)];
            int found = Arrays.binarySearch(cumulative, random.nextDouble());
            return views[Math.min(COUNT - 1, found >= 0 ? found : -found - 1)];
        }
    }
}
