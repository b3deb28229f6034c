package lab;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import lab.sim.SimResult;

/**
 * The report's sweeps: mean, p50, p99 and p99.9 time in system, and one backend's share, against
 * offered load from 10% to 99%, one line per strategy in its own colour; and the queue-length
 * distribution at the steady load. Latency is on a log scale
 * (a queue's wait grows like 1/(1 - load), so the lines would otherwise be flat then vertical), capped
 * at 1,000 times the fastest value; a line that leaves the top is cut there and marked. Stateless.
 */
final class Sweeps {
    private static final int WIDTH = 330, HEIGHT = 210, LEFT = 52, RIGHT = 12, TOP = 30, BOTTOM = 40;

    private Sweeps() {}

    static String html(Scenario scenario, SimulatedLab simulated) {
        StringBuilder html = new StringBuilder("<h3>Simulated sweep: offered load 10% to 99%</h3><div class=\"keys\">");
        simulated.steady().forEach(steady -> html.append("<span><span class=\"swatch\" style=\"background:").append(Report.colorOf(steady.strategy()))
                .append("\"></span>").append(Report.escape(steady.strategy())).append("</span>"));
        html.append("</div><div class=\"charts\">");
        html.append(chart("mean time in system", simulated, SimResult::meanMillis));
        html.append(chart("p50", simulated, r -> r.percentileMillis(0.5)));
        html.append(chart("p99", simulated, r -> r.percentileMillis(0.99)));
        html.append(chart("p99.9", simulated, r -> r.percentileMillis(0.999)));
        int b = watched(scenario);
        html.append(shareChart(scenario, simulated, b));
        html.append(queueChart(simulated));
        return html.append("</div>").toString();
    }

    /** The backend whose share tells the scenario's story: the slow one, the flaky one, the lightest weight, else the first. */
    static int watched(Scenario scenario) {
        if (!scenario.slowBackends().isEmpty()) return scenario.slowBackends().get(0);
        for (int i = 0; i < scenario.errorRates().size(); i++) if (scenario.errorRates().get(i) > 0) return i;
        int lightest = 0;
        for (int i = 0; i < scenario.weights().size(); i++) if (scenario.weights().get(i) < scenario.weights().get(lightest)) lightest = i;
        return lightest;
    }

