package lab;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import proxy.Units;

/**
 * A lab scenario, read from a small .properties file a student can copy and edit: each backend's
 * delay (and optional error rate and weight), an optional Zipf exponent for the X-User keys, and an
 * optional time (as a share of the run) at which the first backend leaves and returns. Immutable.
 */
public record Scenario(String name, List<Duration> delays, List<Double> errorRates, List<Integer> weights,
                double zipf, double leaveAt, double returnAt) {

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
                Double.parseDouble(properties.getProperty("leave-at", "-1")), Double.parseDouble(properties.getProperty("return-at", "-1")));
    }

    boolean churns() {
        return leaveAt >= 0;
    }

    private static List<String> list(Properties properties, String key, String fallback) {
        String value = properties.getProperty(key, fallback).trim();
        return value.isEmpty() ? List.of() : List.of(value.split("\\s*,\\s*"));
    }
}
