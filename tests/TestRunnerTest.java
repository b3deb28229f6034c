package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The test runner's filter, as the README uses it: a part of a class's name, its simple name or its full
 * name selects it; a filter that selects nothing says so, names the classes that come close, and exits 2
 * instead of printing "0 passed, 0 failed" and leaving the user to guess.
 */
class TestRunnerTest {
    private final Launcher launcher = LauncherFactory.create();

    private List<String> selected(String filter) {
        return RunTests.testClasses(launcher.discover(RunTests.request(filter)));
    }

    @Test
    void aClassIsSelectedByPartOfItsNameItsSimpleNameOrItsFullName() {
        assertEquals(List.of("ModelTest"), selected("ModelTest"));
        assertEquals(List.of("ModelTest"), selected("tests.ModelTest"));
        assertTrue(selected("Model").contains("ModelTest"), selected("Model").toString());
        assertTrue(selected("").containsAll(List.of("ModelTest", "CatalogTest", "TestRunnerTest")), selected("").toString());
    }

    @Test
    void aFilterThatSelectsNothingNamesWhatComesClose() {
        TestPlan nothing = launcher.discover(RunTests.request("Modeltest"));
        assertFalse(nothing.containsTests());
        List<String> all = selected("");
        assertTrue(RunTests.noMatch("Modeltest", all).contains("did you mean ModelTest?"), RunTests.noMatch("Modeltest", all));
        String none = RunTests.noMatch("Zebra", all);
        assertTrue(none.startsWith("no test class matches 'Zebra'") && none.contains("ModelTest, ObservabilityTest"), none);
    }

    /** The runner itself, as a process: exit 2 and one line on standard error, without running a test. */
    @Test
    void theRunnerExitsTwoWhenItsFilterSelectsNothing() throws Exception {
        Path project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(project.resolve("jbang-catalog.json"))) {
            project = project.getParent();
        }
        Path err = Files.createTempFile("runtests", ".err");
        try {
            Process runner = new ProcessBuilder(project.resolve("jbang").toString(), "tests/RunTests.java", "NoSuchTestAnywhere")
                    .directory(project.toFile()).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(runner.waitFor(5, TimeUnit.MINUTES), "the runner hangs");
            String said = Files.readString(err);
            assertEquals(2, runner.exitValue(), said);
            assertTrue(said.contains("no test class matches 'NoSuchTestAnywhere'") && said.contains("ModelTest"), said);
        } finally {
            Files.delete(err);
        }
    }
}
