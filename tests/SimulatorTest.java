package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.SplittableRandom;
import lab.sim.BackendSpec;
import lab.sim.Service;
import lab.sim.SimResult;
import lab.sim.Simulation;
import org.junit.jupiter.api.Test;
import strategies.Strategies;

/**
 * The simulator against queueing theory, with the real strategy classes choosing: each expected value
 * is derived here from its formula, with the number of simulated requests and the tolerance it needs
 * (seeds 1 to 5 were run to find it: each tolerance is at least twice their widest miss). Mean service time S is
 * 10 ms throughout; the first tenth of every run is warm-up and not measured.
 */
class SimulatorTest {
    private static final Service EXP_10MS = Service.parse("exp:10ms");
    private static final double S = 10; // ms

    private static SimResult simulate(String strategy, int backends, double load, int requests, long seed) {
        return Simulation.run(Simulation.Setup.uniform(backends, EXP_10MS, 1, load, requests, seed), Strategies.byName(strategy).orElseThrow());
    }

    /** Random assignment splits a Poisson stream into independent Poisson streams: each backend is M/M/1, T = S / (1 - rho). */
    @Test
    void randomIsMM1PerBackend() {
        // rho 0.5: 200,000 requests, within 2% (seeds 1-5 land within 0.6%)
        assertWithin(S / (1 - 0.5), simulate("random", 10, 0.5, 200_000, 1).meanMillis(), 0.02, "M/M/1 at rho 0.5");
        // rho 0.8: queues stay correlated longer, so 400,000 requests, within 3% (seeds 1-5 within 0.8%)
        assertWithin(S / (1 - 0.8), simulate("random", 10, 0.8, 400_000, 1).meanMillis(), 0.03, "M/M/1 at rho 0.8");
    }

    /**
     * Mitzenmacher's supermarket model ("The Power of Two Choices in Randomized Load Balancing", 2001):
     * with d choices and n -> infinity, the share of queues holding at least i requests is
     * rho^((d^i - 1)/(d - 1)), so the expected time in system, in units of S, is the sum over i >= 1 of
     * rho^((d^i - d)/(d - 1)). 200 backends stand in for infinitely many; 400,000 requests, within 2%
     * (seeds 1-5 within 0.8%; at rho 0.9 that is 2.61 S, against M/M/1's 10 S).
     */
    @Test
    void powerOfTwoFollowsTheSupermarketModel() {
        for (double rho : new double[] {0.5, 0.9}) {
            assertWithin(S * supermarket(rho, 2), simulate("power-of-two", 200, rho, 400_000, 1).meanMillis(), 0.02,
                    "supermarket model, d = 2, rho " + rho);
        }
    }

    static double supermarket(double rho, int d) {
        double sum = 0;
        for (int i = 1; i < 30; i++) {
            double exponent = (Math.pow(d, i) - d) / (d - 1);
            double term = Math.pow(rho, exponent);
            sum += term;
            if (term < 1e-12) break;
        }
        return sum;
    }

    /** Join-the-shortest-queue sees every queue, power of two sees two: it is never worse (same seed, 200,000 requests). */
    @Test
    void leastConnectionsIsNoWorseThanPowerOfTwo() {
        for (double rho : new double[] {0.5, 0.7, 0.9}) {
            double jsq = simulate("least-connections", 10, rho, 200_000, 3).meanMillis();
            double p2c = simulate("power-of-two", 10, rho, 200_000, 3).meanMillis();
            assertTrue(jsq <= p2c, "rho " + rho + ": least-connections " + jsq + " ms, power-of-two " + p2c + " ms");
            // and both beat random's M/M/1 by a wide margin at this load
            assertTrue(p2c < S / (1 - rho), "rho " + rho + ": power-of-two " + p2c + " ms beats M/M/1's " + S / (1 - rho));
        }
    }

    /**
     * A dead backend refuses, and the model's FailurePolicy retries elsewhere within its budget of 20
     * retries per 100 requests: every request is answered by a live backend or by nobody (no passive
     * ejection in the simulation yet, so the dead one keeps getting first tries and some requests find
     * the budget spent).
     */
    @Test
    void aDeadBackendIsRetriedElsewhereWithinTheRetryBudget() {
        BackendSpec live = new BackendSpec(EXP_10MS, 1, 1, 0, false), dead = new BackendSpec(EXP_10MS, 1, 1, 0, true);
        SimResult result = Simulation.run(new Simulation.Setup(List.of(live, dead, live), 0.5, 30_000, 4, 0, -1, -1),
                Strategies.byName("random").orElseThrow());
        assertEquals(0, result.served()[1], "the dead backend served nothing");
        // random sends a third of first tries to the dead one; the budget retries 20 per 100 requests, so about 13 per 100 go unanswered
        double unanswered = result.unanswered() / 30_000.0;
        assertTrue(unanswered > 0.1 && unanswered < 0.17, "unanswered: " + unanswered);
        assertEquals(0.5, result.share(0), 0.02, result.line());
    }

