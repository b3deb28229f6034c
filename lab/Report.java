package lab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import lab.sim.SimResult;
import strategies.Strategies;

/**
 * Turns lab results into the table printed for each scenario and a self-contained HTML page (inline
 * SVG, nothing fetched) that explains itself: the scenario in one line, a legend naming each backend
 * and its role, one computed "what to notice" sentence, and one chart per metric, each on its own scale
 * with units, so one strategy's outlier is marked rather than shrinking the others. Runs of the same
 * strategy (--repeat) are summarised by their median with the spread (min to max) drawn as a whisker,
 * and a warning says when runs disagree; beside them, the same strategies simulated ({@link SimulatedLab}). Stateless.
 */
public final class Report {
    private static final String[] COLORS = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"};
    /** One colour per strategy, by its place in the registry, so a strategy looks the same in every chart and every report. */
    // none of them the backends' blue, red or green, so a bar never reads as a backend
    private static final String[] STRATEGY_COLORS = {"#6d28d9", "#b45309", "#0e7490", "#be185d", "#4d7c0f", "#334155",
            "#c2410c", "#a21caf", "#0369a1", "#854d0e", "#9f1239", "#115e59"};

    static String colorOf(String strategy) {
        for (int i = 0; i < Strategies.ALL.size(); i++) {
            if (Strategies.ALL.get(i).name().equals(strategy)) return STRATEGY_COLORS[i % STRATEGY_COLORS.length];
        }
        return "#64748b";
    }

    private Report() {}

    /** One strategy's runs of a scenario, reduced to the numbers the report shows. */
    record Runs(String strategy, List<double[]> shares, List<Double> p50, List<Double> p90, List<Double> p99, List<Double> errorPercent,
                List<Double> jain, List<Double> maxOverMean, double keysMoved) {
        int count() {
            return p50.size();
        }

        double share(int backend) {
            return median(shares.stream().map(s -> s[backend]).toList());
        }
    }

    /** The runs grouped by strategy, in the order strategies first appear. */
    static List<Runs> group(Scenario scenario, List<LabRun.Result> results) {
        Map<String, List<LabRun.Result>> byStrategy = new LinkedHashMap<>();
        results.forEach(result -> byStrategy.computeIfAbsent(result.strategy(), k -> new ArrayList<>()).add(result));
        List<Runs> grouped = new ArrayList<>();
        byStrategy.forEach((strategy, runs) -> {
            List<double[]> shares = new ArrayList<>();
            List<Double> p50 = new ArrayList<>(), p90 = new ArrayList<>(), p99 = new ArrayList<>(), errors = new ArrayList<>(),
                    jain = new ArrayList<>(), maxOverMean = new ArrayList<>();
            for (LabRun.Result run : runs) {
                long[] latencies = sortedLatencies(run);
                p50.add(percentile(latencies, 0.5));
                p90.add(percentile(latencies, 0.9));
                p99.add(percentile(latencies, 0.99));
                errors.add(100.0 * run.samples().stream().filter(sample -> sample.status() != 200).count() / Math.max(1, run.samples().size()));
                shares.add(shares(run.servedAtBackends()));
                jain.add(jain(run.servedAtBackends(), scenario.weights()));
                maxOverMean.add(maxOverMean(run.servedAtBackends()));
            }
            grouped.add(new Runs(strategy, shares, p50, p90, p99, errors, jain, maxOverMean, runs.get(0).keysMoved()));
        });
        return grouped;
    }

    /** The table, with the "what to notice" sentence of a fresh simulation of the same strategies. */
    public static String table(Scenario scenario, List<LabRun.Result> results) {
        return table(scenario, results, SimulatedLab.of(scenario, entries(results), 42));
    }

