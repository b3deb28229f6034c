package tests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load balancer as a user starts it: {@code java loadbalancer.LoadBalancer ARGS} in a child process with this test
 * run's classpath, on a free loopback port. Collects every line it prints, on standard output and
 * standard error alike (the banner and events may be on either), and is stopped by the PID it started.
 * Used from one test thread; the line list is safe to read while the readers add to it.
 */
final class LoadBalancerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (https?)://[^:]+:(\\d+)");

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final int port;

    private LoadBalancerProcess(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m", // starts faster; these tests measure behaviour, not speed
                "-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer", "--port", "0", "--bind", "127.0.0.1"));
        command.addAll(args);
        process = new ProcessBuilder(command).start();
        collect(process.getInputStream());
        collect(process.getErrorStream());
        try {
            TestSupport.await(() -> listeningPort() > 0 || !process.isAlive(), Duration.ofSeconds(30), "the banner's listening line");
        } catch (AssertionError e) {
            close();
            throw e;
        }
        port = listeningPort();
        if (port <= 0) {
            close();
            throw new AssertionError("the load balancer exited with " + process.waitFor() + ":\n" + String.join("\n", lines));
        }
    }

    /** Starts {@code LoadBalancer --port 0 --bind 127.0.0.1 ARGS} and returns once it listens. */
    static LoadBalancerProcess start(String... args) throws IOException, InterruptedException {
        return new LoadBalancerProcess(List.of(args));
    }

    int port() {
        return port;
    }

    /** The proxy's address, https:// when it speaks TLS. */
    String url() {
        boolean tls = lines.stream().anyMatch(line -> line.contains("listening on https://"));
        return (tls ? "https" : "http") + "://127.0.0.1:" + port;
    }

    /** What a run that must not start printed (stdout and stderr together) and its exit code. */
    record Exited(int code, String output) {
    }

    /** Runs {@code LoadBalancer --port 0 --bind 127.0.0.1 ARGS}, which must exit by itself within 30 s. */
    static Exited run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m",
                "-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer", "--port", "0", "--bind", "127.0.0.1"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("still running after 30 s: " + String.join(" ", args));
            }
            return new Exited(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    /** Everything printed so far, stdout and stderr interleaved as read. */
    List<String> lines() {
        return List.copyOf(lines);
    }

    /** Waits until a printed line contains {@code text}; fails naming it and showing the output after {@code within}. */
    void awaitLine(String text, Duration within) throws InterruptedException {
        try {
            TestSupport.await(() -> lines.stream().anyMatch(line -> line.contains(text)), within, "a line with '" + text + "'");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; output so far:\n" + String.join("\n", lines));
        }
    }

    private int listeningPort() {
        for (String line : lines) {
            Matcher matcher = LISTENING.matcher(line);
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(2));
            }
        }
        return -1;
    }

    private void collect(InputStream stream) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "lb-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Stops it with SIGTERM, then kills it if it has not exited within 10 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