    @Test
    void theSameSeedGivesTheSameLinesAndAnotherSeedDoesNot() {
        for (String strategy : new String[] {"least-latency", "power-of-two", "hash"}) {
            String one = simulate(strategy, 5, 0.8, 20_000, 9).line(), again = simulate(strategy, 5, 0.8, 20_000, 9).line();
            assertEquals(one, again, strategy);
            assertNotEquals(one, simulate(strategy, 5, 0.8, 20_000, 10).line(), strategy);
            assertTrue(one.startsWith(strategy + " ") && one.contains(" mean="), one);
        }
    }

    /** A million draws each: the mean is the one given (within 1%; lognormal's tail within 2%), and lognormal's median is exp(mu). */
    @Test
    void serviceDistributionsHaveTheMeanGiven() {
        for (String text : new String[] {"const:10ms", "exp:10ms", "lognormal:10ms,1.5"}) {
            Service service = Service.parse(text);
            SplittableRandom random = new SplittableRandom(5);
            long[] draws = new long[1_000_000];
            for (int i = 0; i < draws.length; i++) draws[i] = service.draw(random);
            assertWithin(S, Arrays.stream(draws).average().orElseThrow() / 1e6, text.startsWith("lognormal") ? 0.02 : 0.01, text + " mean");
            if (text.startsWith("lognormal")) {
                Arrays.sort(draws);
                // mean = exp(mu + sigma^2 / 2), so the median exp(mu) is S * exp(-sigma^2 / 2)
                assertWithin(S * Math.exp(-1.5 * 1.5 / 2), draws[draws.length / 2] / 1e6, 0.02, text + " median");
            }
        }
        assertEquals(S, Simulation.run(Simulation.Setup.uniform(3, Service.parse("const:10ms"), 1, 0.01, 2_000, 2),
                Strategies.byName("round-robin").orElseThrow()).percentileMillis(0.5), 1e-9, "round robin at 1% load: nobody waits");
    }

    @Test
    void badServiceTextsSayWhatIsExpected() {
        for (String bad : new String[] {"10ms", "gamma:10ms", "exp:ten", "lognormal:10ms", "exp:0ms", "const:10ms,2"}) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Service.parse(bad), bad);
            assertTrue(error.getMessage().startsWith("--service: "), error.getMessage());
        }
    }

    /** The command a class types, run twice as a process: the same seed prints the same bytes; a bad flag is one line. */
    @Test
    void theCommandLinePrintsTheSameBytesForTheSameSeed() throws Exception {
        String[] command = {"--simulate", "--backends", "4", "--service", "lognormal:5ms,1.2", "--slots", "2", "--load", "0.8",
                "--requests", "20000", "--strategies", "least-latency,power-of-two", "--seed", "7"};
        String[] first = lab(command), second = lab(command);
        assertEquals("0", first[0], first[2]);
        assertEquals(first[1], second[1]);
        String[] lines = first[1].split("\n");
        assertEquals(3, lines.length, first[1]);
        assertTrue(lines[1].startsWith("least-latency ") && lines[2].startsWith("power-of-two "), first[1]);
        assertTrue(lines[1].matches("least-latency +mean=[0-9.]+ p50=[0-9.]+ p99=[0-9.]+ p99\\.9=[0-9.]+ ms  share b1=[0-9.]+% b2=.* b4=[0-9.]+%"), lines[1]);

        String[] bad = lab("--simulate", "--load", "1.2");
        assertEquals("2", bad[0]);
        assertEquals("error: --load must be above 0 and below 1 (a share of capacity, 0.7 is 70%), got 1.2 (see --help)", lastLine(bad[2]));
    }

    /** {exit code, stdout, stderr} of ./jbang lab/StrategyLab.java with {@code args}, within two minutes. */
    private static String[] lab(String... args) throws Exception {
        Path project = Path.of("").toAbsolutePath();
        while (!Files.exists(project.resolve("jbang-catalog.json"))) project = project.getParent();
        List<String> command = new ArrayList<>(List.of(project.resolve("jbang").toString(), "lab/StrategyLab.java"));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("sim", ".out"), err = Files.createTempFile("sim", ".err");
        try {
            Process process = new ProcessBuilder(command).directory(project.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("strategy-lab --simulate did not finish in 120 s");
            }
            return new String[] {String.valueOf(process.exitValue()), Files.readString(out), Files.readString(err)};
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }

    private static void assertWithin(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(actual - expected) <= tolerance * expected,
                what + ": expected " + expected + " ms within " + Math.round(tolerance * 100) + "%, simulated " + actual + " ms");
    }
}