    public static String table(Scenario scenario, List<LabRun.Result> results, SimulatedLab simulated) {
        List<Runs> grouped = group(scenario, results);
        int repeats = grouped.stream().mapToInt(Runs::count).max().orElse(1);
        StringBuilder out = new StringBuilder("\nScenario " + scenario.name() + ": " + scenario.description() + "\n");
        for (int b = 0; b < scenario.delays().size(); b++) {
            out.append("  ").append(Scenario.backendName(b)).append(": ").append(scenario.role(b)).append('\n');
        }
        out.append(repeats > 1 ? "  " + repeats + " runs each: median, and (min-max) where runs differ\n" : "");
        out.append(String.format(Locale.ROOT, "%-20s %17s %17s %17s %7s  %-14s %6s %8s %6s%n",
                "strategy", "p50 ms", "p90 ms", "p99 ms", "errors", "shares", "Jain", "max/mean", "moved"));
        for (Runs runs : grouped) {
            StringBuilder shares = new StringBuilder();
            for (int b = 0; b < scenario.delays().size(); b++) {
                shares.append(b == 0 ? "" : "/").append(Math.round(runs.share(b) * 100));
            }
            out.append(String.format(Locale.ROOT, "%-20s %17s %17s %17s %6.1f%%  %-14s %6.3f %8.2f %6s%n", runs.strategy(),
                    spread(runs.p50()), spread(runs.p90()), spread(runs.p99()), median(runs.errorPercent()), shares + "%",
                    median(runs.jain()), median(runs.maxOverMean()),
                    Double.isNaN(runs.keysMoved()) ? "-" : String.format(Locale.ROOT, "%.0f%%", runs.keysMoved() * 100)));
        }
        disagreements(scenario, grouped).forEach(warning -> out.append("  warning: ").append(warning).append('\n'));
        out.append("  What to notice (simulation, ").append(SimulatedLab.SEEDS).append(" seeds agree): ").append(simulated.notice().text()).append('\n');
        out.append("  Real race: ").append(confirmation(simulated.notice(), grouped)).append('\n');
        return out.toString();
    }

    /** The strategies of {@code results}, in the order they first appear. */
    static List<Strategies.Entry> entries(List<LabRun.Result> results) {
        return results.stream().map(LabRun.Result::strategy).distinct().map(name -> Strategies.byName(name).orElseThrow()).toList();
    }

    public static String html(List<Scenario> scenarios, List<List<LabRun.Result>> results, long seed) {
        List<SimulatedLab> simulated = new ArrayList<>();
        for (int s = 0; s < scenarios.size(); s++) {
            simulated.add(SimulatedLab.of(scenarios.get(s), entries(results.get(s)), seed));
        }
        return html(scenarios, results, simulated, seed);
    }

