package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * What the proxy keeps per client connection (the connection cap's count, and its slot: the request-line tap the
 * access log reads parser refusals from, the byte counts, by socket and by peer) is let go when the connection
 * closes, on every kind of connection: the cap hooks Undertow's close listener, which each protocol's connection
 * sets at its own time (at once for plain HTTP/1.1, after the handshake and ALPN for TLS), and a connection whose
 * count is never given back would leave the cap closing live connections for room that is not taken.
 */
class ConnectionTrackingTest {
    private static final List<Integer> NOTHING_OPEN = List.of(0, 0);

    @Test
    void plainConnectionsAreLetGoWhenTheyClose() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(backend.url());
            for (int i = 0; i < 5; i++) {
                try (Socket client = TestSupport.connect(proxy)) {
                    TestSupport.write(client.getOutputStream(), "GET /kept HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertTrue(TestSupport.readOneResponse(client.getInputStream()).startsWith("HTTP/1.1 200"));
                }
                TestSupport.rawExchange(proxy.port(), "GET /\"refused HTTP/1.1\r\nHost: a\r\n\r\n");
                try (Socket silent = TestSupport.connect(proxy)) {
                    silent.getOutputStream().flush(); // connected, then closed without a byte
                }
            }
            awaitNothingOpen(proxy);
        }
    }

    @Test
    void tlsAndHttp2ConnectionsAreLetGoWhenTheyClose() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "round-robin", new RoundRobin(), List.of(backend.url()),
                    TestSupport.selfSignedTls());
            for (int i = 0; i < 5; i++) {
                try (Socket client = TestSupport.connect(proxy)) {
                    TestSupport.write(client.getOutputStream(), "GET /kept HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertTrue(TestSupport.readOneResponse(client.getInputStream()).startsWith("HTTP/1.1 200"));
                }
                try (Socket handshakeOnly = TestSupport.connect(proxy)) {
                    handshakeOnly.getOutputStream().flush();
                }
                try (Http2Client h2 = new Http2Client(h2(proxy))) {
                    h2.frame(Http2Client.HEADERS, Http2Client.END_STREAM | Http2Client.END_HEADERS, 1,
                            Http2Client.block(":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", "/h2"));
                }
                try (Socket plainOnTlsPort = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                    plainOnTlsPort.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
            }
            awaitNothingOpen(proxy);
            assertEquals(5, backend.completeRequests().stream().filter(request -> request.head().startsWith("GET /kept ")).count(),
                    "every HTTP/1.1 request over TLS was served");
        }
    }

    private static void awaitNothingOpen(ProxyServer proxy) throws InterruptedException {
        TestSupport.await(() -> NOTHING_OPEN.equals(proxy.connectionsTracked()), Duration.ofSeconds(10),
                "every closed connection let go by the cap: counted out and its slot dropped: " + proxy.connectionsTracked());
    }

    /** A TLS connection to {@code proxy} with h2 negotiated by ALPN. */
    private static SSLSocket h2(ProxyServer proxy) throws IOException {
        SSLSocket socket = (SSLSocket) TestSupport.trusting(proxy.tls()).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port());
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        parameters.setServerNames(List.of(new SNIHostName("localhost")));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        assertEquals("h2", socket.getApplicationProtocol());
        return socket;
    }
}
