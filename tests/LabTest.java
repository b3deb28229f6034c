package tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import lab.LabRun;
import lab.Report;
import lab.Scenario;
import lab.Workload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import strategies.Strategies;

/**
 * A small lab run, seconds long, over two strategies: the table and the report come out, and their
 * numbers are the requests the backends really served; the same seed gives the same workload.
 */
class LabTest {
    @TempDir
    Path temp;

    @Test
    void aSmallRunReportsWhatTheBackendsReallyServed() throws Exception {
        Path scenarioFile = temp.resolve("two-speeds.properties");
        Files.writeString(scenarioFile, "delays = 2ms, 10ms, 2ms\nerror-rates = 0, 0, 0.2\n");
        Scenario scenario = Scenario.load(scenarioFile);
        Workload workload = Workload.of(7, 100, 1, 0);
        List<Strategies.Entry> entries = List.of(Strategies.byName("round-robin").orElseThrow(), Strategies.byName("least-latency").orElseThrow());

        List<LabRun.Result> results = List.of(LabRun.run(scenario, entries.get(0), workload, 7), LabRun.run(scenario, entries.get(1), workload, 7));

        for (LabRun.Result result : results) {
            assertEquals(workload.size(), result.samples().size(), "every scheduled request was sent and answered");
            long[] seenByClient = new long[3];
            result.samples().forEach(sample -> seenByClient[sample.backend()]++);
            assertArrayEquals(result.servedAtBackends(), seenByClient, "the client's count per backend is the backends' own");
        }
        String table = Report.table(scenario, results);
        assertTrue(table.contains("round-robin") && table.contains("least-latency"), table);
        Path report = temp.resolve("lab.html");
        Files.writeString(report, Report.html(List.of(scenario), List.of(results), 7));
        String html = Files.readString(report);
        assertTrue(html.contains("<svg") && html.contains("two-speeds") && !html.contains("http://") && !html.contains("https://"),
                "a self-contained page with its charts");
        long roundRobinOnThird = results.get(0).servedAtBackends()[2];
        assertTrue(Math.abs(roundRobinOnThird - workload.size() / 3.0) <= 2, "round robin gives each a third: " + roundRobinOnThird);
    }

    @Test
    void theSameSeedGivesTheSameWorkload() {
        Workload one = Workload.of(11, 300, 2, 1.2), again = Workload.of(11, 300, 2, 1.2), other = Workload.of(12, 300, 2, 1.2);
        assertArrayEquals(one.arrivalNanos(), again.arrivalNanos());
        assertArrayEquals(one.users(), again.users());
        assertTrue(!Arrays.equals(one.arrivalNanos(), other.arrivalNanos()));
        long hottest = Arrays.stream(one.users()).filter("user-0"::equals).count();
        assertTrue(hottest > one.size() / 20, "Zipf 1.2 makes user-0 hot: " + hottest + " of " + one.size());
    }
}
