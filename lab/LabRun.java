package lab;

import demo.DemoServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import model.Backend;
import model.BackendPool;
import model.Candidates;
import model.RequestView;
import model.Strategy;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * One strategy against one scenario: fresh demo backends with the scenario's faults, a real load
 * balancer in this process, and the workload sent on schedule through it with the JDK's HTTP client.
 * Every request's latency, status and backend is recorded, and the backends' own counts are kept to
 * check them against. Not thread-safe: run one at a time.
 */
public final class LabRun {
    /** One request as the client saw it. */
    public record Sample(long sentAtNanos, long latencyNanos, int status, int backend) {}

    /** What one run produced. */
    public record Result(String strategy, List<Sample> samples, long[] servedAtBackends, double keysMoved) {}

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private LabRun() {}

    public static Result run(Scenario scenario, Strategies.Entry entry, Workload workload, long seed) throws InterruptedException {
        List<DemoServer> demos = new ArrayList<>();
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < scenario.delays().size(); i++) {
            DemoServer demo = DemoServer.start("b" + (i + 1), 0, new DemoServer.Faults(scenario.delays().get(i), scenario.errorRates().get(i)));
            demos.add(demo);
            backends.add(new Backend(URI.create(demo.url()), scenario.weights().get(i)));
        }
        StrategyOptions options = new StrategyOptions(StrategyOptions.seeded(seed), "header:X-User", 1.25);
        Strategy strategy = entry.create(options);
        BackendPool pool = new BackendPool(backends);
        ProxyServer proxy = ProxyServer.start(ProxySettings.forTests(), pool, entry.name(), strategy);
        ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        try {
            long start = System.nanoTime();
            long runNanos = workload.arrivalNanos()[workload.size() - 1];
            boolean left = false, returned = false;
            for (int i = 0; i < workload.size(); i++) {
                long due = start + workload.arrivalNanos()[i];
                LockSupport.parkNanos(due - System.nanoTime()); // open loop: send on schedule, answered or not
                if (scenario.churns() && !left && workload.arrivalNanos()[i] >= scenario.leaveAt() * runNanos) {
                    pool.remove(backends.get(0));
                    left = true;
                }
                if (scenario.churns() && !returned && scenario.returnAt() >= 0 && workload.arrivalNanos()[i] >= scenario.returnAt() * runNanos) {
                    pool.add(backends.get(0));
                    returned = true;
                }
                long sentAt = System.nanoTime();
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/lab"))
                        .header("X-User", workload.users()[i]).timeout(Duration.ofSeconds(10)).build();
                pending.add(CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
                    int status = error != null ? -1 : response.statusCode();
                    samples.add(new Sample(sentAt - start, System.nanoTime() - sentAt, status, error != null ? -1 : backendOf(response.body())));
                    return null;
                }));
            }
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        } finally {
            proxy.stop();
            demos.forEach(DemoServer::stop);
        }
        long[] served = demos.stream().mapToLong(DemoServer::requestCount).toArray();
        double moved = entry.has(Strategies.Trait.HASHING) ? keysMoved(entry, options, backends) : Double.NaN;
        return new Result(entry.name(), List.copyOf(samples), served, moved);
    }

    /** The share of 1,000 user keys that land on another backend when the first backend leaves (its own must). */
    private static double keysMoved(Strategies.Entry entry, StrategyOptions options, List<Backend> backends) {
        Strategy strategy = entry.create(options);
        Candidates all = Candidates.of(backends), without = Candidates.of(backends.subList(1, backends.size()));
        int moved = 0;
        for (int user = 0; user < Workload.USERS; user++) {
            String client = "10.0." + (user / 250) + "." + (user % 250 + 1); // each user its own address, for ip-hash
            RequestView request = RequestView.of(client, "GET", "/lab", Map.of("X-User", "user-" + user), Map.of());
            Backend before = strategy.pick(all, request);
            Backend after = strategy.pick(without, request);
            if (before != after) {
                moved++;
            }
        }
        return moved / (double) Workload.USERS;
    }

    /** The demo backend's number, from its echo ("backend":"b2") or its error body; -1 if neither names one. */
    private static int backendOf(String body) {
        int at = body.indexOf("\"backend\":\"b");
        if (at < 0) {
            return -1;
        }
        int from = at + "\"backend\":\"b".length(), to = body.indexOf('"', from);
        return Integer.parseInt(body.substring(from, to)) - 1;
    }
}
