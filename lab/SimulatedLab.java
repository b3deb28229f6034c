package lab;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import lab.sim.Service;
import lab.sim.SimResult;
import lab.sim.Simulation;
import strategies.Strategies;

/**
 * A scenario in simulated time, for the report: each strategy's steady numbers over three seeds at 70%
 * load, a sweep of load from 10% to 99%, and the "what to notice" sentence, which names two different
 * strategies and a difference that every seed shows. The model: exponential service with each
 * backend's delay as its mean, one request at a time per backend, Poisson arrivals. Immutable.
 */
public record SimulatedLab(Scenario scenario, List<Steady> steady, double[] loads, List<List<SimResult>> sweep, Notice notice) {
    public static final double LOAD = 0.7;
    public static final int SEEDS = 3, STEADY_REQUESTS = 40_000, SWEEP_REQUESTS = 20_000;
    static final double[] SWEEP_LOADS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
    static final Service SHAPE = new Service("exp", 1, 0);

    /** One strategy at {@link #LOAD}, one result per seed. */
    public record Steady(String strategy, List<SimResult> bySeed) {
        double median(ToDoubleFunction<SimResult> metric) {
            return Report.median(bySeed.stream().map(metric::applyAsDouble).toList());
        }
    }

    /**
     * The lesson: {@code better} beats {@code worse} on {@code metric} (lower is better) in every seed.
     *
     * @param metric "share:N" (share of backend N), "errors" (% of answers) or "p99" (ms)
     */
    public record Notice(String text, String better, String worse, String metric) {}

    public static SimulatedLab of(Scenario scenario, List<Strategies.Entry> entries, long seed) {
        List<Steady> steady = steady(scenario, entries, seed);
        List<List<SimResult>> sweep = new ArrayList<>();
        for (Strategies.Entry entry : entries) {
            List<SimResult> byLoad = new ArrayList<>();
            for (double load : SWEEP_LOADS) {
                byLoad.add(Simulation.run(scenario.simulated(SHAPE, 1, load, SWEEP_REQUESTS, seed), entry));
            }
            sweep.add(byLoad);
        }
        return new SimulatedLab(scenario, steady, SWEEP_LOADS.clone(), sweep, notice(scenario, steady));
    }

    /** Each strategy at {@link #LOAD}, seeds {@code seed} to {@code seed + SEEDS - 1}. */
    public static List<Steady> steady(Scenario scenario, List<Strategies.Entry> entries, long seed) {
        List<Steady> steady = new ArrayList<>();
        for (Strategies.Entry entry : entries) {
            List<SimResult> bySeed = new ArrayList<>();
            for (int s = 0; s < SEEDS; s++) {
                bySeed.add(Simulation.run(scenario.simulated(SHAPE, 1, LOAD, STEADY_REQUESTS, seed + s), entry));
            }
            steady.add(new Steady(entry.name(), bySeed));
        }
        return steady;
    }

