package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import model.HealthSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/** Oversized or never-finished requests get a clear refusal or a closed connection, never a hang. */
class RequestLimitsTest {
    private static final ProxySettings SMALL_LIMITS = new ProxySettings(new ProxySettings.Listener("127.0.0.1", 0, 1, Duration.ofMillis(700), Duration.ofSeconds(2)),
            new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), Duration.ofSeconds(10), ProxySettings.Timeouts.DEFAULTS.body()),
            new ProxySettings.Limits(1024, 4096, ProxySettings.Limits.DEFAULTS.maxResponseHeaderBytes(),
                    ProxySettings.Limits.DEFAULTS.maxClientConnections()), ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS);
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    private ProxyServer proxyWithSmallLimits(DemoServer backend) {
        return support.proxy(SMALL_LIMITS, new RoundRobin(), List.of(backend.url()));
    }

    @Test
    void bodyOverTheLimitIs413BeforeAnythingReachesTheBackend() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = proxyWithSmallLimits(backend);

        HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1025])).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(413, response.statusCode());
        assertTrue(response.body().startsWith("413 Content Too Large"), response.body());
        assertEquals(0, backend.requestCount());

        HttpResponse<String> atTheLimit = support.http.send(TestSupport.request(proxy, "/")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1024])).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, atTheLimit.statusCode());
    }

    @Test
    void chunkedBodyThatGrowsOverTheLimitIsCutOff() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = proxyWithSmallLimits(backend);

        StringBuilder request = new StringBuilder("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 4; i++) {
            request.append("200\r\n").append("x".repeat(0x200)).append("\r\n"); // 4 × 512 bytes: twice the limit
        }
        request.append("0\r\n\r\n");
        long started = System.nanoTime();
        String response = TestSupport.rawExchange(proxy.port(), request.toString());
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertTrue(!response.startsWith("HTTP/1.1 200"), "a body over the limit must not be answered 200: " + response);
        assertTrue(millis < 4_000, "took " + millis + " ms");
    }

    @Test
    void headersOverTheLimitAreRefused() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = proxyWithSmallLimits(backend);

        String response = TestSupport.rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "y".repeat(8000) + "\r\n\r\n");

        assertTrue(response.startsWith("HTTP/1.1 431") || response.startsWith("HTTP/1.1 400"), "got: " + response);
        assertEquals(0, backend.requestCount());
    }

    @Test
    void aClientThatNeverFinishesItsHeadersIsDisconnected() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = proxyWithSmallLimits(backend);

        try (Socket slowloris = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            slowloris.setSoTimeout(5_000);
            TestSupport.write(slowloris.getOutputStream(), "GET / HTTP/1.1\r\nHost: a\r\n"); // and never the blank line
            long started = System.nanoTime();
            InputStream in = slowloris.getInputStream();
            TestSupport.readUntilClosed(in);
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(millis < 4_000, "closed after " + millis + " ms; the idle timeout is 700 ms");
        }
        assertEquals(0, backend.requestCount());
    }

    @Test
    void pastTheConnectionCapANewClientWaitsOnlyWhileNoneIsIdle() throws Exception {
        DemoServer backend = support.demo("only");
        ProxySettings threeConnections = new ProxySettings(ProxySettings.Listener.FOR_TESTS, ProxySettings.Timeouts.DEFAULTS,
                new ProxySettings.Limits(ProxySettings.Limits.DEFAULTS.maxBodyBytes(), ProxySettings.Limits.DEFAULTS.maxHeaderBytes(),
                        ProxySettings.Limits.DEFAULTS.maxResponseHeaderBytes(), 3),
                ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS);
        ProxyServer proxy = support.proxy(threeConnections, new RoundRobin(), List.of(backend.url()));
        // Three connections plus one per IO thread (room for a newcomer to come in and close an idle one),
        // every one of them in the middle of its request head: none may be closed to make room.
        int busy = 3 + ProxySettings.Listener.FOR_TESTS.ioThreads();
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < busy; i++) {
                Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
                open.add(client);
                client.setSoTimeout(10_000);
                TestSupport.write(client.getOutputStream(), "GET /busy-" + i + " HTTP/1.1\r\nHost: a\r\n");
            }
            Socket newcomer = new Socket(InetAddress.getLoopbackAddress(), proxy.port()); // the kernel completes the handshake
            open.add(newcomer);
            TestSupport.write(newcomer.getOutputStream(), "GET /newcomer HTTP/1.1\r\nHost: a\r\n\r\n");
            newcomer.setSoTimeout(700);
            assertThrows(SocketTimeoutException.class, () -> newcomer.getInputStream().read(), "every connection is mid-request: the newcomer must wait");
            assertEquals(0, backend.requestCount());

            // One finishes its request: answered, then idle over the cap, so it makes room for the newcomer.
            TestSupport.write(open.get(0).getOutputStream(), "\r\n");
            assertTrue(TestSupport.readOneResponse(open.get(0).getInputStream()).startsWith("HTTP/1.1 200 "));
            newcomer.setSoTimeout(10_000);
            String answer = TestSupport.readOneResponse(newcomer.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 200 ") && answer.contains("\"path\":\"/newcomer\""), answer);
            for (int i = 1; i < busy; i++) {
                TestSupport.write(open.get(i).getOutputStream(), "\r\n");
                assertTrue(TestSupport.readOneResponse(open.get(i).getInputStream()).startsWith("HTTP/1.1 200 "), "busy-" + i + " was kept");
            }
        } finally {
            for (Socket socket : open) {
                socket.close();
            }
        }
    }
}
