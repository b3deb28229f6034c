package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import lab.LabRun;
import lab.Report;
import lab.Scenario;
import lab.SimulatedLab;
import lab.Workload;
import lab.sim.Service;
import lab.sim.SimResult;
import lab.sim.Simulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import strategies.Strategies;

/**
 * The lab's report as a class reads it: every "what to notice" sentence names two different strategies
 * and a difference each seed shows; charts label each row with its own strategy; repeats draw new
 * workloads; the real race's requests come from many client addresses.
 */
class LabSimulationTest {
    @TempDir
    Path temp;

    private static final Pattern STRATEGY = Pattern.compile(
            Strategies.ALL.stream().map(e -> Pattern.quote(e.name())).sorted((a, b) -> b.length() - a.length()).reduce((a, b) -> a + "|" + b).orElseThrow());

    private static List<Scenario> builtIn() throws Exception {
        Path folder = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(folder.resolve("lab/scenarios"))) folder = folder.getParent();
        List<Scenario> scenarios = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder.resolve("lab/scenarios"))) {
            for (Path file : files.sorted().toList()) scenarios.add(Scenario.load(file));
        }
        return scenarios;
    }

    private static List<Strategies.Entry> entries(String... names) {
        return Arrays.stream(names).map(name -> Strategies.byName(name).orElseThrow()).toList();
    }

    /** Every built-in scenario, with the strategies a class would race: the sentence names two different ones, whose order every seed keeps. */
    @Test
    void everyNoticeNamesTwoDifferentStrategiesAndADifferenceEverySeedShows() throws Exception {
        List<List<Strategies.Entry>> races = List.of(
                entries("round-robin", "least-latency"),
                entries("round-robin", "random", "power-of-two", "least-connections", "least-latency"),
                entries("round-robin", "weighted-round-robin", "ip-hash", "consistent-hash"));
        for (Scenario scenario : builtIn()) {
            for (List<Strategies.Entry> race : races) {
                List<SimulatedLab.Steady> steady = SimulatedLab.steady(scenario, race, 42);
                SimulatedLab.Notice notice = SimulatedLab.notice(scenario, steady);
                List<String> named = new ArrayList<>();
                Matcher matcher = STRATEGY.matcher(notice.text());
                while (matcher.find()) if (!named.contains(matcher.group())) named.add(matcher.group());
                assertTrue(named.size() >= 2, scenario.name() + ": " + notice.text());
                if (notice.better() != null) {
                    assertNotEquals(notice.better(), notice.worse(), notice.text());
                    assertTrue(notice.text().contains(notice.better()) && notice.text().contains(notice.worse()), notice.text());
                    for (int seed = 0; seed < SimulatedLab.SEEDS; seed++) {
                        SimResult better = steady(steady, notice.better()).bySeed().get(seed), worse = steady(steady, notice.worse()).bySeed().get(seed);
                        assertTrue(metric(notice.metric(), better) < metric(notice.metric(), worse), scenario.name() + " seed " + seed + ": " + notice.text());
                    }
                }
            }
        }
    }

    /** The two sentences issue 22 quotes: one-slow's lesson is that someone avoids the slow backend; flaky's never compares a strategy with itself. */
    @Test
    void oneSlowAndFlakyTeachTheirLesson() throws Exception {
        Scenario oneSlow = builtIn().stream().filter(s -> s.name().equals("one-slow")).findFirst().orElseThrow();
        SimulatedLab.Notice slow = SimulatedLab.notice(oneSlow, SimulatedLab.steady(oneSlow, entries("round-robin", "least-connections", "least-latency"), 42));
        assertEquals("share:1", slow.metric(), slow.text());
        assertEquals("round-robin", slow.worse(), "round robin sends the slow backend its full third: " + slow.text());
        Scenario flaky = builtIn().stream().filter(s -> s.name().equals("flaky")).findFirst().orElseThrow();
        SimulatedLab.Notice errors = SimulatedLab.notice(flaky, SimulatedLab.steady(flaky, entries("round-robin", "least-latency"), 42));
        assertFalse(errors.text().matches(".*round-robin.*against round-robin.*"), errors.text());
    }

    private static SimulatedLab.Steady steady(List<SimulatedLab.Steady> steady, String strategy) {
        return steady.stream().filter(s -> s.strategy().equals(strategy)).findFirst().orElseThrow();
    }

    private static double metric(String metric, SimResult result) {
        return metric.startsWith("share:") ? result.share(Integer.parseInt(metric.substring(6))) : result.percentileMillis(0.99);
    }

    /**
     * The simulation and the real race agree on shares: within 3 points for the strategies whose shares
     * do not depend on timing (round robin, weighted round robin; 150 real requests, 40,000 simulated
     * per seed); for least connections on one-slow, in direction only (both send the slow backend less
     * than its third), since the demo backends serve any number of requests at once and their queues
     * never form as the simulation's do.
     */
    @Test
    void simulatedSharesMatchTheRealRace() throws Exception {
        for (String name : List.of("one-slow", "heterogeneous")) {
            Scenario scenario = builtIn().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
            for (String strategy : List.of("round-robin", "weighted-round-robin")) {
                LabRun.Result real = LabRun.run(scenario, Strategies.byName(strategy).orElseThrow(), Workload.of(5, 150, 1, 0), 5);
                SimResult simulated = SimulatedLab.steady(scenario, entries(strategy), 5).get(0).bySeed().get(0);
                long total = Arrays.stream(real.servedAtBackends()).sum();
                for (int b = 0; b < scenario.delays().size(); b++) {
                    double realShare = real.servedAtBackends()[b] / (double) total;
                    assertTrue(Math.abs(realShare - simulated.share(b)) <= 0.03,
                            name + " " + strategy + " b" + (b + 1) + ": real " + realShare + ", simulated " + simulated.share(b));
                }
            }
        }
        Scenario oneSlow = builtIn().stream().filter(s -> s.name().equals("one-slow")).findFirst().orElseThrow();
        LabRun.Result real = LabRun.run(oneSlow, Strategies.byName("least-connections").orElseThrow(), Workload.of(5, 150, 1, 0), 5);
        SimResult simulated = SimulatedLab.steady(oneSlow, entries("least-connections"), 5).get(0).bySeed().get(0);
        double realSlow = real.servedAtBackends()[1] / (double) Arrays.stream(real.servedAtBackends()).sum();
        assertTrue(realSlow < 1 / 3.0 && simulated.share(1) < 1 / 3.0, "both send the slow b2 less than a third: real " + realSlow + ", simulated " + simulated.share(1));
    }

    /**
     * Rows carry their own strategy's numbers: two strategies with very different latencies, each row's
     * label sits beside its own median (a swap of labels or values fails).
     */
    @Test
    void chartRowsAreLabelledWithTheirOwnStrategy() throws Exception {
        Path file = temp.resolve("two.properties");
        Files.writeString(file, "# two equal backends\ndelays = 5ms, 5ms\n");
        Scenario scenario = Scenario.load(file);
        List<LabRun.Result> results = List.of(fake("least-latency", 3_000_000), fake("round-robin", 70_000_000), fake("random", 20_000_000));
        String html = Report.html(List.of(scenario), List.of(results), 1);
        String p50 = html.substring(html.indexOf("real race: p50 latency"));
        p50 = p50.substring(0, p50.indexOf("</svg>"));
        int first = p50.indexOf(">least-latency<"), second = p50.indexOf(">round-robin<"), third = p50.indexOf(">random<");
        assertTrue(first > 0 && first < second && second < third, "rows in the order raced");
        assertTrue(p50.substring(first, second).contains(">3<"), "least-latency's row shows its 3 ms: " + p50.substring(first, second));
        assertTrue(p50.substring(second, third).contains(">70 (off scale)<"), "round-robin's row shows its 70 ms, cut by the scale");
        assertTrue(p50.substring(third).contains(">20<"), "random's row shows its 20 ms");
        assertTrue(p50.contains(">least-latency<") && html.contains("fill=\"" + colorIn(html, "least-latency") + "\""), "strategy colour used");
        assertTrue(html.contains("real race: errors</b>: 0 % of requests for every strategy"), "an all-zero chart is one line");
    }

    private static String colorIn(String html, String strategy) {
        Matcher m = Pattern.compile("<span class=\"swatch\" style=\"background:(#[0-9a-f]{6})\"></span>" + Pattern.quote(strategy) + "<").matcher(html);
        assertTrue(m.find(), "a sweep legend entry for " + strategy);
        return m.group(1);
    }

    /** One run where every request took {@code nanos}, half on each of two backends. */
    private static LabRun.Result fake(String strategy, long nanos) {
        List<LabRun.Sample> samples = new ArrayList<>();
        for (int i = 0; i < 100; i++) samples.add(new LabRun.Sample(i * 1_000_000L, nanos, 200, i % 2));
        return new LabRun.Result(strategy, samples, new long[] {50, 50}, Double.NaN);
    }

    /** --repeat draws a new workload per run (seed, seed + 1, ...), or the spread it reports would be one draw measured again. */
    @Test
    void eachRepeatHasItsOwnWorkload() {
        Workload first = Workload.forRun(42, 0, 200, 1, 0), second = Workload.forRun(42, 1, 200, 1, 0);
        assertFalse(Arrays.equals(first.arrivalNanos(), second.arrivalNanos()));
        assertNotEquals(Workload.seedOfRun(42, 0), Workload.seedOfRun(42, 1));
        assertEquals(Workload.seedOfRun(42, 1), 43, "the seeds --repeat's help names");
    }

    /** The real race sends from many client addresses: ip-hash spreads 150 requests of 1,000 users over all three backends. */
    @Test
    void theRealRaceComesFromManyClientAddresses() throws Exception {
        Path file = temp.resolve("three.properties");
        Files.writeString(file, "delays = 1ms, 1ms, 1ms\n");
        LabRun.Result result = LabRun.run(Scenario.load(file), Strategies.byName("ip-hash").orElseThrow(), Workload.of(3, 150, 1, 0), 3);
        for (long served : result.servedAtBackends()) {
            assertTrue(served >= 20, "ip-hash saw many clients, so every backend served some: " + Arrays.toString(result.servedAtBackends()));
        }
        // and the simulation's requests, too
        SimResult simulated = Simulation.run(Simulation.Setup.uniform(3, Service.parse("exp:1ms"), 1, 0.5, 3_000, 3), Strategies.byName("ip-hash").orElseThrow());
        for (int b = 0; b < 3; b++) assertTrue(simulated.share(b) > 0.15, simulated.line());
        assertNotNull(simulated);
    }
}
