package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The load balancer as a user runs it: a real process started from the command line. Bad input is
 * one clear line and exit 2; a good start prints the banner and serves; SIGTERM drains and exits 0.
 */
class CommandLineTest {
    private static final Pattern LISTENING = Pattern.compile("listening on https?://[^:]+:(\\d+)");
    private final TestSupport support = new TestSupport();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        processes.forEach(Process::destroyForcibly);
        support.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--port 70000                                  | --port",
            "--port eighty                                 | --port",
            "--strategy fastest                            | --strategy",
            "--backend 127.0.0.1:9001                      | no scheme",
            "--backend http://                             | --backend",
            "--backend ftp://127.0.0.1:21                  | http://",
            "--backend http://127.0.0.1:9001,weight=0      | weight",
            "--backend http://127.0.0.1:9001/app           | without a path",
            "--timeout soon                                | --timeout",
            "--max-body-size lots                          | --max-body-size",
            "--max-response-header-size 100                | --max-response-header-size",
            "--bogus                                       | --bogus",
            "--backnd http://127.0.0.1:9001                | did you mean --backend",
            "--io-threads 0                                | --io-threads",
            "--max-client-conns 0                          | --max-client-conns",
            "--tunnel-idle-timeout 0ms                     | --tunnel-idle-timeout",
            "--tunnel-idle-timeout 30                      | has no unit",
            "--strategy hash --hash-key header:            | --hash-key",
            "--strategy round-robin --hash-key path        | only applies",
            "--strategy consistent-hash --hash-balance-factor 1 | --hash-balance-factor",
            "--access-log xml                              | --access-log",
            "--admin-port 0 --admin-bind 0.0.0.0           | --admin-token",
            "--backend http://127.0.0.1:0                  | port 0",
            "--backend http://127.0.0.1:99999              | port 99999",
            "--timeout 30                                  | has no unit",
            "--timeout 0s                                  | more than 0",
            "--retry-budget 101                            | --retry-budget",
            "--trust-forwarded proxy.example               | --trust-forwarded",
            "--admin-token-file /nonexistent/token         | --admin-token-file",
            "--tls on                                      | --tls takes only 'self-signed'",
            "--tls self-signed --tls-cert /nonexistent/c.pem --tls-key /nonexistent/k.pem | not both",
            "--tls-cert /nonexistent/c.pem                 | needs its --tls-key",
            "--tls-key /nonexistent/k.pem                  | --tls-key needs its --tls-cert",
            "--tls-cert /nonexistent/c.pem --tls-key /nonexistent/k.pem | /nonexistent/c.pem: no such file"})
    void badInputIsOneLineNamingTheProblemAndExit2(String args, String expected) throws Exception {
        // On a port already taken: input checked only after binding would end in "cannot listen" instead.
        List<String> command = new ArrayList<>(List.of(args.trim().split("\\s+")));
        String err;
        Process process;
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            if (!command.contains("--port")) {
                command.addAll(List.of("--bind", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort())));
            }
            process = start(List.of(), command.toArray(String[]::new));
            err = read(process.getErrorStream());
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        }

        assertEquals(2, process.exitValue(), err);
        List<String> lines = err.lines().filter(line -> !line.isBlank()).toList();
        assertEquals(1, lines.size(), "one line, not a stack trace or the whole usage:\n" + err);
        assertTrue(lines.get(0).startsWith("error: "), err);
        assertTrue(lines.get(0).contains(expected), "should mention '" + expected + "': " + err);
    }

    @Test
    void helpListsOptionsAndStrategies() throws Exception {
        Process process = start(List.of(), "--help");
        String out = read(process.getInputStream());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));

        assertEquals(0, process.exitValue());
        for (String option : new String[] {"--port", "--bind", "--backend", "--strategy", "--list-strategies", "--timeout", "weight=N", "round-robin"}) {
            assertTrue(out.contains(option), option + " missing from --help:\n" + out);
        }
    }

    @Test
    void listStrategiesNamesEachWithADescription() throws Exception {
        Process process = start(List.of(), "--list-strategies");
        String out = read(process.getInputStream());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));

        assertEquals(0, process.exitValue());
        assertTrue(out.lines().anyMatch(line -> line.trim().startsWith("round-robin") && line.trim().length() > "round-robin".length() + 5), out);
    }

    @Test
    void withoutBackendsItStartsThreeDemoBackendsAndRotatesOverThem() throws Exception {
        Process process = start(List.of(), "--port", "0", "--bind", "127.0.0.1");
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        int port = awaitPort(out);

        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> response = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            seen.add(TestSupport.json(response).get("backend").getAsString());
        }
        assertEquals(List.of("demo-1", "demo-2", "demo-3", "demo-1", "demo-2", "demo-3"), seen);

        process.destroy(); // SIGTERM
        assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
    }

    @Test
    void withAccessLogStdoutCarriesOnlyAccessLogLinesAndTheDemoOffersItsDashboard() throws Exception {
        Process process = start(List.of(), "--port", "0", "--bind", "127.0.0.1", "--access-log", "combined");
        BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        int port = awaitPort(err);
        int dashboardPort = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = err.readLine()) != null; ) {
                    Matcher matcher = Pattern.compile("Admin:\\s+http://127\\.0\\.0\\.1:(\\d+)/ \\(live dashboard\\)").matcher(line);
                    if (matcher.find()) return Integer.parseInt(matcher.group(1));
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("no dashboard line in the banner");
        }).get(30, TimeUnit.SECONDS);
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> {
            try {
                return read(process.getInputStream());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        for (int i = 0; i < 5; i++) {
            HttpResponse<String> response = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello?i=" + i))
                    .header("User-Agent", "test \"agent\"").header("Referer", "http://example.test/").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
        }
        HttpResponse<String> dashboard = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboardPort + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, dashboard.statusCode());
        assertTrue(dashboard.body().contains("uplot.js"), "the dashboard page");
        String stats = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboardPort + "/stats")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(stats.contains("\"label\":\"demo-1\""), "demo backends by name: " + stats);

        process.destroy(); // SIGTERM: the access log's queue is written out before exit
        assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        List<String> lines = stdout.get(10, TimeUnit.SECONDS).lines().toList();
        assertEquals(5, lines.size(), "one access-log line per request and nothing else on stdout: " + lines);
        for (int i = 0; i < lines.size(); i++) {
            Matcher line = ProxyForwardingTest.COMBINED.matcher(lines.get(i));
            assertTrue(line.matches(), "not combined format: " + lines.get(i));
            assertEquals("GET /hello?i=" + i + " HTTP/1.1", line.group(3));
            assertEquals("http://example.test/", line.group(6));
            assertEquals("test \\x22agent\\x22", line.group(7), "quotes escaped as nginx does");
        }
    }

    @Test
    void sigtermLetsTheRequestInFlightFinishThenExitsZero() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(1500), 0));
        Process process = start(List.of(), "--port", "0", "--bind", "127.0.0.1", "--backend", slow.url());
        int port = awaitPort(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)));

        CompletableFuture<HttpResponse<String>> inFlight = support.http.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
        TestSupport.await(() -> slow.requestCount() == 1, "the request is at the backend");
        assertEquals(1, slow.requestCount(), "the request reached the backend before the signal");
        process.destroy(); // SIGTERM while the backend is still answering

        assertEquals(200, inFlight.get(20, TimeUnit.SECONDS).statusCode());
        assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
    }

    @Test
    void aPortInUseIsOneClearLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process process = start(List.of(), "--port", String.valueOf(taken.getLocalPort()), "--bind", "127.0.0.1");
            String err = read(process.getErrorStream());
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));

            assertEquals(1, process.exitValue(), err);
            assertTrue(err.startsWith("error: cannot listen on 127.0.0.1:" + taken.getLocalPort()), err);
            assertTrue(err.contains("choose another port with --port"), "names the fix: " + err);
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
    }

    @Test
    void anAdminPortInUseIsOneClearLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process process = start(List.of(), "--port", "0", "--bind", "127.0.0.1", "--admin-port", String.valueOf(taken.getLocalPort()));
            String err = read(process.getErrorStream());
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));

            assertEquals(1, process.exitValue(), err);
            assertTrue(err.startsWith("error: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " for the admin API: Address already in use"), err);
            assertTrue(err.contains("choose another port with --admin-port"), "names the fix: " + err);
            assertFalse(err.contains("\tat ") || err.contains("java.net."), "no stack trace, no exception class: " + err);
        }
    }

    @Test
    void hundredMebibytesEachWayPassInSixtyFourMebibytesOfHeap() throws Exception {
        DemoServer backend = support.demo("big");
        Process process = start(List.of("-Xmx64m"), "--port", "0", "--bind", "127.0.0.1", "--backend", backend.url());
        int port = awaitPort(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)));
        long size = 100L * 1024 * 1024;

        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        HttpRequest upload = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/upload"))
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new DigestInputStream(new PatternStream(size), sent)), size))
                .build();
        HttpResponse<String> uploaded = support.http.send(upload, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, uploaded.statusCode(), uploaded.body());
        assertEquals(size, TestSupport.json(uploaded).get("bodyLength").getAsLong());
        assertEquals(HexFormat.of().formatHex(sent.digest()), TestSupport.json(uploaded).get("bodySha256").getAsString());

        HttpResponse<InputStream> download = support.http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/bytes?n=" + size)).build(), HttpResponse.BodyHandlers.ofInputStream());
        MessageDigest received = MessageDigest.getInstance("SHA-256");
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(download.body(), received); InputStream pattern = new DigestInputStream(new PatternStream(size), expected)) {
            assertEquals(size, in.transferTo(OutputStream.nullOutputStream()));
            pattern.transferTo(OutputStream.nullOutputStream());
        }
        assertEquals(HexFormat.of().formatHex(expected.digest()), HexFormat.of().formatHex(received.digest()));
        assertTrue(process.isAlive(), "the load balancer survived both transfers in a 64 MiB heap");
    }

    /** The demo backend's /bytes body, generated on the fly. */
    private static final class PatternStream extends InputStream {
        private final long size;
        private long position;

        PatternStream(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            return position < size ? DemoServer.patternByte(position++) & 0xff : -1;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(length, size - position);
            for (int i = 0; i < n; i++) {
                buffer[offset + i] = DemoServer.patternByte(position++);
            }
            return n;
        }
    }

    /** Starts {@code java [jvmOptions] LoadBalancer args} with this test run's own classpath. */
    private Process start(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        processes.add(process);
        return process;
    }

    /** Reads the banner until the line that says where the load balancer listens; gives up after 30 s. */
    private static int awaitPort(BufferedReader out) throws Exception {
        CompletableFuture<Integer> port = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    Matcher matcher = LISTENING.matcher(line);
                    if (matcher.find()) {
                        return Integer.parseInt(matcher.group(1));
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("the load balancer exited without saying where it listens");
        });
        return port.get(30, TimeUnit.SECONDS);
    }

    /** All the stream gives until it ends, waiting at most 30 s: a process that should have exited but runs on fails its test instead of hanging it. */
    private static String read(InputStream stream) throws Exception {
        CompletableFuture<byte[]> all = CompletableFuture.supplyAsync(() -> {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            return new String(all.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (TimeoutException e) {
            return "(the stream was still open after 30 s)";
        }
    }
}
