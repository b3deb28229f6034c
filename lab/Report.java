package lab;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Turns lab results into the table printed for each scenario and a self-contained HTML page (inline
 * SVG, nothing fetched) with each strategy's latency percentiles and per-backend share over time.
 * Stateless.
 */
public final class Report {
    private static final String[] COLORS = {"#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#6b7280"};

    private Report() {}

    public static String table(Scenario scenario, List<LabRun.Result> results) {
        StringBuilder out = new StringBuilder("\nScenario " + scenario.name() + "\n");
        out.append(String.format(Locale.ROOT, "%-22s %8s %8s %8s %8s %7s  %-20s %6s %8s %7s%n",
                "strategy", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "shares", "Jain", "max/mean", "moved"));
        for (LabRun.Result result : results) {
            long[] latencies = result.samples().stream().mapToLong(LabRun.Sample::latencyNanos).sorted().toArray();
            double errors = result.samples().stream().filter(sample -> sample.status() != 200).count() / (double) result.samples().size();
            double[] shares = shares(result.servedAtBackends());
            out.append(String.format(Locale.ROOT, "%-22s %8.1f %8.1f %8.1f %8.1f %6.1f%%  %-20s %6.3f %8.2f %7s%n",
                    result.strategy(), percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 0.99),
                    latencies[latencies.length - 1] / 1e6, errors * 100, shareText(shares), jain(result.servedAtBackends(), scenario.weights()),
                    maxOverMean(result.servedAtBackends()), Double.isNaN(result.keysMoved()) ? "-" : String.format(Locale.ROOT, "%.0f%%", result.keysMoved() * 100)));
        }
        return out.toString();
    }

    public static String html(List<Scenario> scenarios, List<List<LabRun.Result>> results, long seed) {
        StringBuilder html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Strategy lab</title>"
                + "<style>body{font:16px system-ui,sans-serif;margin:24px}h2{margin-top:32px}pre{background:#f4f4f4;padding:8px}"
                + ".chart{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}</style></head><body><h1>Strategy lab</h1>"
                + "<p>Seed " + seed + ". Latency bars: p50, p90, p99 (ms), on one scale per scenario. Share over time: each backend's share of the requests answered in each tenth of the run.</p>");
        for (int s = 0; s < scenarios.size(); s++) {
            html.append("<h2>").append(scenarios.get(s).name()).append("</h2><pre>").append(table(scenarios.get(s), results.get(s))).append("</pre>");
            // One scale for every strategy of a scenario, so the bars compare.
            double top = results.get(s).stream().mapToDouble(result -> percentile(sortedLatencies(result), 0.99)).max().orElse(1);
            for (LabRun.Result result : results.get(s)) {
                html.append("<div class=\"chart\"><b>").append(result.strategy()).append("</b><br>")
                    .append(latencySvg(result, top)).append(shareOverTimeSvg(result, scenarios.get(s).delays().size())).append("</div>");
            }
        }
        return html.append("</body></html>\n").toString();
    }

    private static long[] sortedLatencies(LabRun.Result result) {
        return result.samples().stream().mapToLong(LabRun.Sample::latencyNanos).sorted().toArray();
    }

    private static String latencySvg(LabRun.Result result, double topMillis) {
        long[] latencies = sortedLatencies(result);
        double[] values = {percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 0.99)};
        double top = Math.max(1, topMillis);
        StringBuilder svg = new StringBuilder("<svg width=\"180\" height=\"120\">");
        String[] labels = {"p50", "p90", "p99"};
        for (int i = 0; i < 3; i++) {
            double height = 90 * values[i] / top;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"40\" height=\"%.1f\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"115\" font-size=\"12\">%s %.0f</text>", 10 + i * 55, 100 - height, height, COLORS[0], 10 + i * 55, labels[i], values[i]));
        }
        return svg.append("</svg>").toString();
    }

    private static String shareOverTimeSvg(LabRun.Result result, int backends) {
        long end = result.samples().stream().mapToLong(LabRun.Sample::sentAtNanos).max().orElse(1) + 1;
        long[][] counts = new long[10][backends];
        for (LabRun.Sample sample : result.samples()) {
            if (sample.backend() >= 0 && sample.backend() < backends) {
                counts[(int) (sample.sentAtNanos() * 10 / end)][sample.backend()]++;
            }
        }
        StringBuilder svg = new StringBuilder("<svg width=\"220\" height=\"120\">");
        for (int slice = 0; slice < 10; slice++) {
            long total = Arrays.stream(counts[slice]).sum();
            double y = 100;
            for (int b = 0; b < backends && total > 0; b++) {
                double height = 100.0 * counts[slice][b] / total;
                y -= height;
                svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"18\" height=\"%.1f\" fill=\"%s\"/>", 10 + slice * 20, y, height, COLORS[b % COLORS.length]));
            }
        }
        return svg.append("<text x=\"10\" y=\"115\" font-size=\"12\">share over time</text></svg>").toString();
    }

    static double percentile(long[] sortedNanos, double quantile) {
        int index = (int) Math.ceil(quantile * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(index, sortedNanos.length - 1))] / 1e6;
    }

    private static double[] shares(long[] served) {
        long total = Math.max(1, Arrays.stream(served).sum());
        return Arrays.stream(served).mapToDouble(count -> count / (double) total).toArray();
    }

    private static String shareText(double[] shares) {
        StringBuilder text = new StringBuilder();
        for (double share : shares) {
            text.append(text.length() == 0 ? "" : "/").append(Math.round(share * 100));
        }
        return text.append("%").toString();
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
