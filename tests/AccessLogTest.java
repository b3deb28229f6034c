package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import model.Backend;
import org.junit.jupiter.api.Test;
import proxy.observe.AccessLog;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;

/**
 * The access log as a record of what arrived: the request target exactly as the client sent it (never decoded, never
 * the path a route rewrote), and the request time in seconds where the combined format says seconds.
 */
class AccessLogTest {
    @Test
    void theTargetIsLoggedAsReceived() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(backend.url());
            List<CompletedRequest> seen = TestSupport.observe(proxy);
            for (String target : List.of("/%2e%2e/etc/passwd", "/a%20b?x=%41&y=1")) {
                String response = TestSupport.rawExchange(proxy.port(), "GET " + target + " HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n");
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
            }
            TestSupport.await(() -> seen.size() == 2, Duration.ofSeconds(5), "both requests reported");
            assertEquals("/%2e%2e/etc/passwd", seen.get(0).path(), "not /../etc/passwd: the backend got the raw bytes, the log says so");
            assertEquals("/a%20b", seen.get(1).path());
            assertEquals("x=%41&y=1", seen.get(1).query());
            assertTrue(backend.completeRequests().get(0).head().startsWith("GET /%2e%2e/etc/passwd HTTP/1.1\r\n"));
        }
    }

    @Test
    void theCombinedFormatSaysSecondsAndJsonMilliseconds() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AccessLog log = new AccessLog(AccessLog.Format.COMBINED, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        AccessLog json = new AccessLog(AccessLog.Format.JSON, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        CompletedRequest slow = new CompletedRequest("203.0.113.9", "GET", "/slow", "", 200, 2, 0, 1_500_000_000L,
                Backend.of("http://127.0.0.1:9001"), 1, "HTTP/1.1", null, "curl", List.of(), "default", "default");
        log.completed(slow);
        json.completed(slow);
        log.close();
        json.close();
        String written = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(written.contains(" request_time=1.500 "), "1.5 s is request_time=1.500, seconds as nginx's $request_time: " + written);
        assertTrue(written.contains("\"ms\":1500.000"), written);
    }
}
