///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION Runs every JUnit test of the project and ends with "N passed, N failed".
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS org.junit.jupiter:junit-jupiter:5.14.1
//DEPS org.junit.platform:junit-platform-launcher:1.14.1
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.seleniumhq.selenium:selenium-chrome-driver:4.49.0
//DEPS org.seleniumhq.selenium:selenium-support:4.49.0
//SOURCES ../LoadBalancer.java
//SOURCES *Test.java TestSupport.java Http2Client.java RawBackend.java RecordingBackend.java LoadBalancerProcess.java
//SOURCES ../backends-demo/DemoBackend.java
//SOURCES ../lab/Scenario.java ../lab/Workload.java ../lab/LabRun.java ../lab/Report.java ../lab/SimulatedLab.java ../lab/Sweeps.java
//SOURCES ../lab/sim/BackendSpec.java ../lab/sim/EventHeap.java ../lab/sim/Service.java ../lab/sim/SimClock.java ../lab/sim/SimRequest.java ../lab/sim/SimResult.java ../lab/sim/Simulation.java ../lab/sim/Station.java

package tests;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import proxy.ProcessSignals;
import proxy.observe.UndertowLogging;
import java.util.regex.Pattern;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The test runner: discovers every test class in the {@code tests} package (optionally only those
 * whose full name contains the first argument: Model, ModelTest or tests.ModelTest), prints one line per
 * test as it finishes, then the failures in full, then the closing line "N passed, N failed, N skipped".
 * Exits 1 if anything failed, 2 (naming the classes that come close) if the filter selects no test.
 */
public class RunTests {
    public static void main(String[] args) {
        // jbang gives this runner LoadBalancer.java's //RUNTIME_OPTIONS too: unlink the JVM log they name.
        ProcessSignals.claim();
        // No dated INFO banners from Undertow and XNIO between the result lines, whichever test starts a server first.
        UndertowLogging.quiet();
        // A run stopped from outside (Ctrl-C, SIGTERM, a CI timeout) skips every @AfterEach: stop the
        // load balancers and tools its tests started, by their PIDs, on the way out.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroy),
                "stop-children"));
        String filter = args.length > 0 ? args[0] : "";
        Launcher launcher = LauncherFactory.create();
        TestPlan plan = launcher.discover(request(filter));
        if (!plan.containsTests()) {
            System.err.println(noMatch(filter, testClasses(launcher.discover(request("")))));
            System.exit(2);
        }
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        ProgressPrinter progress = new ProgressPrinter();
        launcher.execute(plan, summary, progress);

        TestExecutionSummary result = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        if (result.getTotalFailureCount() > 0) {
            out.println();
            result.printFailuresTo(out, 12);
        }
        long failed = result.getTestsFailedCount() + result.getContainersFailedCount();
        // A test whose assumption failed (the browser test without Chromium) is "aborted" to JUnit, not
        // "skipped": count it as skipped, and name every skip just above the last line, so a CI log
        // whose browser install failed says so where people look.
        progress.skipped.forEach(skip -> out.println("skipped: " + skip));
        out.printf("%d passed, %d failed, %d skipped%n",
                result.getTestsSucceededCount(), failed, progress.skipped.size());
        System.exit(failed == 0 && result.getTestsFoundCount() > 0 ? 0 : 1);
    }

    /**
     * The test classes whose full name contains {@code filter} ("Model", "ModelTest", "tests.ModelTest"
     * all select ModelTest); every test class when it is empty.
     */
    static LauncherDiscoveryRequest request(String filter) {
        return LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("tests"))
                // Both at once: the name contains the filter, and it is a test class (ends in Test).
                .filters(ClassNameFilter.includeClassNamePatterns("(?=.*" + Pattern.quote(filter) + ").*Test"))
                .build();
    }

    /** The simple names of the test classes in {@code plan}, sorted. */
    static List<String> testClasses(TestPlan plan) {
        List<String> classes = new ArrayList<>();
        for (TestIdentifier root : plan.getRoots()) {
            for (TestIdentifier child : plan.getChildren(root)) {
                child.getSource().filter(ClassSource.class::isInstance).map(source -> ((ClassSource) source).getClassName().replaceFirst(".*\\.", ""))
                        .ifPresent(classes::add);
            }
        }
        classes.sort(null);
        return classes;
    }

    /** What to say when {@code filter} selects no test: the classes that come close, or all of them. */
    static String noMatch(String filter, List<String> classes) {
        List<String> close = classes.stream().filter(name -> name.toLowerCase(Locale.ROOT).contains(filter.toLowerCase(Locale.ROOT))
                || filter.toLowerCase(Locale.ROOT).contains(name.toLowerCase(Locale.ROOT).replaceFirst("test$", ""))).toList();
        return "no test class matches '" + filter + "' (the filter is part of a test class's name, case-sensitive: "
                + (close.isEmpty() ? "the test classes are " + String.join(", ", classes) : "did you mean " + String.join(", ", close) + "?") + ")";
    }

    /** One line per finished test, so a slow or stuck test is visible while the run goes on. */
    static final class ProgressPrinter implements TestExecutionListener {
        final List<String> skipped = new ArrayList<>();
        private long started;

        @Override
        public void executionStarted(TestIdentifier test) {
            started = System.nanoTime();
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            if (!test.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                return;
            }
            String name = (test.getParentIdObject().map(Object::toString).map(RunTests::className).orElse("") + " " + test.getDisplayName()).trim();
            if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
                String reason = result.getThrowable().map(Throwable::getMessage).orElse("aborted");
                System.out.printf("%-6s %s: %s%n", "skip", name, reason);
                skipped.add(className(test.getUniqueId()) + " (" + shortReason(reason) + ")");
                return;
            }
            System.out.printf("%-6s %s (%d ms)%n", result.getStatus() == TestExecutionResult.Status.SUCCESSFUL ? "ok" : "FAILED",
                    name, (System.nanoTime() - started) / 1_000_000);
        }

        @Override
        public void executionSkipped(TestIdentifier test, String reason) {
            System.out.printf("%-6s %s: %s%n", "skip", test.getDisplayName(), reason);
            skipped.add(className(test.getUniqueId()) + " (" + shortReason(reason) + ")");
        }

        /** "Assumption failed: no chromium: apt-get ..." → "no chromium". */
        private static String shortReason(String reason) {
            String text = reason == null ? "skipped" : reason.replaceFirst("^Assumption failed: ", "");
            int colon = text.indexOf(':');
            return colon > 0 ? text.substring(0, colon) : text;
        }
    }

    private static String className(String uniqueId) {
        int at = uniqueId.lastIndexOf("[class:");
        if (at < 0) return "";
        String cls = uniqueId.substring(at + 7, uniqueId.indexOf(']', at));
        return cls.substring(cls.lastIndexOf('.') + 1);
    }
}