    private static String chart(String title, SimulatedLab simulated, ToDoubleFunction<SimResult> metric) {
        double low = Double.MAX_VALUE;
        for (List<SimResult> line : simulated.sweep()) for (SimResult r : line) low = Math.min(low, Math.max(metric.applyAsDouble(r), 1e-3));
        double bottom = Math.pow(10, Math.floor(Math.log10(low)));
        double top = bottom * 1_000;
        StringBuilder svg = frame(title + " (ms, log scale)", simulated.loads());
        for (double tick = bottom; tick <= top * 1.0001; tick *= 10) {
            double y = yLog(tick, bottom, top);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"13\">%s</text>", LEFT, y, WIDTH - RIGHT, y, LEFT - 4, y + 4, Report.tick(tick)));
        }
        for (int s = 0; s < simulated.sweep().size(); s++) {
            List<SimResult> line = simulated.sweep().get(s);
            String color = Report.colorOf(simulated.steady().get(s).strategy());
            StringBuilder points = new StringBuilder();
            boolean offScale = false;
            for (int l = 0; l < line.size(); l++) {
                double value = metric.applyAsDouble(line.get(l));
                if (value > top) {
                    points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(simulated.loads()[l]), (double) TOP));
                    offScale = true;
                    break; // cut at the top: what lies above is a queue without bound
                }
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(simulated.loads()[l]), yLog(Math.max(value, bottom), bottom, top)));
            }
            svg.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2.5\" points=\"").append(points.toString().trim()).append("\"/>");
            if (offScale) {
                String[] last = points.toString().trim().split(" ");
                String[] xy = last[last.length - 1].split(",");
                svg.append("<text x=\"").append(xy[0]).append("\" y=\"").append(TOP - 2).append("\" text-anchor=\"middle\" font-size=\"13\" fill=\"")
                        .append(color).append("\">▲</text>");
            }
        }
        return svg.append("</svg></div>").toString();
    }

    private static String shareChart(Scenario scenario, SimulatedLab simulated, int backend) {
        double fair = scenario.weights().get(backend) / (double) scenario.weights().stream().mapToInt(Integer::intValue).sum();
        StringBuilder svg = frame(Scenario.backendName(backend) + "'s share (" + scenario.role(backend) + ")", simulated.loads());
        for (int t = 0; t <= 4; t++) {
            double y = yShare(t / 4.0);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"13\">%d%%</text>", LEFT, y, WIDTH - RIGHT, y, LEFT - 4, y + 4, t * 25));
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#111\" stroke-dasharray=\"5 4\"/>"
                + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">fair</text>", LEFT, yShare(fair), WIDTH - RIGHT, yShare(fair), WIDTH - RIGHT, yShare(fair) - 3));
        for (int s = 0; s < simulated.sweep().size(); s++) {
            StringBuilder points = new StringBuilder();
            List<SimResult> line = simulated.sweep().get(s);
            for (int l = 0; l < line.size(); l++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(simulated.loads()[l]), yShare(line.get(l).share(backend))));
            }
            svg.append("<polyline fill=\"none\" stroke=\"").append(Report.colorOf(simulated.steady().get(s).strategy()))
                    .append("\" stroke-width=\"2.5\" points=\"").append(points.toString().trim()).append("\"/>");
        }
        return svg.append("</svg></div>").toString();
    }

    /** How many requests an arriving request found at the backend it was sent to, at the steady load: the queue-length distribution. */
    private static String queueChart(SimulatedLab simulated) {
        int longest = 10;
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + WIDTH + "\" height=\"" + HEIGHT + "\" font-size=\"14\">");
        svg.append("<text x=\"4\" y=\"18\" font-size=\"16\" font-weight=\"700\">queue joined at ").append(Math.round(SimulatedLab.LOAD * 100))
                .append("% load</text>");
        for (int q = 0; q <= longest; q += 2) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%s</text>",
                    xQueue(q, longest), HEIGHT - BOTTOM + 16, q == longest ? longest + "+" : String.valueOf(q)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444\">requests already there</text>",
                (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 4));
        for (int t = 0; t <= 4; t++) {
            double y = yShare(t / 4.0);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"13\">%d%%</text>", LEFT, y, WIDTH - RIGHT, y, LEFT - 4, y + 4, t * 25));
        }
        for (SimulatedLab.Steady steady : simulated.steady()) {
            long[] seen = steady.bySeed().get(0).queueSeen();
            double total = 0;
            for (long count : seen) total += count;
            StringBuilder points = new StringBuilder();
            double tail = 0;
            for (int q = 0; q < seen.length; q++) {
                if (q < longest) {
                    points.append(String.format(Locale.ROOT, "%.1f,%.1f ", xQueue(q, longest), yShare(total == 0 ? 0 : seen[q] / total)));
                } else {
                    tail += seen[q];
                }
            }
            points.append(String.format(Locale.ROOT, "%.1f,%.1f", xQueue(longest, longest), yShare(total == 0 ? 0 : tail / total)));
            svg.append("<polyline fill=\"none\" stroke=\"").append(Report.colorOf(steady.strategy())).append("\" stroke-width=\"2.5\" points=\"")
                    .append(points).append("\"/>");
        }
        return svg.append("</svg></div>").toString();
    }

    private static double xQueue(int q, int longest) {
        return LEFT + (WIDTH - LEFT - RIGHT) * q / (double) longest;
    }

    /** The chart's box, title and load axis. */
    private static StringBuilder frame(String title, double[] loads) {
        StringBuilder svg = new StringBuilder("<div class=\"chart\"><svg width=\"" + WIDTH + "\" height=\"" + HEIGHT + "\" font-size=\"14\">");
        svg.append("<text x=\"4\" y=\"18\" font-size=\"16\" font-weight=\"700\">").append(Report.escape(title)).append("</text>");
        for (double load : new double[] {0.1, 0.3, 0.5, 0.7, 0.9}) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%d%%</text>", x(load), HEIGHT - BOTTOM + 16, Math.round(load * 100)));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444\">offered load</text>", (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 4));
        return svg;
    }

    private static double x(double load) {
        return LEFT + (WIDTH - LEFT - RIGHT) * (load - 0.1) / 0.9;
    }

    private static double yLog(double value, double bottom, double top) {
        double plot = HEIGHT - TOP - BOTTOM;
        return TOP + plot * (1 - Math.log(value / bottom) / Math.log(top / bottom));
    }

    private static double yShare(double share) {
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share);
    }
}
