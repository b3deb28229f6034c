package model;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * Decides which backends take traffic. Passively, from the proxy's own requests: a backend that fails
 * {@code maxFails} times in a row is ejected for a while (Envoy's outlier detection, nginx's max_fails).
 * Actively, when a health path is set: every backend is asked for it on a timer, and {@code fall} bad
 * or {@code rise} good answers in a row take it down or bring it back (HAProxy's checks). Each change is
 * one log line and a refresh of the pool, which publishes new candidates. Thread-safe: the proxy
 * reports from IO threads with a few atomic operations; checks and readmissions run on this monitor's
 * one thread, and the checks' HTTP client is asynchronous, so nothing here blocks an IO thread.
 */
public final class HealthMonitor {
    private final BackendPool pool;
    private final HealthChecks checks;
    private final PassiveEjection ejection;
    private final Consumer<PoolEvent> log;
    private final ScheduledExecutorService timer;
    private final HttpClient checker; // null when no health path is set

    public HealthMonitor(BackendPool pool, HealthSettings settings, Consumer<PoolEvent> log) {
        this(pool, settings, log, Executors.newSingleThreadScheduledExecutor(HealthMonitor::daemon), null);
    }

    /** As above; {@code https} (null: the JDK's default) is how checks of https:// backends trust their certificates. */
    public HealthMonitor(BackendPool pool, HealthSettings settings, Consumer<PoolEvent> log, SSLContext https) {
        this(pool, settings, log, Executors.newSingleThreadScheduledExecutor(HealthMonitor::daemon), https);
    }

    /** As above, on {@code timer}: tests pass one that holds readmissions until they release them. */
    public HealthMonitor(BackendPool pool, HealthSettings settings, Consumer<PoolEvent> log, ScheduledExecutorService timer) {
        this(pool, settings, log, timer, null);
    }

    /**
     * @param timer runs the checks, their HTTP client's callbacks and each ejection's readmission (its
     *     one-off {@code schedule}); tests pass one that holds readmissions until they release them
     * @param https how checks of https:// backends trust their certificates; null: the JDK's default
     */
    public HealthMonitor(BackendPool pool, HealthSettings settings, Consumer<PoolEvent> log, ScheduledExecutorService timer, SSLContext https) {
        this.timer = timer;
        this.pool = pool;
        this.checks = settings.checks();
        this.ejection = settings.ejection();
        this.log = log;
        // Only built when it will be used: the JDK's HTTP client loads its TLS machinery when built,
        // which costs half a second of start-up for nothing when checks are off.
        this.checker = checks.isOn()
                ? (https == null ? HttpClient.newBuilder() : HttpClient.newBuilder().sslContext(https))
                        .version(HttpClient.Version.HTTP_1_1).connectTimeout(checks.timeout()).executor(timer).build()
                : null;
    }

    /** Starts the active checks, if a health path is set. */
    public void start() {
        if (checks.isOn()) {
            long every = checks.interval().toMillis();
            timer.scheduleWithFixedDelay(this::checkAll, 0, every, TimeUnit.MILLISECONDS);
        }
    }

    public void stop() {
        timer.shutdownNow();
    }

    private static Thread daemon(Runnable runnable) {
        Thread thread = new Thread(runnable, "health-monitor");
        thread.setDaemon(true);
        return thread;
    }

    /** "1 failure", "3 failures": the log lines read as sentences. */
    private static String count(int n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }

    /**
     * For a monitor a reload replaced: stops the checks, but lets the readmissions it already scheduled
     * run, so a backend it ejected comes back on time; it ejects nobody from now on (the new monitor does).
     */
    public void retire() {
        timer.shutdown();
    }

    /** A request to {@code backend} failed at the gateway level: refused, reset, timed out, or answered 502/503/504. */
    public void failed(Backend backend, String why) {
        if (ejection.maxFails() <= 0 || backend.health().isEjected()) {
            return;
        }
        if (backend.health().failed() >= ejection.maxFails()) {
            eject(backend, why);
        }
    }

    /** {@code backend} answered. */
    public void succeeded(Backend backend) {
        backend.health().succeeded();
    }

    private void eject(Backend backend, String why) {
        synchronized (this) {
            if (timer.isShutdown()) {
                return; // retired or stopped: nothing could readmit it
            }
            List<Backend> all = pool.all();
            long ejected = all.stream().filter(b -> b.health().isEjected()).count();
            if ((ejected + 1) * 100 > (long) ejection.maxEjectedPercent() * all.size()) {
                return; // keep serving from a degraded pool rather than eject most of it
            }
            int times = backend.health().eject();
            long millis = ejection.failTimeout().toMillis() * Math.min(times, 10);
            backend.health().ejectedUntil(System.currentTimeMillis() + millis);
            log.accept(new PoolEvent(PoolEvent.Kind.EJECTED, backend.name(), "backend " + backend.name() + " ejected for " + seconds(millis)
                    + " after " + count(ejection.maxFails(), "failure", "failures in a row") + " (last: " + why + ")"));
            pool.refresh();
            long ejection = backend.health().ejectionsTotal();
            Runnable readmission = () -> readmit(backend, ejection, ""); // a Runnable, not a Callable: schedule(Runnable) as before
            timer.schedule(readmission, millis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Ends {@code backend}'s ejection now, when what caused it was fixed (the dashboard's Heal), instead of
     * waiting out its timer; its next failure counts from zero. Returns false when it was not ejected.
     */
    public boolean readmitNow(Backend backend, String why) {
        backend.health().succeeded();
        return backend.health().isEjected() && readmit(backend, backend.health().ejectionsTotal(), " (" + why + ")");
    }

    /** Readmits {@code backend} if it is still out for the ejection numbered {@code ejection}: an earlier timer does not end a later ejection. */
    private synchronized boolean readmit(Backend backend, long ejection, String why) {
        if (!backend.health().isEjected() || backend.health().ejectionsTotal() != ejection) {
            return false;
        }
        backend.health().readmit();
        backend.health().startWarming(System.nanoTime());
        log.accept(new PoolEvent(PoolEvent.Kind.BACK, backend.name(), "backend " + backend.name() + " back in rotation after its ejection" + why));
        pool.refresh();
        return true;
    }

    private void checkAll() {
        for (Backend backend : pool.all()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(backend.uri() + checks.path()))
                    .timeout(checks.timeout()).header("User-Agent", "LoadBalancer-health-check").GET().build();
            checker.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenCompleteAsync((response, error) -> {
                boolean good = error == null && response.statusCode() >= 200 && response.statusCode() < 400;
                String detail = error != null ? describe(error) : "status " + response.statusCode();
                Boolean change = backend.health().checked(good, checks.rise(), checks.fall());
                if (Boolean.TRUE.equals(change)) {
                    backend.health().startWarming(System.nanoTime());
                }
                if (change != null) {
                    log.accept(new PoolEvent(change ? PoolEvent.Kind.UP : PoolEvent.Kind.DOWN, backend.name(), "backend " + backend.name() + (change
                            ? " UP after " + count(checks.rise(), "good health check", "good health checks")
                            : " DOWN after " + count(checks.fall(), "failed health check", "failed health checks") + " (" + detail + ")")));
                    pool.refresh();
                }
            }, timer);
        }
    }

    private static String describe(Throwable error) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        String name = cause.getClass().getSimpleName();
        return cause.getMessage() == null ? name : name + ": " + cause.getMessage();
    }

    /** "10 s", "1.5 s", or "250 ms": how long an ejection lasts, as people say it. */
    private static String seconds(long millis) {
        if (millis < 1_000) return millis + " ms";
        return millis % 1_000 == 0 ? millis / 1_000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1e3);
    }
}
