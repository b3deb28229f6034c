package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import model.Backend;
import model.HealthSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * Failures the client causes are the client's: a request body that stops arriving gets 408 after
 * --body-timeout and its backend connection closed without a complete request; disguised
 * Transfer-Encodings and abandoned half-sent POSTs eject no backend (passive health counts only what
 * backends do), and every backend keeps taking traffic afterwards.
 */
class ClientCausedFailuresTest {
    private static final String HEAD = "POST /upload HTTP/1.1\r\nHost: front.test\r\n";
    private final TestSupport support = new TestSupport();
    private final RecordingBackend a;
    private final RecordingBackend b;

    ClientCausedFailuresTest() throws Exception {
        a = new RecordingBackend();
        b = new RecordingBackend();
    }

    @AfterEach
    void stopEverything() throws Exception {
        support.close();
        a.close();
        b.close();
    }

    private ProxyServer proxy(Duration bodyTimeout, RecordingBackend... backends) {
        List<String> urls = java.util.Arrays.stream(backends).map(RecordingBackend::url).toList();
        return support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), ProxySettings.Timeouts.DEFAULTS.response(), bodyTimeout),
                ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS), new RoundRobin(), urls);
    }

    @Test
    void aLengthDelimitedBodyThatStallsGets408AndItsBackendConnectionClosed() throws Exception {
        ProxyServer proxy = proxy(Duration.ofMillis(300), a);
        try (Socket client = connect(proxy)) {
            TestSupport.write(client.getOutputStream(), HEAD + "Content-Length: 10\r\n\r\nhello"); // and never the other 5 bytes
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
            assertTrue(response.contains("408 Request Timeout: the request body stopped arriving (--body-timeout)"), response);
            assertTrue(isClosedByPeer(client.getInputStream()), "the proxy closes the connection after a 408");
        }
        awaitTrue(() -> a.connections().size() == 1 && a.connections().get(0).isClosed(), "the backend connection is closed");
        assertEquals(1, a.requests().size(), "the head went out");
        assertFalse(a.requests().get(0).complete(), "but never a complete request");
        awaitTrue(() -> proxy.pool().all().get(0).inFlight() == 0, "the request is no longer in flight");
    }

    @Test
    void aChunkedBodyThatStallsGets408AndNoTerminatingChunkReachesTheBackend() throws Exception {
        ProxyServer proxy = proxy(Duration.ofMillis(300), a);
        try (Socket client = connect(proxy)) {
            TestSupport.write(client.getOutputStream(), HEAD + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
            assertTrue(isClosedByPeer(client.getInputStream()));
        }
        awaitTrue(() -> a.connections().size() == 1 && a.connections().get(0).isClosed(), "the backend connection is closed");
        assertEquals(List.of(), a.completeRequests());
        assertFalse(a.allBytes().contains("\r\n0\r\n\r\n"), a.allBytes());
    }

    @Test
    void aBodyThatNeverStartsGets408() throws Exception {
        ProxyServer proxy = proxy(Duration.ofMillis(300), a);
        try (Socket client = connect(proxy)) {
            TestSupport.write(client.getOutputStream(), HEAD + "Content-Length: 5\r\n\r\n");
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 408 "), response);
        }
        awaitTrue(() -> a.connections().stream().allMatch(RecordingBackend.Connection::isClosed), "the backend connection is closed");
        assertEquals(List.of(), a.completeRequests());
    }

    @Test
    void aSlowBodyThatKeepsArrivingIsNotCutOff() throws Exception {
        ProxyServer proxy = proxy(Duration.ofSeconds(1), a);
        try (Socket client = connect(proxy)) {
            TestSupport.write(client.getOutputStream(), HEAD + "Content-Length: 12\r\n\r\n");
            for (int i = 0; i < 12; i++) { // 12 bytes, 150 ms apart: longer in all than the timeout, never idle that long
                Thread.sleep(150);
                TestSupport.write(client.getOutputStream(), "x");
            }
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        }
        assertEquals(1, a.completeRequests().size());
        assertEquals("x".repeat(12), a.completeRequests().get(0).body());
    }

    @Test
    void disguisedCodingsAndAbandonedUploadsEjectNoBackend() throws Exception {
        ProxyServer proxy = proxy(Duration.ofSeconds(60), a, b);

        for (int i = 0; i < 8; i++) {
            try (Socket client = connect(proxy)) {
                TestSupport.write(client.getOutputStream(), HEAD + "Transfer-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 501 "), response);
            }
        }
        assertEquals("", a.allBytes() + b.allBytes(), "a refused coding reaches no backend");

        for (int i = 0; i < 8; i++) {
            Socket client = connect(proxy);
            TestSupport.write(client.getOutputStream(), HEAD + "Content-Length: 100\r\n\r\n" + "y".repeat(40));
            int seen = i + 1;
            // Abandon it once the proxy has forwarded what it got: the backend then holds half a request.
            awaitTrue(() -> (a.allBytes() + b.allBytes()).split("y".repeat(40), -1).length - 1 == seen, "half upload " + seen + " forwarded");
            if (i % 2 == 0) {
                client.setSoLinger(true, 0); // every other client resets rather than closes
            }
            client.close();
            awaitTrue(() -> a.connections().stream().allMatch(RecordingBackend.Connection::isClosed)
                    && b.connections().stream().allMatch(RecordingBackend.Connection::isClosed)
                    && a.requests().size() + b.requests().size() == seen, "backend connection " + seen + " closed");
        }
        awaitTrue(() -> proxy.pool().all().stream().allMatch(backend -> backend.inFlight() == 0), "nothing left in flight");
        assertEquals(List.of(), a.completeRequests(), "no abandoned upload may reach a backend as a complete request");
        assertEquals(List.of(), b.completeRequests());

        for (Backend backend : proxy.pool().all()) {
            assertFalse(backend.health().isEjected(), backend.name() + " was ejected for what clients did");
        }
        assertEquals(2, proxy.pool().eligible().size());
        assertTrue(proxy.events().recent().stream().noneMatch(event -> event.text().contains("ejected")), proxy.events().recent().toString());

        for (int i = 0; i < 4; i++) {
            assertEquals(200, support.get(proxy, "/after").statusCode());
        }
        assertEquals(2, a.completeRequests().size(), "a still takes its share");
        assertEquals(2, b.completeRequests().size(), "b still takes its share");
    }

    private static Socket connect(ProxyServer proxy) throws Exception {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(5_000);
        return socket;
    }

    private static boolean isClosedByPeer(InputStream in) throws Exception {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }
}
