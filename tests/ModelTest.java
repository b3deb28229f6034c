package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import model.HealthChecks;
import model.PassiveEjection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import model.Backend;
import model.BackendPool;
import model.Candidates;
import model.HealthMonitor;
import model.HealthSettings;
import model.LatencyTracker;
import model.RetryBudget;

/**
 * The balancing model on its own, no proxy: a backend's bookkeeping and latency average, the pool's
 * eligible lists, passive ejection with its cap and backoff, active checks' rise and fall, slow-start
 * warmth and the retry budget. Fast, so mutation testing (tests/mutation.sh) can run it per mutant.
 */
class ModelTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<HealthMonitor> monitors = new CopyOnWriteArrayList<>();
    private HttpServer checked;

    @AfterEach
    void stop() {
        monitors.forEach(HealthMonitor::stop);
        if (checked != null) {
            checked.stop(0);
        }
    }

    private static Backend backend(int port) {
        return Backend.of("http://127.0.0.1:" + port);
    }

    private static HealthSettings passive(int maxFails, Duration failTimeout, Duration slowStart) {
        return new HealthSettings(new HealthChecks(null, Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 3),
                new PassiveEjection(maxFails, failTimeout, 50), slowStart, false);
    }

    /**
     * The monitor's timer: checks run on it as usual, but an ejection's readmission waits until the test
     * calls {@link #readmit}, so no assertion depends on how fast the machine is (timing-dependent tests
     * here once made mutation testing refuse to start: a test "did not pass without mutation").
     */
    static final class HeldReadmissions extends ScheduledThreadPoolExecutor {
        private final List<Runnable> held = new CopyOnWriteArrayList<>();
        private final List<Long> delaysMillis = new CopyOnWriteArrayList<>();

        HeldReadmissions() {
            super(1);
            setThreadFactory(runnable -> {
                Thread thread = new Thread(runnable, "health-monitor-test");
                thread.setDaemon(true);
                return thread;
            });
        }

        /** Set before the monitor starts: its periodic checks wait for {@link #checkOnce}, one round each. */
        volatile boolean holdChecks;
        volatile Runnable checks;

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, long initialDelay, long delay, TimeUnit unit) {
            if (!holdChecks) {
                return super.scheduleWithFixedDelay(task, initialDelay, delay, unit);
            }
            checks = task;
            return super.schedule(() -> { }, 0, TimeUnit.NANOSECONDS);
        }

        /** Holds a delayed task (a readmission); runs at once what has no delay ({@code execute} comes here too). */
        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
            if (delay <= 0) {
                return super.schedule(task, delay, unit);
            }
            held.add(task);
            delaysMillis.add(unit.toMillis(delay));
            return super.schedule(() -> {}, 0, TimeUnit.NANOSECONDS);
        }
    }

    private final HeldReadmissions timer = new HeldReadmissions();

    /** The ejections' timeouts run out now: every held readmission runs, in order. */
    private void readmit() {
        List<Runnable> due = List.copyOf(timer.held);
        timer.held.removeAll(due);
        due.forEach(Runnable::run);
    }

    private HealthMonitor monitor(BackendPool pool, HealthSettings settings) {
        HealthMonitor monitor = new HealthMonitor(pool, settings, event -> events.add(event.text()), timer);
        monitors.add(monitor);
        monitor.start();
        return monitor;
    }

    // --- Backend ---

    @Test
    void aBackendCountsItsRequestsInFlight() {
        Backend backend = backend(1);
        backend.requestStarted();
        backend.requestStarted();
        assertEquals(2, backend.inFlight());
        backend.requestFinished(1_000_000);
        assertEquals(1, backend.inFlight());
    }

    @Test
    void weightsOutsideOneToAThousandAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Backend(URI.create("http://127.0.0.1:1"), 0));
        assertThrows(IllegalArgumentException.class, () -> new Backend(URI.create("http://127.0.0.1:1"), Backend.MAX_WEIGHT + 1));
        assertEquals(1, new Backend(URI.create("http://127.0.0.1:1"), 1).weight());
        assertEquals(Backend.MAX_WEIGHT, new Backend(URI.create("http://127.0.0.1:1"), Backend.MAX_WEIGHT).weight());

        Backend backend = backend(1);
        BackendPool pool = new BackendPool(List.of(backend));
        assertThrows(IllegalArgumentException.class, () -> pool.reweigh(backend, 0));
        assertThrows(IllegalArgumentException.class, () -> pool.reweigh(backend, Backend.MAX_WEIGHT + 1));
        pool.reweigh(backend, Backend.MAX_WEIGHT);
        assertEquals(Backend.MAX_WEIGHT, backend.weight());
        pool.reweigh(backend, 1);
        assertEquals(1, backend.weight());
    }

    @Test
    void aBackendIsNamedHostColonPortAndShowsItsWeightOnlyWhenNotOne() {
        Backend plain = backend(9001), heavy = new Backend(URI.create("http://127.0.0.1:9002"), 3);
        assertEquals("127.0.0.1:9001", plain.name());
        assertEquals("http://127.0.0.1:9001", plain.toString());
        assertEquals("http://127.0.0.1:9002 (weight 3)", heavy.toString());
        assertEquals(URI.create("http://127.0.0.1:9002"), heavy.uri());
    }

    /** On a clock moved by hand, as every latency test here: a wall clock made them depend on the machine's load. */
    @Test
    void latencyIsAPeakEwmaThatTakesASlowSampleAtOnceAndBlendsAFastOne() {
        AtomicLong nanos = new AtomicLong(1_000 * SECOND);
        Backend backend = new Backend(URI.create("http://127.0.0.1:1"), 1, Duration.ofSeconds(1000), nanos::get);
        assertEquals(0, backend.latencyNanos(), "no sample yet");
        backend.requestStarted();
        backend.requestFinished(10_000_000);
        assertEquals(10_000_000, backend.latencyNanos(), "the first sample is taken whole");
        nanos.addAndGet(10_000_000);
        backend.requestStarted();
        backend.requestFinished(50_000_000);
        assertEquals(50_000_000, backend.latencyNanos(), "a slower sample is taken at once (the peak)");
        nanos.addAndGet(10_000_000);
        backend.requestStarted();
        backend.requestFinished(1_000_000);
        long blended = backend.latencyNanos();
        assertTrue(blended > 40_000_000 && blended <= 50_000_000,
                "a faster sample straight after barely moves the average (its weight grows with the time since the last): " + blended);
        backend.requestStarted();
        backend.requestFinished(-1);
        assertEquals(blended, backend.latencyNanos(), 50_000, "a failed request (-1) is no latency sample");
        assertEquals(0, backend.inFlight(), "but it does finish");
    }

    @Test
    void aSlowSpellIsForgottenOverTheDecayTime() {
        AtomicLong nanos = new AtomicLong(1_000 * SECOND);
        Backend backend = new Backend(URI.create("http://127.0.0.1:1"), 1, Duration.ofMillis(20), nanos::get);
        backend.requestStarted();
        backend.requestFinished(100_000_000);
        nanos.addAndGet(100_000_000); // five decay times with no sample: 100 ms × e^-5
        assertTrue(backend.latencyNanos() < 1_000_000, "the reading decays toward zero while no sample arrives: " + backend.latencyNanos());

        backend.requestStarted();
        backend.requestFinished(100_000_000);
        assertEquals(100_000_000, backend.latencyNanos(), 2, "the same slow sample again: the average is that sample");
        nanos.addAndGet(100_000_000); // five decay times: a new fast sample now outweighs the old slow one
        backend.requestStarted();
        backend.requestFinished(1_000_000);
        long blended = backend.latencyNanos();
        assertTrue(blended > 900_000 && blended < 10_000_000, "a fast sample long after the slow one dominates: " + blended);
    }

    // --- BackendPool ---

    @Test
    void thePoolKeepsTheSameEligibleListUntilSomethingChanges() {
        Backend a = backend(1), b = backend(2), c = backend(3);
        BackendPool pool = new BackendPool(List.of(a, b, c));
        List<Backend> before = pool.eligible();
        assertEquals(List.of(a, b, c), before);
        long version = pool.eligibleCandidates().version();
        pool.refresh();
        assertEquals(version, pool.eligibleCandidates().version(), "nothing changed: the same version, so strategies' caches hold");

        assertTrue(pool.drain(b, true));
        assertEquals(List.of(a, c), pool.eligible());
        assertTrue(b.health().isDraining());
        assertFalse(a.health().isDraining());
        assertFalse(b.health().isAvailable());
        assertTrue(pool.drain(b, false));
        assertEquals(List.of(a, b, c), pool.eligible(), "drain off puts it back");
        assertFalse(pool.drain(backend(4), true), "not in the pool");

        long beforeWeight = pool.eligibleCandidates().version();
        pool.reweigh(a, 5);
        assertNotEquals(beforeWeight, pool.eligibleCandidates().version(), "a weight change is a new version, so strategies rebuild");
        assertEquals(List.of(a, b, c), pool.eligible());
        assertEquals(5, a.weight());
    }

    @Test
    void aPartlyAvailablePoolAlsoKeepsItsEligibleListUntilSomethingChanges() {
        Backend a = backend(1), b = backend(2), c = backend(3);
        BackendPool pool = new BackendPool(List.of(a, b, c));
        pool.drain(a, true);
        long partial = pool.eligibleCandidates().version();
        pool.refresh();
        assertEquals(partial, pool.eligibleCandidates().version(), "the same two backends: the same version");
        assertEquals(List.of(b, c), new BackendPool(List.of(a, b, c)).eligible(), "a new pool leaves out a backend that is draining");
    }

    @Test
    void backendsAreAddedAndRemovedAndBackupsComeLast() {
        Backend a = backend(1), b = backend(2), backup = backend(3);
        BackendPool pool = new BackendPool(List.of(a), List.of(backup));
        assertEquals(List.of(a, backup), pool.all());
        assertEquals(List.of(a), pool.primaries());
        assertEquals(List.of(backup), pool.eligibleBackups());
        assertEquals(List.of(a), pool.eligible());

        pool.add(b);
        assertEquals(List.of(a, b), pool.eligible());
        assertTrue(pool.remove(a));
        assertFalse(pool.remove(a), "already gone");
        assertEquals(List.of(b), pool.eligible());
        assertEquals(List.of(b, backup), pool.all());

        assertTrue(pool.drain(backup, true), "a backup can be drained too");
        assertEquals(List.of(), pool.eligibleBackups());
        assertEquals(List.of(b), new BackendPool(List.of(b)).all());
    }

    // --- passive health ---

    @Test
    void maxFailsInARowEjectAndAnAnswerInBetweenStartsTheCountAgain() throws InterruptedException {
        Backend a = backend(1), b = backend(2), c = backend(3), d = backend(4);
        BackendPool pool = new BackendPool(List.of(a, b, c, d));
        HealthMonitor monitor = monitor(pool, passive(3, Duration.ofSeconds(30), Duration.ZERO));

        monitor.failed(a, "reset");
        monitor.failed(a, "reset");
        monitor.succeeded(a);
        monitor.failed(a, "reset");
        monitor.failed(a, "reset");
        assertFalse(a.health().isEjected(), "two failures, an answer, two failures: never three in a row");
        monitor.failed(a, "reset");
        assertTrue(a.health().isEjected(), "the third in a row ejects");
        assertEquals(List.of(b, c, d), pool.eligible());
        assertEquals(1, events.size(), events.toString());
        assertTrue(events.get(0).startsWith("backend 127.0.0.1:1 ejected for 30 s after 3 failures in a row (last: reset)"), events.get(0));

        monitor.failed(a, "reset");
        monitor.failed(a, "reset");
        monitor.failed(a, "reset");
        assertEquals(1, events.size(), "an ejected backend is not ejected again");
    }

    @Test
    void maxFailsZeroNeverEjects() {
        Backend a = backend(1), b = backend(2);
        BackendPool pool = new BackendPool(List.of(a, b));
        HealthMonitor monitor = monitor(pool, passive(0, Duration.ofSeconds(30), Duration.ZERO));
        for (int i = 0; i < 20; i++) {
            monitor.failed(a, "reset");
        }
        assertFalse(a.health().isEjected());
        assertEquals(2, pool.eligible().size());
    }

    @Test
    void neverMoreThanHalfThePoolIsEjected() {
        Backend a = backend(1), b = backend(2), c = backend(3), d = backend(4);
        BackendPool pool = new BackendPool(List.of(a, b, c, d));
        HealthMonitor monitor = monitor(pool, passive(1, Duration.ofSeconds(30), Duration.ZERO));
        monitor.failed(a, "refused");
        monitor.failed(b, "refused");
        assertEquals(List.of(c, d), pool.eligible(), "two of four: exactly half may go");
        monitor.failed(c, "refused");
        assertFalse(c.health().isEjected(), "a third would be more than half");
        assertEquals(List.of(c, d), pool.eligible());

        Backend x = backend(5), y = backend(6), z = backend(7);
        BackendPool three = new BackendPool(List.of(x, y, z));
        HealthMonitor other = monitor(three, passive(1, Duration.ofSeconds(30), Duration.ZERO));
        other.failed(x, "refused");
        other.failed(y, "refused");
        assertTrue(x.health().isEjected());
        assertFalse(y.health().isEjected(), "two of three is over half");
    }

    @Test
    void repeatedEjectionsStayOutLongerUpToTenTimesAndAnAnswerResetsTheBackoff() throws InterruptedException {
        Backend a = backend(1), b = backend(2);
        BackendPool pool = new BackendPool(List.of(a, b));
        HealthMonitor monitor = monitor(pool, passive(1, Duration.ofMillis(5), Duration.ZERO));
        for (int ejection = 1; ejection <= 11; ejection++) {
            readmit();
            assertFalse(a.health().isEjected(), "readmitted");
            monitor.failed(a, "refused");
            assertTrue(a.health().isEjected(), "ejected again, for " + timer.delaysMillis.get(ejection - 1) + " ms");
        }
        List<String> ejections = events.stream().filter(event -> event.contains("ejected for")).toList();
        assertEquals(11, ejections.size(), events.toString());
        assertTrue(ejections.get(0).endsWith(" after 1 failure (last: refused)"), "one failure, in the singular: " + ejections.get(0));
        for (int i = 0; i < 11; i++) {
            long expected = 5L * Math.min(i + 1, 10);
            assertTrue(ejections.get(i).contains("ejected for " + expected + " ms"), "ejection " + (i + 1) + ": " + ejections.get(i));
        }

        readmit();
        assertFalse(a.health().isEjected(), "readmitted");
        assertTrue(events.get(events.size() - 1).contains("back in rotation"), events.toString());
        assertEquals(List.of(a, b), pool.eligible());
        monitor.succeeded(a);
        monitor.failed(a, "refused");
        assertTrue(events.get(events.size() - 1).contains("ejected for 5 ms"), "an answer in between starts the backoff again: " + events);
    }

    @Test
    void anEjectionStartsTheCountOfFailuresAgain() throws InterruptedException {
        Backend a = backend(1), b = backend(2);
        BackendPool pool = new BackendPool(List.of(a, b));
        HealthMonitor monitor = monitor(pool, passive(3, Duration.ofMillis(300), Duration.ZERO));
        for (int i = 0; i < 3; i++) {
            monitor.failed(a, "refused");
        }
        assertTrue(a.health().isEjected());
        readmit();
        assertFalse(a.health().isEjected(), "readmitted");
        monitor.failed(a, "refused");
        monitor.failed(a, "refused");
        assertFalse(a.health().isEjected(), "back in rotation, it gets max-fails (3) tries again, not one");
    }

    @Test
    void anAnswerFromARequestStillInFlightDuringTheEjectionDoesNotResetTheBackoff() throws InterruptedException {
        Backend a = backend(1), b = backend(2);
        BackendPool pool = new BackendPool(List.of(a, b));
        HealthMonitor monitor = monitor(pool, passive(1, Duration.ofMillis(500), Duration.ZERO));
        monitor.failed(a, "refused");
        assertTrue(a.health().isEjected());
        monitor.succeeded(a); // a request sent before the ejection answers while it is out
        readmit();
        assertFalse(a.health().isEjected(), "readmitted");
        monitor.failed(a, "refused");
        assertTrue(events.get(events.size() - 1).contains("ejected for 1 s "), "still the second ejection in a row: " + events);
    }

    @Test
    void aReadmittedBackendWarmsUpOverTheSlowStart() throws InterruptedException {
        Backend a = backend(1), b = backend(2);
        BackendPool pool = new BackendPool(List.of(a, b));
        HealthMonitor monitor = monitor(pool, passive(1, Duration.ofMillis(5), Duration.ofSeconds(1000)));
        long slowStart = Duration.ofSeconds(1000).toNanos();
        assertEquals(1.0, a.health().warmth(System.nanoTime(), slowStart), "never ejected: full share");

        monitor.failed(a, "refused");
        readmit();
        assertFalse(a.health().isEjected(), "readmitted");
        long now = System.nanoTime();
        assertEquals(0.01, a.health().warmth(now, slowStart), 0.001, "just back: the smallest share, not none");
        assertEquals(1.0, a.health().warmth(now, 0), "no slow start: full share at once");
        assertEquals(0.5, a.health().warmth(now + slowStart / 2, slowStart), 0.01, "halfway: half its share");
        assertEquals(0.25, a.health().warmth(now + slowStart / 4, slowStart), 0.01);
        assertEquals(1.0, a.health().warmth(now + slowStart, slowStart), "at the end of the slow start: full share");
        assertEquals(1.0, a.health().warmth(now, slowStart), "and warming is over for good");
    }

    // --- active checks ---

    /** A tiny HTTP server whose every answer has the status in {@code status}, after {@code delayMillis}. */
    private HttpServer checkedServer(AtomicInteger status, AtomicLong delayMillis, AtomicInteger hits) throws IOException {
        checked = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        checked.createContext("/", exchange -> {
            hits.incrementAndGet();
            try {
                Thread.sleep(delayMillis.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.getResponseHeaders().add("Location", "/elsewhere");
            exchange.sendResponseHeaders(status.get(), -1);
            exchange.close();
        });
        checked.start();
        return checked;
    }

    private static HealthSettings checks(int rise, int fall, Duration timeout) {
        return checks(rise, fall, timeout, Duration.ofMillis(100));
    }

    private static HealthSettings checks(int rise, int fall, Duration timeout, Duration interval) {
        return new HealthSettings(new HealthChecks("/health", interval, timeout, rise, fall),
                new PassiveEjection(0, Duration.ofSeconds(10), 50), Duration.ZERO, false);
    }

    /** Checks run one round at a time, by the test: the count of checks when the state changes is exact on any machine. */
    @Test
    void fallBadChecksInARowTakeABackendDownAndRiseGoodOnesBringItBack() throws Exception {
        AtomicInteger status = new AtomicInteger(200), hits = new AtomicInteger();
        HttpServer server = checkedServer(status, new AtomicLong(), hits);
        Backend a = backend(server.getAddress().getPort()), b = backend(1);
        BackendPool pool = new BackendPool(List.of(a), List.of(b));
        timer.holdChecks = true;
        monitor(pool, checks(4, 2, Duration.ofSeconds(5), Duration.ofMillis(200)));
        for (int i = 0; i < 3; i++) {
            checkOnce(a);
        }
        assertTrue(a.health().isCheckedUp());
        assertTrue(events.stream().noneMatch(event -> event.contains(a.name())), "good checks on an up backend change nothing: " + events);

        status.set(500);
        checkOnce(a);
        assertTrue(a.health().isCheckedUp(), "one bad check: still up (fall is 2)");
        checkOnce(a);
        assertFalse(a.health().isCheckedUp(), "DOWN after fall (2) bad checks");
        assertEquals(List.of(), pool.eligible());
        assertTrue(events.stream().anyMatch(event -> event.contains("DOWN after 2 failed health checks (status 500)")), events.toString());

        status.set(302);
        for (int good = 1; good < 4; good++) {
            checkOnce(a);
            assertFalse(a.health().isCheckedUp(), good + " good checks: still down (rise is 4, not fall, 2)");
        }
        checkOnce(a);
        assertTrue(a.health().isCheckedUp(), "UP after rise (4) good checks; a 3xx is good");
        assertTrue(a.health().warmth(System.nanoTime(), Duration.ofSeconds(1000).toNanos()) < 0.5, "back up by the checks: its share ramps up from here");
        assertEquals(List.of(a), pool.eligible(), "back in the eligible list");
        assertTrue(events.stream().anyMatch(event -> event.contains("UP after 4 good health checks")), events.toString());
        assertEquals(9, hits.get(), "one check per round");
    }

    /** One round of active checks, run now; returns once its answer for {@code backend} is counted and acted on. */
    private void checkOnce(Backend backend) throws Exception {
        long before = backend.health().checksGood() + backend.health().checksFailed();
        timer.execute(timer.checks);
        TestSupport.await(() -> backend.health().checksGood() + backend.health().checksFailed() > before, "a check of " + backend.name() + " answered");
        timer.submit(() -> { }).get(); // the answer is handled on the timer's one thread: wait until it is done
    }

    @Test
    void aCheckAnsweredAfterTheHealthTimeoutFails() throws Exception {
        AtomicInteger status = new AtomicInteger(200), hits = new AtomicInteger();
        AtomicLong delay = new AtomicLong(300);
        HttpServer server = checkedServer(status, delay, hits);
        Backend a = backend(server.getAddress().getPort());
        BackendPool pool = new BackendPool(List.of(a));
        monitor(pool, checks(1, 1, Duration.ofMillis(100)));
        TestSupport.await(() -> !a.health().isCheckedUp(), "DOWN: its 300 ms answers come after the 100 ms health timeout");
        assertTrue(events.get(0).endsWith("DOWN after 1 failed health check (HttpTimeoutException: request timed out)"), events.get(0));
        delay.set(0);
        TestSupport.await(() -> a.health().isCheckedUp(), "UP once it answers in time");
    }

    @Test
    void aCheckThatCannotConnectFailsAnd4xxIsBad() throws Exception {
        AtomicInteger status = new AtomicInteger(400), hits = new AtomicInteger();
        HttpServer server = checkedServer(status, new AtomicLong(), hits);
        Backend a = backend(server.getAddress().getPort()), dead = backend(TestSupport.deadPort());
        BackendPool pool = new BackendPool(List.of(a, dead));
        monitor(pool, checks(1, 1, Duration.ofSeconds(5)));
        TestSupport.await(() -> !a.health().isCheckedUp() && !dead.health().isCheckedUp(), "both DOWN: 400 (the first bad status), and refused");
        assertTrue(events.stream().anyMatch(event -> event.equals("backend " + dead.name() + " DOWN after 1 failed health check (ConnectException)")),
                events.toString());
        assertTrue(events.stream().anyMatch(event -> event.equals("backend " + a.name() + " DOWN after 1 failed health check (status 400)")),
                events.toString());
        status.set(204);
        TestSupport.await(() -> a.health().isCheckedUp(), "a 204 is good");
        assertEquals(List.of(a), pool.eligible());
    }

    // --- retry budget ---
    /**
     * The budget's window, on a clock moved by hand: requests count for ten seconds, then their bucket
     * drops out of the sums; a bucket reused for a new second starts empty, requests and retries alike.
     */
    @Test
    void retryBudgetCountsTheLastTenSecondsAndRecyclesItsBuckets() {
        AtomicLong nanos = new AtomicLong(5_000 * SECOND); // nanoTime is arbitrary; far from 0 as on a real JVM
        RetryBudget budget = new RetryBudget(20, nanos::get);
        for (int i = 0; i < 200; i++) {
            budget.requestArrived();
        }
        nanos.addAndGet(9 * SECOND + SECOND / 2);
        assertEquals(40, retriesAllowed(budget, 100), "9.5 s later the 200 requests still count: 20% of them");

        nanos.set(5_000 * SECOND);
        budget = new RetryBudget(20, nanos::get);
        for (int i = 0; i < 200; i++) {
            budget.requestArrived();
        }
        nanos.addAndGet(10 * SECOND);
        assertEquals(10, retriesAllowed(budget, 100), "10 s later they are out of the window: the floor only");

        nanos.set(5_000 * SECOND);
        budget = new RetryBudget(20, nanos::get);
        for (int i = 0; i < 200; i++) {
            budget.requestArrived();
        }
        nanos.addAndGet(10 * SECOND);
        budget.requestArrived(); // the same bucket, a new second: emptied before it counts this one
        assertEquals(10, retriesAllowed(budget, 100), "the recycled bucket holds 1 request, not 201");

        nanos.set(7_000 * SECOND);
        budget = new RetryBudget(20, nanos::get);
        assertEquals(10, retriesAllowed(budget, 20), "the floor, spent");
        nanos.addAndGet(SECOND);
        assertEquals(0, retriesAllowed(budget, 20), "a second later the spent retries still count");
        nanos.addAndGet(9 * SECOND);
        budget.requestArrived(); // recycles the bucket that held the retries
        assertEquals(10, retriesAllowed(budget, 20), "ten seconds after they were spent, the floor is back");
    }

    @Test
    void retryBudgetWorksAcrossANegativeClock() {
        AtomicLong nanos = new AtomicLong(-3 * SECOND); // System.nanoTime() may be negative
        RetryBudget budget = new RetryBudget(50, nanos::get);
        for (int i = 0; i < 100; i++) {
            budget.requestArrived();
        }
        nanos.addAndGet(4 * SECOND);
        assertEquals(50, retriesAllowed(budget, 100), "half of the 100 requests of 4 s ago, across zero");
    }

    /** A bucket exactly ten seconds old is out: its retries no longer count, so the budget is whole again. */
    @Test
    void retryBudgetDropsABucketExactlyTenSecondsOld() {
        AtomicLong nanos = new AtomicLong(5_000 * SECOND);
        RetryBudget budget = new RetryBudget(20, nanos::get);
        for (int i = 0; i < 200; i++) {
            budget.requestArrived();
        }
        assertEquals(40, retriesAllowed(budget, 100), "20% of 200, spent");
        nanos.addAndGet(10 * SECOND);
        assertTrue(budget.tryRetry(), "ten seconds on, the 40 spent retries are out of the window");
    }

    @Test
    void candidatesNameTheirVersionAndRefuseAnIndexPastTheAllowed() {
        Backend a = backend(1), b = backend(2), c = backend(3);
        Candidates version = Candidates.of(List.of(a, b, c));
        Candidates avoidingB = version.avoiding(List.of(b));
        assertEquals(List.of(a, c), List.of(avoidingB.allowed(0), avoidingB.allowed(1)));
        IndexOutOfBoundsException error = assertThrows(IndexOutOfBoundsException.class, () -> avoidingB.allowed(2));
        assertEquals("2 of 2 allowed backends", error.getMessage());
        assertEquals("version " + version.version() + " of 3 backends, 2 allowed", avoidingB.toString());
    }

    private static final long SECOND = 1_000_000_000L;

    private static int retriesAllowed(RetryBudget budget, int attempts) {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            allowed += budget.tryRetry() ? 1 : 0;
        }
        return allowed;
    }

    /**
     * Peak-EWMA at exact times (decay 1 s): a slower sample replaces the average; a faster one t after
     * the last is blended with weight w = e^(-t / decay) on the old average; a reading t after the
     * last sample is the average times e^(-t / decay).
     */
    @Test
    void latencyBlendsAFasterSampleByTheTimeSinceTheLastAndDecaysBetweenSamples() {
        long t0 = 1_000 * SECOND;
        LatencyTracker tracker = new LatencyTracker(SECOND);
        assertEquals(0, tracker.peakEwmaNanos(t0), "no sample yet");
        tracker.record(100_000_000, t0);
        assertEquals(100_000_000, tracker.peakEwmaNanos(t0), "the first sample whole");
        assertEquals(36_787_944, tracker.peakEwmaNanos(t0 + SECOND), 2, "one decay time later: × 1/e");
        assertEquals(100_000_000, tracker.peakEwmaNanos(t0 - SECOND), "a clock read before the sample does not grow it");

        tracker.record(10_000_000, t0 + SECOND);
        // w = 1/e: 100 ms × 0.3679 + 10 ms × 0.6321
        assertEquals(43_109_149, tracker.peakEwmaNanos(t0 + SECOND), 2, "a faster sample one decay time later, blended");
        tracker.record(10_000_000, t0 + SECOND);
        assertEquals(43_109_149, tracker.peakEwmaNanos(t0 + SECOND), 2, "a faster sample at the same instant: weight 0");
        tracker.record(60_000_000, t0 + 2 * SECOND);
        assertEquals(60_000_000, tracker.peakEwmaNanos(t0 + 2 * SECOND), "slower than the decayed 15.9 ms: taken at once");
        tracker.record(30_000_000, t0 + SECOND);
        assertEquals(60_000_000, tracker.peakEwmaNanos(t0 + SECOND), 2,
                "a faster sample stamped before the last (another IO thread's clock read) has weight 0, not less");
    }


    @Test
    void aRetryBudgetOfZeroNeverRetries() {
        RetryBudget budget = new RetryBudget(0);
        budget.requestArrived();
        assertFalse(budget.tryRetry());
    }

    @Test
    void aQuietProxyMayStillRetryTenTimes() {
        RetryBudget budget = new RetryBudget(20);
        int allowed = 0;
        for (int i = 0; i < 30; i++) {
            allowed += budget.tryRetry() ? 1 : 0;
        }
        assertEquals(10, allowed, "the floor: ten retries with no traffic");
    }

    @Test
    void retriesStayUnderTheirShareOfRecentRequests() {
        RetryBudget budget = new RetryBudget(20);
        for (int i = 0; i < 200; i++) {
            budget.requestArrived();
        }
        int allowed = 0;
        for (int i = 0; i < 100; i++) {
            allowed += budget.tryRetry() ? 1 : 0;
        }
        assertEquals(40, allowed, "20% of 200 requests within the last ten seconds");
    }
}