    /** The scenario's lesson from the steady numbers; with one strategy there is nothing to compare. */
    public static Notice notice(Scenario scenario, List<Steady> steady) {
        if (steady.size() < 2) {
            return new Notice("Race two or more strategies to compare them.", null, null, null);
        }
        List<Integer> slow = scenario.slowBackends();
        int flaky = -1;
        for (int b = 0; b < scenario.errorRates().size(); b++) if (scenario.errorRates().get(b) > 0) flaky = b;
        if (!slow.isEmpty() && scenario.weights().stream().distinct().count() == 1) {
            int b = slow.get(0);
            return compare(steady, "share:" + b, result -> result.share(b), (better, worse) -> String.format(Locale.ROOT,
                    "%s sent the slow backend %s %.0f%% of requests where %s sent %.0f%%; mean time in system %s against %s ms%s.",
                    better.strategy(), Scenario.backendName(b), 100 * better.median(r -> r.share(b)), worse.strategy(),
                    100 * worse.median(r -> r.share(b)), ms(better.median(SimResult::meanMillis)), ms(worse.median(SimResult::meanMillis)),
                    unbounded(better, worse)));
        }
        if (flaky >= 0) {
            int b = flaky;
            Notice steered = compare(steady, "share:" + b, result -> result.share(b), (better, worse) -> String.format(Locale.ROOT,
                    "%s sent the flaky backend %s %.0f%% of requests where %s sent %.0f%%, so %.1f%% of its answers were errors against %.1f%%: "
                            + "fast 500s look healthy to a strategy that watches load or latency.",
                    better.strategy(), Scenario.backendName(b), 100 * better.median(r -> r.share(b)), worse.strategy(),
                    100 * worse.median(r -> r.share(b)), better.median(SimulatedLab::errorPercent), worse.median(SimulatedLab::errorPercent)));
            if (steered.better() != null) {
                return steered;
            }
            Steady first = steady.get(0), second = steady.get(1);
            return new Notice(String.format(Locale.ROOT, "%s and %s both sent the flaky %s about its fair share (%.0f%% and %.0f%%): its 500s come back "
                            + "as fast as good answers, so neither load nor latency gives it away; passive health counts only 502/503/504, resets and timeouts.",
                    first.strategy(), second.strategy(), Scenario.backendName(b), 100 * first.median(r -> r.share(b)), 100 * second.median(r -> r.share(b))),
                    null, null, "share:" + b);
        }
        return compare(steady, "p99", result -> result.percentileMillis(0.99), (better, worse) -> String.format(Locale.ROOT,
                "%s kept p99 at %s ms where %s reached %s ms (mean %s against %s ms%s)%s.", better.strategy(),
                ms(better.median(r -> r.percentileMillis(0.99))), worse.strategy(), ms(worse.median(r -> r.percentileMillis(0.99))),
                ms(better.median(SimResult::meanMillis)), ms(worse.median(SimResult::meanMillis)), unbounded(better, worse),
                scenario.weights().stream().distinct().count() > 1 ? ", with weights " + scenario.weights()
                        : scenario.zipf() > 0 ? ": hot users pin their backend under hashing" : ""));
    }

    private interface Sentence {
        String of(Steady better, Steady worse);
    }

    /**
     * The lowest and highest strategy on {@code metric} (by median over seeds), if every seed orders them
     * so; otherwise the widest pair that every seed agrees on; if none, says the strategies tie.
     */
    private static Notice compare(List<Steady> steady, String metricName, ToDoubleFunction<SimResult> metric, Sentence sentence) {
        List<Steady> sorted = new ArrayList<>(steady);
        sorted.sort((a, b) -> Double.compare(a.median(metric), b.median(metric)));
        Steady bestPairLow = null, bestPairHigh = null;
        double widest = -1;
        for (int i = 0; i < sorted.size(); i++) {
            for (int j = sorted.size() - 1; j > i; j--) {
                Steady low = sorted.get(i), high = sorted.get(j);
                double gap = high.median(metric) - low.median(metric);
                if (gap > widest && holdsInEverySeed(low, high, metric)) {
                    widest = gap;
                    bestPairLow = low;
                    bestPairHigh = high;
                }
            }
        }
        if (bestPairLow == null) {
            Steady a = sorted.get(0), b = sorted.get(sorted.size() - 1);
            return new Notice(String.format(Locale.ROOT, "%s and %s differ by less than the seeds do here: no strategy wins this scenario in simulation.",
                    a.strategy(), b.strategy()), null, null, metricName);
        }
        return new Notice(sentence.of(bestPairLow, bestPairHigh), bestPairLow.strategy(), bestPairHigh.strategy(), metricName);
    }

    /** Whether {@code low} is below {@code high} by more than 2% of the larger in each seed: a difference, not noise. */
    static boolean holdsInEverySeed(Steady low, Steady high, ToDoubleFunction<SimResult> metric) {
        for (int s = 0; s < low.bySeed().size(); s++) {
            double a = metric.applyAsDouble(low.bySeed().get(s)), b = metric.applyAsDouble(high.bySeed().get(s));
            if (!(a < b - 0.02 * Math.abs(b))) return false;
        }
        return true;
    }

    /** When the worse strategy's mean is a hundred times the better's, its queue is not steady: say so instead of letting the number speak. */
    private static String unbounded(Steady better, Steady worse) {
        return worse.median(SimResult::meanMillis) > 100 * better.median(SimResult::meanMillis)
                ? ", because " + worse.strategy() + " overloads a backend and its queue grows for as long as the run lasts" : "";
    }

    static double errorPercent(SimResult result) {
        return 100.0 * result.errors() / Math.max(1, result.sortedNanos().length);
    }

    private static String ms(double value) {
        return value >= 100 ? String.format(Locale.ROOT, "%.0f", value) : String.format(Locale.ROOT, "%.1f", value);
    }
}
