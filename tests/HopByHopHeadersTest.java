package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;

/**
 * Connection-level headers stay on their own hop, in both directions. Checked on raw sockets at both
 * ends, since an HTTP client or server library would hide or add some of these headers itself.
 */
class HopByHopHeadersTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void requestHopByHopHeadersAreNotForwarded() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer(OK));
        ProxyServer proxy = support.proxy(backend.url());

        String response = TestSupport.rawExchange(proxy.port(), "GET /x HTTP/1.1\r\n"
                + "Host: example.test\r\n"
                + "Connection: close, X-Per-Hop\r\n"
                + "X-Per-Hop: secret\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "Proxy-Connection: keep-alive\r\n"
                + "TE: trailers\r\n"
                + "Upgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
                + "X-End-To-End: kept\r\n"
                + "\r\n");

        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        String forwarded = backend.requestHeads().get(0).toLowerCase(Locale.ROOT);
        for (String name : new String[] {"x-per-hop:", "keep-alive:", "proxy-connection:", "te:", "upgrade:", "http2-settings:"}) {
            assertFalse(forwarded.contains("\r\n" + name), name + " reached the backend:\n" + forwarded);
        }
        assertFalse(forwarded.contains("h2c"), forwarded);
        assertTrue(forwarded.contains("\r\nx-end-to-end: kept\r\n"), forwarded);
        assertTrue(forwarded.contains("\r\nhost: example.test\r\n"), forwarded);
    }

    @Test
    void connectionCannotRemoveHostTheFramingOrTheForwardingFields() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer(OK));
        ProxyServer proxy = support.proxy(backend.url());
        for (String connection : new String[] {"Host, X-Per-Hop, close", "close, host, x-per-hop", "close, Host, X-Forwarded-For, X-Forwarded-Proto, "
                + "X-Forwarded-Host, X-Forwarded-Port, Forwarded, Content-Length, X-Per-Hop"}) {
            String response = TestSupport.rawExchange(proxy.port(), "POST /h HTTP/1.1\r\nHost: example.test:8081\r\nConnection: " + connection
                    + "\r\nX-Per-Hop: gone\r\nContent-Length: 2\r\n\r\nhi");
            assertTrue(response.startsWith("HTTP/1.1 200"), connection + ": " + response);
        }
        for (String head : backend.requestHeads()) {
            String forwarded = head.toLowerCase(Locale.ROOT);
            assertTrue(forwarded.contains("\r\nhost: example.test:8081\r\n"), "Host survives being named in Connection:\n" + head);
            assertTrue(forwarded.contains("\r\ncontent-length: 2\r\n"), head);
            assertTrue(forwarded.contains("\r\nx-forwarded-for: 127.0.0.1\r\n") && forwarded.contains("\r\nx-forwarded-proto: http\r\n")
                    && forwarded.contains("\r\nx-forwarded-host: "), "the proxy's forwarding fields are the proxy's:\n" + head);
            assertFalse(forwarded.contains("x-per-hop"), "any other field named in Connection goes:\n" + head);
            assertFalse(forwarded.contains("\r\nconnection: host"), head);
        }
        assertEquals(3, backend.requestHeads().size());
    }

    @Test
    void responseHopByHopHeadersAreNotReturned() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\n"
                + "Connection: X-Backend-Hop\r\n"
                + "X-Backend-Hop: internal\r\n"
                + "Keep-Alive: timeout=5, max=100\r\n"
                + "Proxy-Connection: keep-alive\r\n"
                + "Upgrade: h2c\r\n"
                + "X-End-To-End: kept\r\n"
                + "Content-Length: 2\r\n\r\nok"));
        ProxyServer proxy = support.proxy(backend.url());

        String response = TestSupport.rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .toLowerCase(Locale.ROOT);

        assertTrue(response.startsWith("http/1.1 200"), response);
        for (String name : new String[] {"x-backend-hop:", "keep-alive:", "proxy-connection:", "upgrade:"}) {
            assertFalse(response.contains("\r\n" + name), name + " reached the client:\n" + response);
        }
        assertTrue(response.contains("\r\nx-end-to-end: kept\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\nok"), response);
    }

    @Test
    void backendClosingItsConnectionDoesNotCloseTheClients() throws Exception {
        RawBackend backend = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            connection.close();
        });
        ProxyServer proxy = support.proxy(backend.url());

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            for (int i = 1; i <= 3; i++) {
                TestSupport.write(out, "GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                String response = TestSupport.readOneResponse(in);
                assertTrue(response.startsWith("HTTP/1.1 200"), "request " + i + " on the same client connection: " + response);
                assertFalse(response.toLowerCase(Locale.ROOT).contains("connection: close"), response);
            }
        }
        assertEquals(3, backend.requestHeads().size());
    }

    @Test
    void theRequestLineReachesTheBackendByteForByte() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer(OK));
        ProxyServer proxy = support.proxy(backend.url());

        String target = "/a%2Fb/c%20d/%E2%82%AC;v=1?q=%26x%3D1&empty=&flag";
        TestSupport.rawExchange(proxy.port(), "DELETE " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

        String requestLine = backend.requestHeads().get(0).lines().findFirst().orElse("");
        assertEquals("DELETE " + target + " HTTP/1.1", requestLine);
    }

    @Test
    void expectContinueIsHonouredAndTheBodyStillArrives() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = support.proxy(backend.url());

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            TestSupport.write(client.getOutputStream(),
                    "PUT /doc HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            String interim = TestSupport.readHead(client.getInputStream());
            assertTrue(interim.startsWith("HTTP/1.1 100"), "the client is told to go on before sending its body: " + interim);
            TestSupport.write(client.getOutputStream(), "hello");
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertTrue(response.contains("\"bodyLength\":5"), response);
        }
    }
}
