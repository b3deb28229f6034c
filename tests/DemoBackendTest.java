package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import demo.DemoServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The demo backend does what the README says: its command-line flags (ports, count, name, delay,
 * jitter, error rate, mode) in a real process, and each {@code /_control} mode at run time (delay,
 * jitter, error rate, reset, reset mid-body, hang, kill and revive), talked to directly, no proxy.
 */
class DemoBackendTest {
    private static final Pattern LISTENING = Pattern.compile("(\\S+) listening on (http://127\\.0\\.0\\.1:\\d+)");
    private final TestSupport support = new TestSupport();
    private final List<Process> processes = new ArrayList<>();
    private final List<String> output = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Process process : processes) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        support.close();
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return support.http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> control(DemoServer demo, String query) throws IOException, InterruptedException {
        return support.http.send(HttpRequest.newBuilder(URI.create(demo.url() + "/_control?" + query)).timeout(Duration.ofSeconds(10))
                .header(DemoServer.TOKEN_HEADER, DemoServer.controlToken()).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> shown(DemoServer demo, String query) throws IOException, InterruptedException {
        return support.http.send(HttpRequest.newBuilder(URI.create(demo.url() + "/_control" + query)).timeout(Duration.ofSeconds(10))
                .header(DemoServer.TOKEN_HEADER, DemoServer.controlToken()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long millis(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    /** Starts {@code DemoBackend ARGS} and returns each backend's name and URL from its "listening" lines. */
    private List<String[]> startDemo(int expected, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "demo.DemoBackend"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        List<String[]> listening = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    output.add(line);
                    Matcher matcher = LISTENING.matcher(line);
                    if (matcher.find()) {
                        listening.add(new String[] {matcher.group(1), matcher.group(2)});
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        TestSupport.await(() -> listening.size() == expected, Duration.ofSeconds(30), expected + " demo backends listening");
        return listening;
    }

    @Test
    void theCommandLineSetsPortsCountNameDelayAndJitter() throws Exception {
        List<String[]> backends = startDemo(2, "--port", "0", "--count", "1", "--name", "shop", "--delay", "300ms", "--jitter", "100ms");
        assertEquals("shop-1", backends.get(0)[0]);
        assertEquals("shop-2", backends.get(1)[0]);
        java.util.regex.Matcher printed = java.util.regex.Pattern.compile(DemoServer.TOKEN_HEADER + ": ([0-9a-f]+)").matcher(String.join("\n", output));
        assertTrue(printed.find(), "a standalone demo backend prints its control token: " + output);
        for (String[] backend : backends) {
            JsonObject faults = TestSupport.json(support.http.send(HttpRequest.newBuilder(URI.create(backend[1] + "/_control"))
                    .timeout(Duration.ofSeconds(10)).header(DemoServer.TOKEN_HEADER, printed.group(1)).build(), HttpResponse.BodyHandlers.ofString()));
            assertEquals(300, faults.get("delay ms").getAsLong(), "--delay reaches the backend: " + faults);
            assertEquals(100, faults.get("jitter ms").getAsLong(), "--jitter reaches the backend: " + faults);
            long started = System.nanoTime();
            HttpResponse<String> response = get(backend[1] + "/hello");
            long took = millis(started);
            assertEquals(200, response.statusCode());
            assertEquals(backend[0], TestSupport.json(response).get("backend").getAsString());
            assertTrue(took >= 300 && took < 3_000, "--delay 300ms --jitter 100ms: answered after " + took + " ms");
            assertEquals("ok\n", get(backend[1] + "/health").body(), "/health always answers");
        }
    }

    /** SIGTERM is how a demo backend is stopped: exit 0, not 143; and what it printed is its own lines, no dated Undertow INFO. */
    @Test
    void sigtermStopsItWithExitZeroAndItPrintsOnlyItsOwnLines() throws Exception {
        String url = startDemo(1, "--name", "quiet").get(0)[1];
        assertEquals(200, get(url + "/").statusCode());
        Process process = processes.get(processes.size() - 1);
        process.destroy(); // SIGTERM
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "still running 30 s after SIGTERM");
        assertEquals(0, process.exitValue(), "exit status after SIGTERM; output: " + output);
        assertEquals(2, output.size(), "only its own lines: " + output);
        assertEquals("quiet-1 listening on " + url, output.get(0));
        assertTrue(output.get(1).matches("control: curl -X POST -H '" + DemoServer.TOKEN_HEADER + ": [0-9a-f]+' '" + url + "/_control\\?mode=reset'"),
                "and how to reach its controls: " + output);
    }

    @Test
    void theCommandLineSetsTheErrorRateAndTheMode() throws Exception {
        String failing = startDemo(1, "--error-rate", "1").get(0)[1];
        HttpResponse<String> response = get(failing + "/");
        assertEquals(500, response.statusCode());
        assertTrue(response.body().contains("injected failure"), response.body());

        String resetting = startDemo(1, "--mode", "reset", "--name", "r").get(0)[1];
        assertThrows(IOException.class, () -> get(resetting + "/"), "--mode reset: the connection is reset, no answer");
        assertEquals(200, get(resetting + "/health").statusCode());
    }

    @Test
    void controlSetsDelayJitterAndErrorRateAtRunTime() throws Exception {
        DemoServer demo = support.demo("d");
        JsonObject shown = TestSupport.json(shown(demo, ""));
        assertEquals(0, shown.get("delay ms").getAsLong());
        assertEquals("ok", shown.get("mode").getAsString());

        assertEquals(200, control(demo, "delay=300ms").statusCode());
        long started = System.nanoTime();
        assertEquals(200, get(demo.url() + "/").statusCode());
        assertTrue(millis(started) >= 300, "delay=300ms: answered after " + millis(started) + " ms");

        assertEquals(200, control(demo, "delay=0ms&jitter=200ms").statusCode());
        assertEquals(200, TestSupport.json(shown(demo, "")).get("jitter ms").getAsLong());
        long longest = 0;
        for (int i = 0; i < 10; i++) {
            started = System.nanoTime();
            get(demo.url() + "/");
            longest = Math.max(longest, millis(started));
        }
        assertTrue(longest >= 20, "ten answers with up to 200 ms of jitter, the longest took " + longest + " ms");

        assertEquals(200, control(demo, "jitter=0ms&error-rate=1").statusCode());
        assertEquals(500, get(demo.url() + "/").statusCode());
        assertEquals(200, control(demo, "error-rate=0").statusCode());
        assertEquals(200, get(demo.url() + "/").statusCode());

        assertEquals(400, control(demo, "mode=sideways").statusCode(), "a bad value is refused");
        assertEquals(400, control(demo, "error-rate=2").statusCode());
    }

    @Test
    void aGetOnControlNeverChangesTheFaults() throws Exception {
        DemoServer demo = support.demo("d");
        HttpResponse<String> get = shown(demo, "?mode=hang&delay=5s&error-rate=1&kill=5s");
        assertEquals(200, get.statusCode(), get.body());
        assertEquals(DemoServer.Faults.NONE, demo.faults(), "a GET (a link, a prefetch, a crawler) only shows the faults");
        assertEquals(0, TestSupport.json(get).get("delay ms").getAsLong());
        assertEquals(200, get(demo.url() + "/health").statusCode(), "still listening: kill= on a GET did nothing");
    }

    @Test
    void controlModesResetResetMidBodyAndHang() throws Exception {
        DemoServer demo = support.demo("d");

        assertEquals(200, control(demo, "mode=reset").statusCode());
        assertThrows(IOException.class, () -> get(demo.url() + "/"), "mode=reset: no answer, a reset");

        assertEquals(200, control(demo, "mode=reset-mid-body").statusCode());
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), demo.port())) {
            socket.setSoTimeout(5_000);
            TestSupport.write(socket.getOutputStream(), "GET /half HTTP/1.1\r\nHost: d\r\n\r\n");
            InputStream in = socket.getInputStream();
            String head = TestSupport.readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
            assertTrue(length.find(), head);
            String body = TestSupport.readUntilClosed(in);
            assertTrue(body.length() > 0 && body.length() < Integer.parseInt(length.group(1)),
                    "half the promised " + length.group(1) + " bytes, then the connection ends: got " + body.length());
        }

        assertEquals(200, control(demo, "mode=hang").statusCode());
        assertThrows(HttpTimeoutException.class, () -> support.http.send(HttpRequest.newBuilder(URI.create(demo.url() + "/"))
                .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString()), "mode=hang: never answers");
        assertEquals(200, get(demo.url() + "/health").statusCode(), "/health answers whatever the mode");

        assertEquals(200, control(demo, "mode=ok").statusCode());
        assertEquals(200, get(demo.url() + "/").statusCode());
    }

    @Test
    void controlKillStopsListeningForAWhileThenComesBackOnTheSamePort() throws Exception {
        DemoServer demo = support.demo("d");
        assertEquals(200, control(demo, "kill=700ms").statusCode());
        TestSupport.await(() -> refuses(demo.port()), Duration.ofSeconds(5), "connections refused while it is down");
        TestSupport.await(() -> !refuses(demo.port()), Duration.ofSeconds(10), "listening again on port " + demo.port());
        assertEquals(200, get(demo.url() + "/").statusCode());
        assertNull(demo.revivalFailure());
    }

    @Test
    void aFailedRevivalIsReportedNotLost() throws Exception {
        DemoServer demo = support.demo("d");
        demo.stopListening();
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.setReuseAddress(true);
            squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), demo.port()));
            UncheckedIOException failure = assertThrows(UncheckedIOException.class, demo::listenAgain);
            assertTrue(failure.getMessage().contains("port " + demo.port()), failure.getMessage());
            assertNotNull(demo.revivalFailure());
        }
    }

    private static boolean refuses(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
