package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import text.Units;

/**
 * Durations need a unit on every command line: {@code --timeout 30} once meant 30 ms and turned every
 * request into a 504. A bare number is refused with the forms a good value takes, and so is an uppercase
 * unit: nginx reads {@code 5M} as five months, not minutes.
 */
class DurationTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({"250ms, 250", "30s, 30000", "1.5s, 1500", "1m30s, 90000", "1h, 3600000", "1h30m, 5400000", "2m, 120000", "0ms, 0", "' 5s ', 5000"})
    void durationsWithUnitsParse(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Units.parseDuration(text));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"30", "0", "1.5", "", "s", "30x", "1m30", "-5s", "ms30", "1s 2s", "30 s", "5M", "5S", "1H", "250MS", "1m30S"})
    void anythingElseIsRefusedShowingTheForms(String text) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> Units.parseDuration(text));
        assertTrue(refused.getMessage().contains("250ms, 30s, 1.5s, 1m30s or 1h"), refused.getMessage());
    }

    @Test
    void aBareNumberSaysItNeedsAUnit() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Units.parseDuration("30")).getMessage().startsWith("'30' has no unit"));
    }

    /** Sizes are binary multiples, as nginx reads them: 1k is 1,024 bytes, not 1,000. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"512, 512", "1k, 1024", "64k, 65536", "10m, 10485760", "1g, 1073741824"})
    void sizesAreBinaryMultiples(String text, long bytes) {
        assertEquals(bytes, Units.parseSize(text));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--timeout", "--drain-timeout", "--health-interval", "--slow-start"})
    void theLoadBalancerRefusesABareNumberNamingTheFlag(String flag) throws Exception {
        String err = refusal("loadbalancer.LoadBalancer", flag, "30");
        assertTrue(err.startsWith("error: ") && err.contains(flag) && err.contains("'30' has no unit") && err.contains("1m30s"), err);
    }

    @Test
    void theDemoBackendRefusesABareNumberToo() throws Exception {
        String err = refusal("demo.DemoBackend", "--delay", "200");
        assertTrue(err.contains("--delay") && err.contains("'200' has no unit"), err);
    }

    /** Runs {@code java MAIN flag value} with this test run's classpath; returns its stderr after checking it exits 2. */
    private static String refusal(String main, String flag, String value) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), main, flag, value));
        Process process = new ProcessBuilder(command).start();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, process.exitValue(), err);
        return err.trim();
    }
}