    public static String html(List<Scenario> scenarios, List<List<LabRun.Result>> results, List<SimulatedLab> simulated, long seed) {
        StringBuilder html = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Strategy lab</title><style>"
                + "body{font:18px/1.35 system-ui,sans-serif;margin:14px 22px;color:#111;background:#fafafa}h1{font-size:26px;margin:0 0 4px}"
                + "h2{font-size:24px;margin:22px 0 2px}.what{font-size:19px;margin:2px 0 6px}.legend span{margin-right:22px;white-space:nowrap}"
                + ".swatch{display:inline-block;width:16px;height:16px;border-radius:3px;vertical-align:-2px;margin-right:6px}"
                + ".notice{background:#fef9c3;border-left:6px solid #ca8a04;padding:6px 10px;margin:6px 0;font-size:19px}"
                + ".warn{background:#fee2e2;border-left:6px solid #b91c1c;padding:4px 10px;margin:4px 0;font-size:16px}"
                + ".charts{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;margin-bottom:10px}.chart{background:white;border:1px solid #ddd;padding:4px}"
                + ".side{display:flex;flex-wrap:wrap;gap:18px}.side>div>h3{font-size:18px;margin:8px 0 4px}.flat{padding:8px 12px;font-size:16px}"
                + ".keys span{margin-right:16px;white-space:nowrap;font-size:16px}"
                + "details{margin-top:6px}pre{background:#f4f4f4;padding:8px;font-size:13px;overflow-x:auto}.muted{color:#555}</style></head><body>"
                + "<h1>Strategy lab</h1><p class=\"muted\" style=\"margin:0;font-size:16px\">Each strategy faced the same seeded open-loop workload (seed " + seed
                + ") from many client addresses (127.0.0.2 to 127.0.0.254). Bars show the median run; a black whisker spans the fastest to the slowest run; "
                + "each chart has its own scale, and a bar or whisker cut by the scale is marked. "
                + "The simulation runs the same strategy classes in simulated time: Poisson arrivals at " + Math.round(SimulatedLab.LOAD * 100)
                + "% of the backends' capacity, exponential service times with each backend's delay as the mean, one request at a time per backend, "
                + SimulatedLab.SEEDS + " seeds of " + SimulatedLab.STEADY_REQUESTS + " requests; the sweeps use " + SimulatedLab.SWEEP_REQUESTS
                + " requests per load. Its sentences name a difference every seed shows.</p>");
        for (int s = 0; s < scenarios.size(); s++) {
            Scenario scenario = scenarios.get(s);
            List<Runs> grouped = group(scenario, results.get(s));
            int repeats = grouped.stream().mapToInt(Runs::count).max().orElse(1);
            html.append("<h2>").append(escape(scenario.name())).append("</h2><div class=\"what\">").append(escape(scenario.description()))
                .append(" <span class=\"muted\">(").append(repeats).append(repeats == 1 ? " run" : " runs").append(" per strategy)</span></div>");
            html.append("<div class=\"legend\">");
            for (int b = 0; b < scenario.delays().size(); b++) {
                html.append("<span><span class=\"swatch\" style=\"background:").append(COLORS[b % COLORS.length]).append("\"></span><b>")
                    .append(Scenario.backendName(b)).append("</b> ").append(escape(scenario.role(b))).append("</span>");
            }
            SimulatedLab sim = simulated.get(s);
            List<Runs> simRuns = simulatedRuns(scenario, sim);
            html.append("</div><div class=\"notice\"><b>What to notice:</b> ").append(escape(sim.notice().text()))
                .append(" <span class=\"muted\">(simulation, ").append(SimulatedLab.SEEDS).append(" seeds agree)</span>")
                .append(" <b>Real race:</b> ").append(escape(confirmation(sim.notice(), grouped))).append("</div>");
            List<String> warnings = disagreements(scenario, grouped);
            if (!warnings.isEmpty()) { // one box: a busy machine makes many, and they must not push the charts off the screen
                html.append("<div class=\"warn\"><b>Runs disagree</b>, so read small differences with care: ").append(escape(String.join("; ", warnings))).append(".</div>");
            }
            String simulatedTitle = "simulated (" + Math.round(SimulatedLab.LOAD * 100) + "% load): ";
            html.append("<div class=\"charts\">") // each metric twice in a row, simulated then real, so the eye compares them
                .append(shareChart(simulatedTitle + "share", scenario, simRuns))
                .append(shareChart("real race: share", scenario, grouped))
                .append("</div><div class=\"charts\">")
                .append(barChart(simulatedTitle + "p99", "ms", simRuns, Runs::p99))
                .append(barChart("real race: p99 latency", "ms", grouped, Runs::p99))
                .append(barChart("real race: p50 latency", "ms", grouped, Runs::p50))
                .append(barChart("real race: errors", "% of requests", grouped, Runs::errorPercent))
                .append("</div>")
                .append(Sweeps.html(scenario, sim))
                .append("<details><summary>the numbers</summary><pre>").append(escape(table(scenario, results.get(s)))).append("</pre></details>");
        }
        return html.append("</body></html>\n").toString();
    }

    /** Row layout shared by the charts: one row per strategy, names on the left. */
    private static final int ROW = 26, LABEL = 170, PLOT = 150, TOP = 30, AXIS = 40;

    /**
     * A horizontal bar per strategy (the median run, in the strategy's colour) with a whisker from the
     * lowest to the highest run, on a scale of its own: up to the largest value that is not an outlier
     * (over 3x the median of all strategies), so one outlier cannot flatten the rest; a bar or whisker
     * the scale cuts ends in an arrow and says so. The median's number sits on the bar, not at the
     * whisker's end, where it would read as the maximum. A chart whose values are all zero is one line.
     */
    static String barChart(String title, String unit, List<Runs> grouped, Function<Runs, List<Double>> metric) {
        if (grouped.stream().allMatch(runs -> metric.apply(runs).stream().allMatch(v -> v == 0))) {
            return "<div class=\"chart flat\"><b>" + escape(title) + "</b>: 0 " + escape(unit) + " for every strategy</div>";
        }
        double[] medians = grouped.stream().mapToDouble(runs -> median(metric.apply(runs))).toArray();
        double typical = median(Arrays.stream(medians).boxed().toList());
        double outlierAbove = Math.max(3 * typical, typical + 1);
        double top = Arrays.stream(medians).filter(v -> v <= outlierAbove).max().orElse(1);
        for (Runs runs : grouped) {
            for (double v : metric.apply(runs)) if (v <= outlierAbove) top = Math.max(top, v);
        }
        top = niceCeiling(Math.max(top, unit.startsWith("%") ? 1 : 0.1));
        int height = TOP + ROW * grouped.size() + AXIS;
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + (LABEL + PLOT + 160) + "\" height=\"" + height + "\" font-size=\"15\">");
        svg.append("<text x=\"4\" y=\"19\" font-size=\"17\" font-weight=\"700\">").append(escape(title)).append("</text>");
        double step = top / 4;
        for (int t = 0; t <= 4; t++) {
            double x = LABEL + PLOT * t / 4.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>", x, TOP - 4, x, TOP + ROW * grouped.size()));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%s</text>", x, TOP + ROW * grouped.size() + 16, tick(step * t)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" fill=\"#444\">%s</text>",
                LABEL + PLOT / 2, height - 4, escape(unit)));
        double edge = LABEL + PLOT;
        for (int i = 0; i < grouped.size(); i++) {
            Runs runs = grouped.get(i);
            List<Double> values = metric.apply(runs);
            double median = medians[i], low = values.stream().mapToDouble(v -> v).min().orElse(0), high = values.stream().mapToDouble(v -> v).max().orElse(0);
            int y = TOP + ROW * i;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"14\" class=\"row\">%s</text>", LABEL - 6, y + 17, escape(runs.strategy())));
            double width = PLOT * Math.min(median, top) / top;
            boolean cut = median > top;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" opacity=\"0.85\"/>",
                    LABEL, y + 4, width, ROW - 8, colorOf(runs.strategy())));
            boolean whiskerCut = values.size() > 1 && high > top;
            if (values.size() > 1) {
                double x1 = LABEL + PLOT * Math.min(low, top) / top, x2 = LABEL + PLOT * Math.min(high, top) / top;
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>"
                        + "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>",
                        x1, y + ROW / 2, x2, y + ROW / 2, x1, y + 7, x1, y + ROW - 7));
                if (!whiskerCut) {
                    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>", x2, y + 7, x2, y + ROW - 7));
                }
            }
            if (cut || whiskerCut) { // an arrow at the scale's edge: this bar or whisker goes on past it
                svg.append(String.format(Locale.ROOT, "<path d=\"M%.1f %d l8 %d l-8 %d z\" fill=\"#b91c1c\"/>", edge, y + 5, ROW / 2 - 5, ROW / 2 - 5));
            }
            String label = cut ? tick(median) + " (off scale)" : whiskerCut ? tick(median) + ", max " + tick(high) : tick(median);
            if (width >= 12 + 7.5 * tick(median).length() && !cut) { // inside the bar, at its end: the median, not the whisker's end
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" font-size=\"13\" fill=\"white\" font-weight=\"700\" "
                        + "stroke=\"%s\" stroke-width=\"3\" paint-order=\"stroke\">%s</text>", LABEL + width - 4, y + 17, colorOf(runs.strategy()), tick(median)));
                if (whiskerCut) {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" fill=\"#b91c1c\">max %s</text>", edge + 10, y + 17, tick(high)));
                }
            } else {
                double after = cut || whiskerCut ? edge + 10 : LABEL + PLOT * Math.max(median, high) / top + 4;
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\"%s>%s</text>", after, y + 17,
                        cut || whiskerCut ? " fill=\"#b91c1c\"" : "", escape(values.size() > 1 && !cut ? "median " + label : label)));
            }
        }
        return svg.append("</svg></div>").toString();
    }

    /** Each strategy's share of requests per backend (median run), stacked to 100%, with the fair share marked. */
    private static String shareChart(String title, Scenario scenario, List<Runs> grouped) {
        int backends = scenario.delays().size();
        int plot = 200, height = TOP + ROW * grouped.size() + AXIS;
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + (LABEL + plot + 20) + "\" height=\"" + height + "\" font-size=\"15\">");
        svg.append("<text x=\"4\" y=\"19\" font-size=\"17\" font-weight=\"700\">").append(escape(title)).append(" (| = fair)</text>");
        for (int t = 0; t <= 4; t++) {
            double x = LABEL + plot * t / 4.0;
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%d%%</text>", x, TOP + ROW * grouped.size() + 16, t * 25));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" fill=\"#444\">%% of requests</text>", LABEL + plot / 2, height - 4));
        double totalWeight = scenario.weights().stream().mapToInt(Integer::intValue).sum();
        for (int i = 0; i < grouped.size(); i++) {
            Runs runs = grouped.get(i);
            int y = TOP + ROW * i;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"14\">%s</text>", LABEL - 6, y + 17, escape(runs.strategy())));
            double[] shares = new double[backends];
            double sum = 0;
            for (int b = 0; b < backends; b++) {
                shares[b] = runs.share(b);
                sum += shares[b];
            }
            double x = LABEL, fair = LABEL;
            for (int b = 0; b < backends; b++) {
                double width = sum == 0 ? 0 : plot * shares[b] / sum;
                svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", x, y + 3, width, ROW - 6, COLORS[b % COLORS.length]));
                if (width > 30) {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"white\" font-size=\"13\" font-weight=\"700\">%d%%</text>",
                            x + width / 2, y + 17, Math.round(100 * shares[b] / sum)));
                }
                x += width;
                if (b < backends - 1) {
                    fair += plot * scenario.weights().get(b) / totalWeight;
                    svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>", fair, y + 1, fair, y + ROW - 1));
                }
            }
        }
        return svg.append("</svg></div>").toString();
    }

    /** Where a strategy's runs differ enough that one run's result could mislead. */
    static List<String> disagreements(Scenario scenario, List<Runs> grouped) {
        List<String> warnings = new ArrayList<>();
        for (Runs runs : grouped) {
            if (runs.count() < 2) continue;
            double low = runs.p99().stream().mapToDouble(v -> v).min().orElse(0), high = runs.p99().stream().mapToDouble(v -> v).max().orElse(0);
            if (high - low > 2 && high > 1.5 * Math.max(low, 0.1)) {
                warnings.add(String.format(Locale.ROOT, "%s p99 %s to %s ms", runs.strategy(), tick(low), tick(high)));
            }
            for (int b = 0; b < scenario.delays().size(); b++) {
                final int backend = b;
                double lowShare = runs.shares().stream().mapToDouble(s -> s[backend]).min().orElse(0);
                double highShare = runs.shares().stream().mapToDouble(s -> s[backend]).max().orElse(0);
                if (highShare - lowShare > 0.15) {
                    warnings.add(String.format(Locale.ROOT, "%s gave %s %.0f%% to %.0f%%", runs.strategy(), Scenario.backendName(b),
                            lowShare * 100, highShare * 100));
                }
            }
        }
        return warnings;
    }

    /** Whether the real race orders the notice's two strategies as the simulation does, or was disturbed. */
    static String confirmation(SimulatedLab.Notice notice, List<Runs> grouped) {
        if (notice.better() == null) {
            return "nothing to confirm.";
        }
        Runs better = grouped.stream().filter(r -> r.strategy().equals(notice.better())).findFirst().orElse(null);
        Runs worse = grouped.stream().filter(r -> r.strategy().equals(notice.worse())).findFirst().orElse(null);
        if (better == null || worse == null) {
            return "did not race both.";
        }
        ToDoubleFunction<Runs> metric;
        String what;
        if (notice.metric().startsWith("share:")) {
            int b = Integer.parseInt(notice.metric().substring("share:".length()));
            metric = runs -> runs.share(b);
            what = Scenario.backendName(b) + "'s share";
        } else {
            metric = runs -> median(runs.p99());
            what = "p99";
        }
        double a = metric.applyAsDouble(better), c = metric.applyAsDouble(worse);
        boolean allRunsAgree = true;
        for (int run = 0; run < Math.min(better.count(), worse.count()); run++) {
            final int r = run;
            Runs one = single(better, r), other = single(worse, r);
            allRunsAgree &= metric.applyAsDouble(one) < metric.applyAsDouble(other);
        }
        return a < c && allRunsAgree
                ? String.format(Locale.ROOT, "confirms it (%s %s, %s %s, in every run).", notice.better(), value(what, a), notice.worse(), value(what, c))
                : String.format(Locale.ROOT, "does not show it (%s %s, %s %s): disturbed by the machine, or backends that serve many requests at once.",
                        notice.better(), value(what, a), notice.worse(), value(what, c));
    }

    private static String value(String what, double value) {
        return what.endsWith("share") ? String.format(Locale.ROOT, "%.0f%%", 100 * value) : tick(value) + " ms";
    }

    /** Run {@code r} of {@code runs} alone. */
    private static Runs single(Runs runs, int r) {
        return new Runs(runs.strategy(), List.of(runs.shares().get(r)), List.of(runs.p50().get(r)), List.of(runs.p90().get(r)), List.of(runs.p99().get(r)),
                List.of(runs.errorPercent().get(r)), List.of(runs.jain().get(r)), List.of(runs.maxOverMean().get(r)), runs.keysMoved());
    }

    /** The simulation's steady numbers as report rows: one "run" per seed. */
    static List<Runs> simulatedRuns(Scenario scenario, SimulatedLab simulated) {
        List<Runs> rows = new ArrayList<>();
        for (SimulatedLab.Steady steady : simulated.steady()) {
            List<double[]> shares = new ArrayList<>();
            List<Double> p50 = new ArrayList<>(), p90 = new ArrayList<>(), p99 = new ArrayList<>(), errors = new ArrayList<>(),
                    jain = new ArrayList<>(), maxOverMean = new ArrayList<>();
            for (SimResult result : steady.bySeed()) {
                shares.add(shares(result.served()));
                p50.add(result.percentileMillis(0.5));
                p90.add(result.percentileMillis(0.9));
                p99.add(result.percentileMillis(0.99));
                errors.add(SimulatedLab.errorPercent(result));
                jain.add(jain(result.served(), scenario.weights()));
                maxOverMean.add(maxOverMean(result.served()));
            }
            rows.add(new Runs(steady.strategy(), shares, p50, p90, p99, errors, jain, maxOverMean, Double.NaN));
        }
        return rows;
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) return 0;
        double[] sorted = values.stream().mapToDouble(v -> v).sorted().toArray();
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /** "12.3" for one run or runs that agree within 10%, "12.3 (11.0-14.1)" when they spread. */
    private static String spread(List<Double> values) {
        double median = median(values), low = values.stream().mapToDouble(v -> v).min().orElse(0), high = values.stream().mapToDouble(v -> v).max().orElse(0);
        String text = String.format(Locale.ROOT, "%.1f", median);
        return values.size() < 2 || high - low <= 0.1 * Math.max(median, 0.1) ? text : text + String.format(Locale.ROOT, " (%.1f-%.1f)", low, high);
    }

    private static double niceCeiling(double value) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= value) return step * magnitude;
        }
        return 10 * magnitude;
    }

    static String tick(double value) {
        if (value == 0) return "0";
        if (value >= 10_000) return String.format(Locale.ROOT, "%.0fk", value / 1000); // an unstable queue's p99 must not crowd the axis
        if (value >= 100) return String.format(Locale.ROOT, "%.0f", value);
        if (value >= 10) return String.format(Locale.ROOT, "%.1f", value).replaceAll("\\.0$", "");
        return String.format(Locale.ROOT, "%.2f", value).replaceAll("0$", "").replaceAll("\\.0$", "");
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static long[] sortedLatencies(LabRun.Result result) {
        return result.samples().stream().mapToLong(LabRun.Sample::latencyNanos).sorted().toArray();
    }

    static double percentile(long[] sortedNanos, double quantile) {
        if (sortedNanos.length == 0) return 0;
        int index = (int) Math.ceil(quantile * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(index, sortedNanos.length - 1))] / 1e6;
    }

    private static double[] shares(long[] served) {
        long total = Math.max(1, Arrays.stream(served).sum());
        return Arrays.stream(served).mapToDouble(count -> count / (double) total).toArray();
    }

    /** Jain's fairness index of the backends' loads relative to their weights: 1 is perfectly fair. */
    static double jain(long[] served, List<Integer> weights) {
        double sum = 0, squares = 0;
        for (int i = 0; i < served.length; i++) {
            double normalized = served[i] / (double) weights.get(i);
            sum += normalized;
            squares += normalized * normalized;
        }
        return squares == 0 ? 1 : sum * sum / (served.length * squares);
    }

    private static double maxOverMean(long[] served) {
        double mean = Arrays.stream(served).average().orElse(0);
        return mean == 0 ? 0 : Arrays.stream(served).max().orElse(0) / mean;
    }
}
