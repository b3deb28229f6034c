package lab;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import lab.sim.BackendSpec;
import lab.sim.Service;
import lab.sim.Simulation;
import text.Units;

/**
 * A lab scenario, read from a small .properties file a student can copy and edit: each backend's
 * delay (and optional error rate and weight), an optional Zipf exponent for the X-User keys, and an
 * optional time (as a share of the run) at which the first backend leaves and returns. Immutable.
 */
public record Scenario(String name, List<Duration> delays, List<Double> errorRates, List<Integer> weights,
                double zipf, double leaveAt, double returnAt, String description) {

    public static Scenario load(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        }
        String name = file.getFileName().toString().replaceFirst("\\.properties$", "");
        List<Duration> delays = new ArrayList<>();
        for (String delay : list(properties, "delays", "5ms")) {
            delays.add(Units.parseDuration(delay));
        }
        List<Double> errorRates = new ArrayList<>();
        List<Integer> weights = new ArrayList<>();
        List<String> rates = list(properties, "error-rates", ""), weightTexts = list(properties, "weights", "");
        for (int i = 0; i < delays.size(); i++) {
            errorRates.add(i < rates.size() ? Double.parseDouble(rates.get(i)) : 0.0);
            weights.add(i < weightTexts.size() ? Integer.parseInt(weightTexts.get(i)) : 1);
        }
        return new Scenario(name, delays, errorRates, weights, Double.parseDouble(properties.getProperty("zipf", "0")),
                Double.parseDouble(properties.getProperty("leave-at", "-1")), Double.parseDouble(properties.getProperty("return-at", "-1")),
                description(file));
    }

    /** The file's first comment line, which says in one line what the scenario is; its name when there is none. */
    private static String description(Path file) throws IOException {
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("#")) {
                return line.substring(1).trim();
            }
        }
        return file.getFileName().toString().replaceFirst("\\.properties$", "");
    }

    /**
     * This scenario for the simulator: each backend's delay becomes the mean of {@code shape}'s
     * distribution, with its weight and error rate; {@code slots} requests served at once; churn and
     * Zipf keys as in the real race.
     */
    public Simulation.Setup simulated(Service shape, int slots, double load, int requests, long seed) {
        List<BackendSpec> specs = new ArrayList<>();
        for (int i = 0; i < delays.size(); i++) {
            Service service = new Service(shape.kind(), delays.get(i).toNanos(), shape.sigma());
            specs.add(new BackendSpec(service, slots, weights.get(i), errorRates.get(i), false));
        }
        return new Simulation.Setup(specs, load, requests, seed, zipf, leaveAt, returnAt);
    }

    /** Backend {@code i}'s name in the lab: b1, b2, ... as the demo backends call themselves. */
    static String backendName(int i) {
        return "b" + (i + 1);
    }

    /**
     * What makes backend {@code i} different, for the report's legend: "slow" (over twice the fastest
     * one's delay), "flaky" (an error rate), its weight when weights differ, "leaves" under churn; then its delay.
     */
    String role(int i) {
        List<String> traits = new ArrayList<>();
        long fastest = delays.stream().mapToLong(Duration::toMillis).min().orElse(0);
        if (delays.get(i).toMillis() > 2 * Math.max(1, fastest)) traits.add("slow");
        if (errorRates.get(i) > 0) traits.add(String.format(Locale.ROOT, "flaky, %.0f%% errors", errorRates.get(i) * 100));
        if (weights.stream().distinct().count() > 1) traits.add("weight " + weights.get(i));
        if (churns() && i == 0) traits.add("leaves at " + Math.round(leaveAt * 100) + "%" + (returnAt >= 0 ? ", back at " + Math.round(returnAt * 100) + "%" : ""));
        traits.add(delays.get(i).toMillis() + " ms");
        return String.join(", ", traits);
    }

    /** Backends whose role says "slow". */
    List<Integer> slowBackends() {
        List<Integer> slow = new ArrayList<>();
        for (int i = 0; i < delays.size(); i++) {
            if (role(i).startsWith("slow")) slow.add(i);
        }
        return slow;
    }

    boolean churns() {
        return leaveAt >= 0;
    }

    private static List<String> list(Properties properties, String key, String fallback) {
        String value = properties.getProperty(key, fallback).trim();
        return value.isEmpty() ? List.of() : List.of(value.split("\\s*,\\s*"));
    }
}
