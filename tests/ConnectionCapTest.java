package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * Issue 20: at {@code --max-client-conns}, a client holding every slot with idle keep-alive connections
 * must not lock everyone out. A newcomer is answered at once, an idle connection (between requests) is
 * closed to make room, as nginx does, and one mid-request or awaiting its answer never is. An upgraded
 * tunnel closes after its own idle timeout (HAProxy's {@code timeout tunnel}), and stays while bytes flow. An
 * HTTP/2 connection is idle, and reclaimable, while no stream is open on it, whatever frames come between streams.
 */
class ConnectionCapTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private final TestSupport support = new TestSupport();
    private final List<Socket> sockets = new ArrayList<>();
    private final CountDownLatch releaseSlow = new CountDownLatch(1);

    @AfterEach
    void stopEverything() throws IOException {
        releaseSlow.countDown();
        for (Socket socket : sockets) {
            socket.close();
        }
        support.close();
    }

    private static ProxySettings settings(int cap, Duration tunnelIdle) {
        ProxySettings d = ProxySettings.FOR_TESTS;
        ProxySettings.Listener l = d.listener();
        ProxySettings.Limits limits = d.limits();
        return new ProxySettings(new ProxySettings.Listener(l.bindAddress(), l.port(), l.ioThreads(), l.idleTimeout(), Duration.ofSeconds(2), tunnelIdle),
                d.timeouts(), new ProxySettings.Limits(limits.maxBodyBytes(), limits.maxHeaderBytes(), limits.maxResponseHeaderBytes(), cap),
                d.backends(), d.health());
    }

    /** Answers at once, except /slow..., which waits until the test releases it. */
    private RawBackend backend() throws IOException {
        return support.raw((connection, head) -> {
            if (head.startsWith("GET /slow")) {
                try {
                    releaseSlow.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestSupport.write(connection.getOutputStream(), OK);
        });
    }

    private Socket connect(ProxyServer proxy) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(5_000);
        sockets.add(socket);
        return socket;
    }

    /** A connection that has had one answer and now sits idle, kept alive. */
    private Socket idle(ProxyServer proxy, String path) throws IOException {
        Socket socket = connect(proxy);
        TestSupport.write(socket.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        String response = TestSupport.readOneResponse(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 200 "), response);
        return socket;
    }

    /** Whether the proxy closed (or reset) this connection; false if it is still open after {@code waitMillis}. */
    private static boolean closedByProxy(Socket socket, int waitMillis) throws IOException {
        socket.setSoTimeout(waitMillis);
        try {
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        }
    }

    /** Sends a request on a fresh connection, kept alive, and returns how long the answer took, in ms. */
    private long answeredAfterMillis(ProxyServer proxy, String path) throws IOException {
        long started = System.nanoTime();
        Socket fresh = connect(proxy);
        TestSupport.write(fresh.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        String response = TestSupport.readOneResponse(fresh.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 200 "), path + ": " + response);
        return (System.nanoTime() - started) / 1_000_000;
    }

    @Test
    void aFreshClientIsAnsweredAtOnceWhenIdleKeepAlivesFillTheCap() throws Exception {
        RawBackend backend = backend();
        ProxyServer proxy = support.proxy(settings(50, ProxySettings.Listener.TUNNEL_IDLE_DEFAULT), new RoundRobin(), List.of(backend.url()));
        List<Socket> holders = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            holders.add(idle(proxy, "/hold-" + i));
        }

        long millis = answeredAfterMillis(proxy, "/fresh");
        assertTrue(millis < 1_000, "a fresh client at the cap is answered within a second, not locked out: " + millis + " ms");
        assertTrue(backend.requestHeads().get(backend.requestHeads().size() - 1).startsWith("GET /fresh "), backend.requestHeads().toString());

        assertTrue(closedByProxy(holders.get(0), 2_000), "the connection idle longest made room");
        int closed = 1;
        for (Socket holder : holders.subList(1, holders.size())) {
            closed += closedByProxy(holder, 50) ? 1 : 0;
        }
        assertEquals(1, closed, "one connection over the cap, one idle connection closed");
    }

    @Test
    void aConnectionMidRequestOrAwaitingItsAnswerIsNeverTheOneClosed() throws Exception {
        RawBackend backend = backend();
        ProxyServer proxy = support.proxy(settings(20, ProxySettings.Listener.TUNNEL_IDLE_DEFAULT), new RoundRobin(), List.of(backend.url()));
        // The oldest connections, idle first: then half of them start a request head, half wait for an answer.
        List<Socket> sendingHeads = new ArrayList<>(), awaitingAnswers = new ArrayList<>(), idle = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sendingHeads.add(idle(proxy, "/first-" + i));
            awaitingAnswers.add(idle(proxy, "/first-" + (5 + i)));
        }
        for (int i = 0; i < 10; i++) {
            idle.add(idle(proxy, "/idle-" + i));
        }
        for (int i = 0; i < 5; i++) {
            TestSupport.write(sendingHeads.get(i).getOutputStream(), "GET /partial-" + i + " HTTP/1.1\r\nHost: lb.test\r\n");
            TestSupport.write(awaitingAnswers.get(i).getOutputStream(), "GET /slow-" + i + " HTTP/1.1\r\nHost: lb.test\r\n\r\n");
        }
        TestSupport.await(() -> backend.requestHeads().stream().filter(head -> head.startsWith("GET /slow-")).count() == 5,
                "the five slow requests reached the backend");
        Thread.sleep(300); // the partial heads reach the proxy (loopback: well within this)

        // Twelve newcomers, each kept alive: ten take the idle ones' places, the last two the first newcomers'.
        for (int i = 0; i < 12; i++) {
            long millis = answeredAfterMillis(proxy, "/fresh-" + i);
            assertTrue(millis < 1_000, "newcomer " + i + " answered within a second: " + millis + " ms");
        }
        for (Socket socket : idle) {
            assertTrue(closedByProxy(socket, 2_000), "every idle connection made room");
        }

        for (int i = 0; i < 5; i++) {
            TestSupport.write(sendingHeads.get(i).getOutputStream(), "\r\n");
            sendingHeads.get(i).setSoTimeout(5_000);
            String response = TestSupport.readOneResponse(sendingHeads.get(i).getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 "), "the connection that was sending its head was kept: " + response);
        }
        releaseSlow.countDown();
        for (Socket socket : awaitingAnswers) {
            socket.setSoTimeout(5_000);
            String response = TestSupport.readOneResponse(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 "), "the connection awaiting its answer got it: " + response);
        }
        for (int i = 0; i < 5; i++) {
            String path = "GET /partial-" + i + " ";
            assertTrue(backend.requestHeads().stream().anyMatch(head -> head.startsWith(path)), "the backend got " + path);
        }
    }

    /** Opens a WebSocket-style tunnel through the proxy to a backend that echoes every 4 bytes; the latch opens when the backend sees it end. */
    private Socket tunnel(ProxyServer proxy, CountDownLatch backendSawTheEnd) throws IOException {
        Socket client = connect(proxy);
        TestSupport.write(client.getOutputStream(), "GET /ws HTTP/1.1\r\nHost: lb.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
        String head = TestSupport.readHead(client.getInputStream());
        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        assertFalse(backendSawTheEnd.getCount() == 0, "the backend's side is still open");
        return client;
    }

    private RawBackend echoingTunnelBackend(CountDownLatch backendSawTheEnd) throws IOException {
        return support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            InputStream in = connection.getInputStream();
            try {
                for (byte[] frame; (frame = in.readNBytes(4)).length == 4; ) {
                    connection.getOutputStream().write(frame);
                    connection.getOutputStream().flush();
                }
            } catch (IOException e) {
                // reset by the proxy: the end too
            }
            backendSawTheEnd.countDown();
            connection.close();
        });
    }

    @Test
    void anIdleTunnelClosesAfterTheTunnelIdleTimeoutAndABusyOneStays() throws Exception {
        CountDownLatch backendSawTheEnd = new CountDownLatch(1);
        RawBackend backend = echoingTunnelBackend(backendSawTheEnd);
        ProxyServer proxy = support.proxy(settings(50, Duration.ofMillis(600)), new RoundRobin(), List.of(backend.url()));
        Socket client = tunnel(proxy, backendSawTheEnd);

        for (int i = 0; i < 8; i++) { // 8 x 200 ms: well past the 600 ms timeout, never silent that long
            TestSupport.write(client.getOutputStream(), "png" + i);
            assertEquals("png" + i, new String(client.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1));
            Thread.sleep(200);
        }
        long silentSince = System.nanoTime();
        assertTrue(closedByProxy(client, 5_000), "the silent tunnel is closed");
        long millis = (System.nanoTime() - silentSince) / 1_000_000;
        assertTrue(millis >= 350, "not before its idle timeout (600 ms after the last byte): " + millis + " ms");
        assertTrue(backendSawTheEnd.await(5, TimeUnit.SECONDS), "the backend's side of the tunnel is closed too");
    }

    /** An HTTP/2 connection over TLS (h2 by ALPN) that has had one answer on stream 1, then a PING: idle, with bytes after its last stream. */
    private Socket idleHttp2(ProxyServer proxy, String path, boolean waitForAnswer, List<Http2Client> clients) throws IOException {
        SSLSocket socket = (SSLSocket) TestSupport.trusting(proxy.tls()).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(5_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        assertEquals("h2", socket.getApplicationProtocol());
        sockets.add(socket);
        Http2Client client = new Http2Client(socket);
        clients.add(client);
        client.headers(1, true, Http2Client.get(path));
        if (waitForAnswer) {
            assertEquals("status 200", client.outcome(1), path);
            client.frame(Http2Client.PING, 0, 0, new byte[8]); // traffic between streams does not make it busy
        }
        return socket;
    }

    /** Whether the proxy closed this connection, reading and dropping whatever frames come first; false if still open after {@code waitMillis}. */
    private static boolean drainedUntilClosed(Socket socket, int waitMillis) throws IOException {
        socket.setSoTimeout(waitMillis);
        byte[] buffer = new byte[4096];
        try {
            for (int i = 0; i < 1_000; i++) {
                if (socket.getInputStream().read(buffer) < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void anIdleHttp2ConnectionIsReclaimedAndOneWithAStreamOpenIsNot() throws Exception {
        RawBackend backend = backend();
        ProxyServer proxy = support.proxy(settings(4, ProxySettings.Listener.TUNNEL_IDLE_DEFAULT), "RoundRobin", new RoundRobin(), List.of(backend.url()),
                TestSupport.selfSignedTls());
        List<Http2Client> clients = new ArrayList<>();
        Socket oldestIdle = idleHttp2(proxy, "/h2-first", true, clients);
        Socket streamOpen = idleHttp2(proxy, "/slow-h2", false, clients);
        TestSupport.await(() -> backend.requestHeads().stream().anyMatch(head -> head.startsWith("GET /slow-h2 ")), "the slow stream reached the backend");
        Socket nextIdle = idleHttp2(proxy, "/h2-second", true, clients);
        Socket http1 = TestSupport.connect(proxy);
        sockets.add(http1);
        TestSupport.write(http1.getOutputStream(), "GET /http1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertTrue(TestSupport.readOneResponse(http1.getInputStream()).startsWith("HTTP/1.1 200 "));
        Thread.sleep(200); // the PINGs reach the proxy (loopback: well within this)

        try (Socket fresh = TestSupport.connect(proxy)) {
            TestSupport.write(fresh.getOutputStream(), "GET /fresh HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertTrue(TestSupport.readUntilClosed(fresh.getInputStream()).startsWith("HTTP/1.1 200 "), "the newcomer is served at the cap");
        }
        assertTrue(drainedUntilClosed(oldestIdle, 2_000), "the HTTP/2 connection idle longest made room, PING or not");
        assertFalse(drainedUntilClosed(nextIdle, 300), "one over the cap, one closed");
        assertFalse(drainedUntilClosed(http1, 50), "one over the cap, one closed");

        releaseSlow.countDown();
        streamOpen.setSoTimeout(5_000);
        assertEquals("status 200", clients.get(1).outcome(1), "the HTTP/2 connection with a stream open was never the one closed");
        List<String> paths = backend.requestHeads().stream().map(head -> head.split(" ")[1]).sorted().toList();
        assertEquals(List.of("/fresh", "/h2-first", "/h2-second", "/http1", "/slow-h2"), paths);
    }

    @Test
    void closedTlsConnectionsLeaveTheCountWhicheverProtocolAlpnChose() throws Exception {
        RawBackend backend = backend();
        ProxyServer proxy = support.proxy(settings(3, ProxySettings.Listener.TUNNEL_IDLE_DEFAULT), "RoundRobin", new RoundRobin(), List.of(backend.url()),
                TestSupport.selfSignedTls());
        // Six connections come and go: HTTP/1.1 (no ALPN offered, so ALPN's fallback) and h2 by ALPN, each closed after one answer.
        for (int i = 0; i < 6; i++) {
            if (i % 2 == 0) {
                try (Socket gone = TestSupport.connect(proxy)) {
                    TestSupport.write(gone.getOutputStream(), "GET /gone-" + i + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                    assertTrue(TestSupport.readUntilClosed(gone.getInputStream()).startsWith("HTTP/1.1 200 "));
                }
            } else {
                idleHttp2(proxy, "/gone-h2-" + i, true, new ArrayList<>()).close();
            }
        }
        Thread.sleep(300); // their closes reach the proxy (loopback: well within this)
        List<Socket> kept = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Socket socket = TestSupport.connect(proxy);
            sockets.add(socket);
            TestSupport.write(socket.getOutputStream(), "GET /kept-" + i + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(TestSupport.readOneResponse(socket.getInputStream()).startsWith("HTTP/1.1 200 "));
            kept.add(socket);
        }
        for (Socket socket : kept) {
            assertFalse(closedByProxy(socket, 300), "three open connections are within a cap of three: the closed ones must have left the count");
        }
        assertEquals(9, backend.requestHeads().size());
    }
}
