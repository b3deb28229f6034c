package lab;

import demo.DemoServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

    /** Sends the requests: one thread per request in flight, since each one's socket is bound to its user's own address. */
    private static final ExecutorService SENDERS = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "lab-client");
        thread.setDaemon(true);
        return thread;
    });

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
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, pool, entry.name(), strategy);
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
                String user = workload.users()[i];
                int port = proxy.port();
                pending.add(CompletableFuture.runAsync(() -> {
                    long sentAt = System.nanoTime();
                    String[] answer = get(port, user);
                    int status = answer == null ? -1 : Integer.parseInt(answer[0]);
                    samples.add(new Sample(sentAt - start, System.nanoTime() - sentAt, status, answer == null ? -1 : backendOf(answer[1])));
                }, SENDERS));
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
            String client = clientAddress("user-" + user);
            RequestView request = RequestView.of(client, "GET", "/lab", Map.of("X-User", "user-" + user), Map.of());
            Backend before = strategy.pick(all, request);
            Backend after = strategy.pick(without, request);
            if (before != after) {
                moved++;
            }
        }
        return moved / (double) Workload.USERS;
    }

    /**
     * The address a user's requests come from: 127.0.0.2 to 127.0.0.254, spread by user, so ip-hash sees
     * many clients as it would with real users (on Linux all of 127.0.0.0/8 is loopback).
     */
    static String clientAddress(String user) {
        int number = Integer.parseInt(user.substring(user.indexOf('-') + 1));
        return "127.0.0." + (2 + Math.floorMod(number, 253));
    }

    /**
     * One GET /lab from the user's own address over a fresh connection: the JDK's HttpClient cannot choose
     * its local address before Java 19. Returns {status, body}, or null when the request failed.
     */
    private static String[] get(int port, String user) {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(clientAddress(user)), 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /lab HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-User: " + user
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int headersEnd = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 ") || headersEnd < 0) {
                return null;
            }
            return new String[] {response.substring(9, 12), response.substring(headersEnd + 4)};
        } catch (IOException | RuntimeException e) {
            return null;
        }
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
