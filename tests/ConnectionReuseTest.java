package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * Connections, counted where they happen: the proxy reuses keep-alive connections to a backend
 * (connections accepted there vs requests served); a client's {@code Connection: close} closes its
 * connection after the response even with more tokens in the header; and a request that reached a
 * backend which reset is sent to a second backend only when its method is idempotent (counted as
 * executions at the backends), and a GET is, unless its body has already been streamed.
 */
class ConnectionReuseTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void requestsToABackendReuseItsKeepAliveConnections() throws Exception {
        RawBackend backend = support.raw(RawBackend.answer(OK));
        ProxyServer proxy = support.proxy(backend.url());
        for (int i = 0; i < 20; i++) {
            assertEquals(200, support.get(proxy, "/r?i=" + i).statusCode());
        }
        assertEquals(20, backend.requestHeads().size());
        // One client connection lands on one IO thread, whose pool keeps one connection busy at a time;
        // a connection per request would show twenty.
        assertTrue(backend.acceptedConnections() <= 2, backend.acceptedConnections() + " connections for 20 sequential requests");
    }

    @ParameterizedTest(name = "Connection: {0}")
    @ValueSource(strings = {"close", "close, X-Trace", "X-Trace, close"})
    void aClientsConnectionCloseClosesTheConnectionAfterTheResponse(String connection) throws Exception {
        DemoServer backend = support.demo("a");
        ProxyServer proxy = support.proxy(backend.url());
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            socket.setSoTimeout(3_000); // a missed close is a SocketTimeoutException: a failure, not a wait
            TestSupport.write(socket.getOutputStream(), "GET /c HTTP/1.1\r\nHost: lb\r\nConnection: " + connection + "\r\nX-Trace: 1\r\n\r\n");
            InputStream in = socket.getInputStream();
            String response = TestSupport.readOneResponse(in);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertEquals(-1, in.read(), "the proxy closed the connection after the response");
        }
        assertEquals(1, backend.requestCount());
    }

    @ParameterizedTest(name = "{0} without a body")
    @ValueSource(strings = {"POST", "PATCH"})
    void aNonIdempotentRequestIsNotSentToASecondBackendAfterAReset(String method) throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        DemoServer other = support.demo("other");
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(resetting.url(), other.url()));

        HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/order")
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(502, response.statusCode(), "the backend may have acted on it: the client is told, not a second backend");
        assertEquals(1, resetting.requestHeads().size());
        assertTrue(resetting.requestHeads().get(0).startsWith(method + " /order"), resetting.requestHeads().get(0));
        assertEquals(0, other.requestCount(), method + " executed on a second backend");
    }

    @Test
    void aGetIsRetriedOnASecondBackendAfterAReset() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        DemoServer other = support.demo("other");
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(resetting.url(), other.url()));

        HttpResponse<String> response = support.get(proxy, "/search");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("other", TestSupport.json(response).get("backend").getAsString());
        assertEquals(1, resetting.requestHeads().size());
        assertEquals(1, other.requestCount());
    }

    @Test
    void aGetWhoseBodyWasAlreadyStreamedIsNotReplayed() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        DemoServer other = support.demo("other");
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(resetting.url(), other.url()));

        HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/search")
                .method("GET", HttpRequest.BodyPublishers.ofString("q=x")).build(), HttpResponse.BodyHandlers.ofString());

        // The README: retried elsewhere only if idempotent AND its body was not streamed already; a body
        // is forwarded byte for byte or not at all, and the proxy keeps no copy to send twice.
        assertEquals(502, response.statusCode(), response.body());
        assertEquals(1, resetting.requestHeads().size());
        assertEquals(0, other.requestCount(), "no second backend got a GET without the body it came with");
    }

    /**
     * Issue 20: the body really streams here (half of it arrives only after the first backend has the head),
     * and the first backend reads all of it, then resets. Had the proxy kept the body replayable, it would
     * now send this GET to the second backend, with a body it no longer has. It must not: the second backend
     * receives no byte, and the client gets a 502.
     */
    @Test
    void aGetWhoseBodyWasStreamedIsNeverSentToASecondBackend() throws Exception {
        RawBackend resetting = support.raw((connection, head) -> {
            connection.getInputStream().readNBytes(10); // the whole body, so the proxy has sent all of it
            RawBackend.RESET.answer(connection, head);
        });
        try (RecordingBackend second = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(resetting.url(), second.url()));
            String response;
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                client.setSoTimeout(10_000);
                TestSupport.write(client.getOutputStream(), "GET /search HTTP/1.1\r\nHost: lb.test\r\nContent-Length: 10\r\n\r\nq=");
                long deadline = System.nanoTime() + 2_000_000_000L; // a proxy that buffers bodies would wait for the rest: send it after 2 s
                while (resetting.requestHeads().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                try {
                    TestSupport.write(client.getOutputStream(), "streaming");
                } catch (java.io.IOException e) {
                    // the proxy may already have given up on this request's body
                }
                response = TestSupport.readOneResponse(client.getInputStream());
            }
            Thread.sleep(300); // a resend would follow at once; give it the time to show
            assertEquals("", second.allBytes(), "no second backend got a GET whose body had streamed");
            assertEquals(0, second.connections().size(), "no second backend was even tried: there is no body left to send it");
            assertTrue(response.startsWith("HTTP/1.1 502 "), response);
            assertEquals(1, resetting.requestHeads().size());
        }
    }
}
