package lab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Turns lab results into the table printed for each scenario and a self-contained HTML page (inline
 * SVG, nothing fetched) that explains itself: the scenario in one line, a legend naming each backend
 * and its role, one computed "what to notice" sentence, and one chart per metric, each on its own scale
 * with units, so one strategy's outlier is marked rather than shrinking the others. Runs of the same
 * strategy (--repeat) are summarised by their median with the spread (min to max) drawn as a whisker,
 * and a warning says when runs disagree. Stateless.
 */
public final class Report {
    private static final String[] COLORS = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"};

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

    public static String table(Scenario scenario, List<LabRun.Result> results) {
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
        out.append("  What to notice: ").append(notice(scenario, grouped)).append('\n');
        return out.toString();
    }

    public static String html(List<Scenario> scenarios, List<List<LabRun.Result>> results, long seed) {
        StringBuilder html = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Strategy lab</title><style>"
                + "body{font:18px/1.35 system-ui,sans-serif;margin:14px 22px;color:#111;background:#fafafa}h1{font-size:26px;margin:0 0 4px}"
                + "h2{font-size:24px;margin:22px 0 2px}.what{font-size:19px;margin:2px 0 6px}.legend span{margin-right:22px;white-space:nowrap}"
                + ".swatch{display:inline-block;width:16px;height:16px;border-radius:3px;vertical-align:-2px;margin-right:6px}"
                + ".notice{background:#fef9c3;border-left:6px solid #ca8a04;padding:6px 10px;margin:6px 0;font-size:19px}"
                + ".warn{background:#fee2e2;border-left:6px solid #b91c1c;padding:4px 10px;margin:4px 0;font-size:16px}"
                + ".charts{display:flex;flex-wrap:wrap;gap:10px}.chart{background:white;border:1px solid #ddd;padding:4px}"
                + "details{margin-top:6px}pre{background:#f4f4f4;padding:8px;font-size:13px;overflow-x:auto}.muted{color:#555}</style></head><body>"
                + "<h1>Strategy lab</h1><p class=\"muted\" style=\"margin:0;font-size:16px\">Each strategy faced the same seeded open-loop workload (seed " + seed
                + ") from many client addresses (127.0.0.2 to 127.0.0.254). Bars show the median run; a black whisker spans the fastest to the slowest run; "
                + "each chart has its own scale, and a bar cut by the scale is marked with its value.</p>");
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
            html.append("</div><div class=\"notice\"><b>What to notice:</b> ").append(escape(notice(scenario, grouped))).append("</div>");
            List<String> warnings = disagreements(scenario, grouped);
            if (!warnings.isEmpty()) { // one box: a busy machine makes many, and they must not push the charts off the screen
                html.append("<div class=\"warn\"><b>Runs disagree</b>, so read small differences with care: ").append(escape(String.join("; ", warnings))).append(".</div>");
            }
            html.append("<div class=\"charts\">")
                .append(shareChart(scenario, grouped))
                .append(barChart("p50 latency", "ms", grouped, Runs::p50))
                .append(barChart("p99 latency", "ms", grouped, Runs::p99))
                .append(barChart("errors", "% of requests", grouped, Runs::errorPercent))
                .append("</div><details><summary>the numbers</summary><pre>").append(escape(table(scenario, results.get(s)))).append("</pre></details>");
        }
        return html.append("</body></html>\n").toString();
    }

    /** Row layout shared by the charts: one row per strategy, names on the left. */
    private static final int ROW = 26, LABEL = 170, PLOT = 150, TOP = 30, AXIS = 40;

    /**
     * A horizontal bar per strategy (the median run) with a whisker from the lowest to the highest run,
     * on a scale of its own: up to the largest value that is not an outlier (over 3x the median of all
     * strategies), so one outlier cannot flatten the rest; an outlier's bar is cut and labelled.
     */
    private static String barChart(String title, String unit, List<Runs> grouped, Function<Runs, List<Double>> metric) {
        double[] medians = grouped.stream().mapToDouble(runs -> median(metric.apply(runs))).toArray();
        double typical = median(Arrays.stream(medians).boxed().toList());
        double outlierAbove = Math.max(3 * typical, typical + 1);
        double top = Arrays.stream(medians).filter(v -> v <= outlierAbove).max().orElse(1);
        for (Runs runs : grouped) {
            for (double v : metric.apply(runs)) if (v <= outlierAbove) top = Math.max(top, v);
        }
        top = niceCeiling(Math.max(top, unit.startsWith("%") ? 1 : 0.1));
        int height = TOP + ROW * grouped.size() + AXIS;
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + (LABEL + PLOT + 66) + "\" height=\"" + height + "\" font-size=\"15\">");
        svg.append("<text x=\"4\" y=\"19\" font-size=\"17\" font-weight=\"700\">").append(escape(title)).append("</text>");
        double step = top / 4;
        for (int t = 0; t <= 4; t++) {
            double x = LABEL + PLOT * t / 4.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>", x, TOP - 4, x, TOP + ROW * grouped.size()));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%s</text>", x, TOP + ROW * grouped.size() + 16, tick(step * t)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" fill=\"#444\">%s</text>",
                LABEL + PLOT / 2, height - 4, escape(unit)));
        for (int i = 0; i < grouped.size(); i++) {
            Runs runs = grouped.get(i);
            List<Double> values = metric.apply(runs);
            double median = medians[i], low = values.stream().mapToDouble(v -> v).min().orElse(0), high = values.stream().mapToDouble(v -> v).max().orElse(0);
            int y = TOP + ROW * i;
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"14\">%s</text>", LABEL - 6, y + 17, escape(runs.strategy())));
            double width = PLOT * Math.min(median, top) / top;
            boolean cut = median > top;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", LABEL, y + 4, width, ROW - 8, cut ? "#b91c1c" : "#64748b"));
            if (values.size() > 1) {
                double x1 = LABEL + PLOT * Math.min(low, top) / top, x2 = LABEL + PLOT * Math.min(high, top) / top;
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>"
                        + "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2\"/>",
                        x1, y + ROW / 2, x2, y + ROW / 2, x1, y + 7, x1, y + ROW - 7, x2, y + 7, x2, y + ROW - 7));
            }
            if (cut) { // the outlier's value, inside its cut bar
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" font-size=\"13\" fill=\"white\" font-weight=\"700\">%s ▶ off scale</text>",
                        LABEL + width - 4, y + 17, tick(median)));
            } else {
                double after = LABEL + PLOT * Math.min(Math.max(median, high), top) / top; // right of the bar and its whisker
                svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"13\">%s</text>", after + 4, y + 17, tick(median)));
            }
        }
        return svg.append("</svg></div>").toString();
    }

    /** Each strategy's share of requests per backend (median run), stacked to 100%, with the fair share marked. */
    private static String shareChart(Scenario scenario, List<Runs> grouped) {
        int backends = scenario.delays().size();
        int plot = 200, height = TOP + ROW * grouped.size() + AXIS;
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + (LABEL + plot + 20) + "\" height=\"" + height + "\" font-size=\"15\">");
        svg.append("<text x=\"4\" y=\"19\" font-size=\"17\" font-weight=\"700\">share of requests (| = fair share)</text>");
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

    /** One sentence, computed from the results, on the lesson of the scenario. */
    static String notice(Scenario scenario, List<Runs> grouped) {
        if (grouped.isEmpty()) return "no results";
        Runs baseline = grouped.stream().filter(runs -> runs.strategy().equals("round-robin")).findFirst().orElse(grouped.get(0));
        List<Integer> slow = scenario.slowBackends();
        int flaky = -1;
        for (int b = 0; b < scenario.errorRates().size(); b++) if (scenario.errorRates().get(b) > 0) flaky = b;
        if (!slow.isEmpty() && scenario.weights().stream().distinct().count() == 1) {
            int b = slow.get(0);
            Runs best = min(grouped, runs -> runs.share(b));
            return String.format(Locale.ROOT, "%s sent the slow backend %s %.0f%% of requests where %s sent %.0f%%; p99 went from %s to %s ms, "
                            + "at a fairness (Jain) of %.2f against %.2f.", best.strategy(), Scenario.backendName(b), best.share(b) * 100,
                    baseline.strategy(), baseline.share(b) * 100, tick(median(baseline.p99())), tick(median(best.p99())),
                    median(best.jain()), median(baseline.jain()));
        }
        if (flaky >= 0) {
            int b = flaky;
            Runs least = min(grouped, runs -> runs.share(b)), most = min(grouped, runs -> -runs.share(b));
            if (baseline.share(b) - least.share(b) < 0.05) { // nobody really moved traffic away: say so, not a winner by noise
                return String.format(Locale.ROOT, "No strategy steered away from the flaky %s (the least it got was %.0f%%, from %s); %s even sent it %.0f%%, "
                                + "because its 500s come back fast. Errors that answer quickly are for passive health checks, which count only 502/503/504, resets and timeouts.",
                        Scenario.backendName(b), least.share(b) * 100, least.strategy(), most.strategy(), most.share(b) * 100);
            }
            Runs best = min(grouped, runs -> median(runs.errorPercent()));
            return String.format(Locale.ROOT, "%s answered %.1f%% of requests with errors against %s's %.1f%%: it sent the flaky %s %.0f%% of requests (%s: %.0f%%).",
                    best.strategy(), median(best.errorPercent()), baseline.strategy(), median(baseline.errorPercent()), Scenario.backendName(b),
                    best.share(b) * 100, baseline.strategy(), baseline.share(b) * 100);
        }
        if (scenario.weights().stream().distinct().count() > 1) {
            Runs best = min(grouped, runs -> -median(runs.jain())), worst = min(grouped, runs -> median(runs.jain()));
            return String.format(Locale.ROOT, "%s followed the weights %s best (Jain %.2f against weight); %s was furthest off (Jain %.2f), "
                            + "and p99 ranged from %s ms (%s) to %s ms (%s).", best.strategy(), scenario.weights(), median(best.jain()),
                    worst.strategy(), median(worst.jain()), tick(median(min(grouped, r -> median(r.p99())).p99())), min(grouped, r -> median(r.p99())).strategy(),
                    tick(median(min(grouped, r -> -median(r.p99())).p99())), min(grouped, r -> -median(r.p99())).strategy());
        }
        if (scenario.churns()) {
            List<Runs> hashing = grouped.stream().filter(runs -> !Double.isNaN(runs.keysMoved())).toList();
            if (!hashing.isEmpty()) {
                Runs least = min(hashing, Runs::keysMoved), most = min(hashing, runs -> -runs.keysMoved());
                return String.format(Locale.ROOT, "When b1 left, %s moved %.0f%% of users to another backend (a third must move), %s %.0f%%.",
                        least.strategy(), least.keysMoved() * 100, most.strategy(), most.keysMoved() * 100);
            }
        }
        Runs even = min(grouped, runs -> median(runs.maxOverMean())), uneven = min(grouped, runs -> -median(runs.maxOverMean()));
        return String.format(Locale.ROOT, "%s spread most evenly (busiest backend %.2fx the mean), %s least (%.2fx)%s.", even.strategy(),
                median(even.maxOverMean()), uneven.strategy(), median(uneven.maxOverMean()),
                scenario.zipf() > 0 ? ": hot users pin their backend under hashing" : "");
    }

    private static Runs min(List<Runs> grouped, ToDoubleFunction<Runs> value) {
        Runs best = grouped.get(0);
        for (Runs runs : grouped) if (value.applyAsDouble(runs) < value.applyAsDouble(best)) best = runs;
        return best;
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

    private static String tick(double value) {
        if (value == 0) return "0";
        if (value >= 100) return String.format(Locale.ROOT, "%.0f", value);
        if (value >= 10) return String.format(Locale.ROOT, "%.1f", value).replaceAll("\\.0$", "");
        return String.format(Locale.ROOT, "%.2f", value).replaceAll("0$", "").replaceAll("\\.0$", "");
    }

    private static String escape(String text) {
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
