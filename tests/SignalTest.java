package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The load balancer as a child JVM started with the script's own {@code //RUNTIME_OPTIONS}, sent real
 * signals by PID: HUP leaves it running and says there is nothing to reload; TERM, INT and QUIT let the
 * request in flight finish and exit 0, and QUIT prints no thread dump.
 */
class SignalTest {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");
    private final TestSupport support = new TestSupport();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        processes.forEach(Process::destroyForcibly);
        support.close();
    }

    @Test
    void hangupLeavesItRunningAndSaysThereIsNothingToReload() throws Exception {
        DemoServer backend = support.demo("backend");
        Started lb = start(backend.url());

        signal(lb.process, "HUP");
        awaitCondition(() -> lb.output().contains("nothing to reload"), "the HUP line");

        assertTrue(lb.process.isAlive(), "SIGHUP did not kill it:\n" + lb.output());
        HttpResponse<String> response = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), "still serving");
        assertEquals(1, lb.output().split("nothing to reload", -1).length - 1, "one line:\n" + lb.output());
    }

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"QUIT", "TERM", "INT"})
    void stopSignalsLetTheRequestInFlightFinishThenExitZero(String signal) throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(1500), 0));
        Started lb = start(slow.url());

        CompletableFuture<HttpResponse<String>> inFlight = support.http.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.port + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
        awaitCondition(() -> slow.requestCount() == 1, "the request to reach the backend");
        signal(lb.process, signal);

        assertEquals(200, inFlight.get(20, TimeUnit.SECONDS).statusCode(), "the request in flight finished");
        assertTrue(lb.process.waitFor(20, TimeUnit.SECONDS), "it exited:\n" + lb.output());
        assertEquals(0, lb.process.exitValue(), lb.output());
        String output = lb.output();
        assertTrue(output.contains("stopping"), output);
        assertFalse(output.contains("Full thread dump") || output.contains("java.lang.Thread.State"), "no thread dump:\n" + output);
        assertFalse(Files.exists(Path.of("/tmp/loadbalancer-vm-pid" + lb.process.pid() + ".log")), "the JVM's log is not left behind");
    }

    /** The script's //RUNTIME_OPTIONS lines: what jbang passes to the JVM, so the test runs what users run. */
    private static List<String> runtimeOptions() throws IOException {
        Path script = Path.of("LoadBalancer.java");
        for (Path dir = Path.of("").toAbsolutePath(); dir != null && !Files.exists(script); dir = dir.getParent()) {
            script = dir.resolve("LoadBalancer.java");
        }
        List<String> options = new ArrayList<>();
        for (String line : Files.readAllLines(script)) {
            if (line.startsWith("//RUNTIME_OPTIONS ")) {
                options.addAll(Arrays.asList(line.substring("//RUNTIME_OPTIONS ".length()).trim().split("\\s+")));
            }
        }
        assertTrue(options.contains("-XX:-DisplayVMOutput"), "the script keeps thread dumps out of stdout: " + options);
        return options;
    }

    private Started start(String backendUrl) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.addAll(runtimeOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer",
                "--port", "0", "--bind", "127.0.0.1", "--backend", backendUrl));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        Started started = new Started(process);
        awaitCondition(() -> LISTENING.matcher(started.output()).find() || !process.isAlive(), "the banner");
        Matcher matcher = LISTENING.matcher(started.output());
        assertTrue(matcher.find(), started.output());
        started.port = Integer.parseInt(matcher.group(1));
        return started;
    }

    /** Sends a signal to the process we started, by its PID. */
    private static void signal(Process process, String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), "kill -" + name);
    }

    private static void awaitCondition(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** A started load balancer and everything it printed (stdout and stderr), collected as it comes. */
    private static final class Started {
        final Process process;
        final StringBuffer output = new StringBuffer();
        int port;

        Started(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] buffer = new byte[8192];
                    for (int n; (n = in.read(buffer)) != -1; ) {
                        output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // the process is gone
                }
            }, "lb-output");
            reader.setDaemon(true);
            reader.start();
        }

        String output() {
            return output.toString();
        }
    }
}
