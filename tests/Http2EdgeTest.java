package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import proxy.listen.ProtocolSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import tls.ServerTls;

/**
 * HTTP/2 at the front, attacked with raw frames (RFC 9113 §8.2, §8.3): every field an HTTP/1.1 backend must not
 * see is refused, by Undertow's parser (a reset stream or connection) or by {@code Http2RequestGuard} (400), and
 * nothing reaches the backend; a body that disagrees with its content-length never reaches it complete; rapid
 * reset (CVE-2023-44487) and a CONTINUATION flood cut off the attacker's connection while a new client is served;
 * real clients get h2 by ALPN, and h2c by prior knowledge only where it is switched on; an HTTP/1.1
 * {@code Upgrade: h2c} is never forwarded.
 */
class Http2EdgeTest {
    private static final String[] PSEUDO = {":method", "GET", ":scheme", "https", ":authority", "localhost"};

    private record Refused(String name, String... fields) {}

    private static String[] with(String path, String... extra) {
        return Http2Client.get(path, extra);
    }

    private static List<Refused> refused() {
        return List.of(
                new Refused("connection", with("/c", "connection", "keep-alive")),
                new Refused("keep-alive", with("/k", "keep-alive", "5")),
                new Refused("proxy-connection", with("/p", "proxy-connection", "close")),
                new Refused("transfer-encoding", with("/t", "transfer-encoding", "chunked")),
                new Refused("upgrade", with("/u", "upgrade", "websocket")),
                new Refused("te other than trailers", with("/te", "te", "gzip")),
                new Refused("upper-case name", with("/uc", "X-Upper", "a")),
                new Refused("CR in a name", with("/crn", "x-a\rb", "a")),
                new Refused("space before a name", with("/spn", " x-a", "a")),
                new Refused("CR in a value", with("/crv", "x-a", "a\rb")),
                new Refused("LF in a value", with("/lfv", "x-a", "a\nb")),
                new Refused("NUL in a value", with("/nul", "x-a", "a\0b")),
                new Refused("leading space in a value", with("/lead", "x-a", " a")),
                new Refused("trailing tab in a value", with("/trail", "x-a", "a\t")),
                new Refused("no :path", PSEUDO),
                new Refused("no :method", ":scheme", "https", ":authority", "localhost", ":path", "/m"),
                new Refused(":path twice", ":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", "/a", ":path", "/b"),
                new Refused("unknown pseudo-header", ":method", "GET", ":scheme", "https", ":authority", "localhost", ":path", "/u", ":foo", "x"),
                new Refused("pseudo-header after a field", ":method", "GET", ":scheme", "https", ":authority", "localhost", "x-a", "b", ":path", "/late"));
    }

    @TestFactory
    Stream<DynamicTest> everyMalformedFieldIsRefusedAndReachesNoBackend() {
        return refused().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
                ProxyServer proxy = h2Proxy(support, backend.url());
                try (Http2Client client = new Http2Client(h2(proxy))) {
                    client.headers(1, true, c.fields());
                    String outcome = client.outcome(1);
                    assertTrue(outcome.equals("status 400") || outcome.startsWith("RST_STREAM(1)") || outcome.startsWith("GOAWAY(1)"),
                            c.name() + ": a refusal, got " + outcome);
                }
                Thread.sleep(50); // a request that slipped through would have reached the backend by now
                assertEquals("", backend.allBytes(), c.name() + ": nothing may reach the backend");
            }
        }));
    }

    @Test
    void cleanFieldsAndTeTrailersGoThrough() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = h2Proxy(support, backend.url());
            try (Http2Client client = new Http2Client(h2(proxy))) {
                client.headers(1, true, with("/fine?q=1", "te", "trailers", "x-inner", "a b"));
                assertEquals("status 200", client.outcome(1));
            }
            String head = backend.completeRequests().get(0).head();
            assertTrue(head.startsWith("GET /fine?q=1 HTTP/1.1\r\n"), head);
            assertTrue(head.contains("\r\nx-inner: a b\r\n") && head.contains("\r\nHost: localhost\r\n"), head);
            assertFalse(head.toLowerCase().contains("\r\nte:"), "TE is hop-by-hop: " + head);
        }
    }

    @Test
    void aBodyThatDisagreesWithItsContentLengthNeverReachesTheBackendComplete() throws Exception {
        String[][] cases = {{"10", "hello"}, {"5", "hello world"}, {"1", "ab"}};
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = h2Proxy(support, backend.url());
            for (String[] c : cases) {
                try (Http2Client client = new Http2Client(h2(proxy))) {
                    client.headers(1, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path", "/len", "content-length", c[0]);
                    client.frame(Http2Client.DATA, Http2Client.END_STREAM, 1, c[1].getBytes(StandardCharsets.US_ASCII));
                    String outcome = client.outcome(1);
                    assertFalse(outcome.startsWith("status 200"), "content-length " + c[0] + " with " + c[1].length() + " bytes: " + outcome);
                }
            }
            Thread.sleep(200);
            assertEquals(0, backend.completeRequests().size(), "no complete request: " + backend.requests());
            assertTrue(backend.connections().stream().allMatch(RecordingBackend.Connection::isClosed), "each aborted backend connection is closed");

            try (Http2Client client = new Http2Client(h2(proxy))) {
                client.headers(3, false, ":method", "POST", ":scheme", "https", ":authority", "localhost", ":path", "/len", "content-length", "5");
                client.frame(Http2Client.DATA, 0, 3, "hel".getBytes(StandardCharsets.US_ASCII));
                client.frame(Http2Client.DATA, Http2Client.END_STREAM, 3, "lo".getBytes(StandardCharsets.US_ASCII));
                assertEquals("status 200", client.outcome(3), "a matching length in two DATA frames goes through");
            }
            assertEquals("hello", backend.completeRequests().get(0).body());
        }
    }

    @Test
    void rapidResetAndContinuationFloodsCutOffTheAttackerOnly() throws Exception {
        // A real server behind (Undertow's backlog, not a test socket's 50): the streams the attacker opens before
        // it is cut off do reach it, as they would any backend, and must not overload it.
        try (TestSupport support = new TestSupport()) {
            ProxyServer proxy = h2Proxy(support, support.demo("behind").url());
            List<proxy.observe.CompletedRequest> completed = TestSupport.observe(proxy);
            int sent = 0;
            String outcome;
            try (Http2Client attacker = new Http2Client(h2(proxy))) {
                try {
                    for (int stream = 1; stream < 20_000; stream += 2) {
                        attacker.headers(stream, true, Http2Client.get("/reset"));
                        attacker.frame(Http2Client.RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}); // CANCEL
                        sent++;
                    }
                    outcome = attacker.outcome(Integer.MAX_VALUE);
                } catch (IOException e) {
                    outcome = "write failed: " + e.getMessage();
                }
            }
            assertTrue(outcome.contains("GOAWAY(11)") || outcome.startsWith("write failed") || outcome.equals("closed") || outcome.equals("reset"),
                    "a rapid-reset client is told to calm down or cut off, got " + outcome + " after " + sent + " resets");
            long forwarded = completed.stream().filter(request -> request.backend() != null).count();
            assertTrue(forwarded < 1_000, "most of the " + sent + " reset streams never reach a backend: " + forwarded);
            assertServed(proxy);

            int continuations = 0;
            try (Http2Client attacker = new Http2Client(h2(proxy))) {
                attacker.frame(Http2Client.HEADERS, 0, 1, Http2Client.block(Http2Client.get("/cont")));
                byte[] filler = Http2Client.block("x-filler", "a".repeat(16_000));
                try {
                    for (; continuations < 2_000; continuations++) {
                        attacker.frame(Http2Client.CONTINUATION, 0, 1, filler);
                    }
                    outcome = attacker.outcome(1);
                } catch (IOException e) {
                    outcome = "write failed: " + e.getMessage();
                }
            }
            assertTrue(continuations < 2_000 || !outcome.equals("silence"),
                    "endless CONTINUATION frames (32 MB of headers) must end the connection, got " + outcome);
            assertServed(proxy);
        }
    }

    /** A new client, on a connection of its own, still gets a 200 over h2. */
    private static void assertServed(ProxyServer proxy) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestSupport.trusting(proxy.tls()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/after"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
        assertEquals(200, response.statusCode(), "other clients are unaffected: " + response.body());
    }

    @Test
    void theJdkClientGetsH2ByAlpnAndBodiesCrossIntact() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ServerTls tls = TestSupport.selfSignedTls();
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backend.url()), tls);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestSupport.trusting(tls))
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String body = "payload ".repeat(20_000);
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + proxy.port() + "/upload"))
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            assertEquals(200, response.statusCode());
            assertEquals("got " + body.length() + " bytes", response.body());
            assertEquals(body, backend.completeRequests().get(0).body());
            assertTrue(backend.completeRequests().get(0).head().contains("\r\nX-Forwarded-Proto: https\r\n"));
        }
    }

    @Test
    void h2cByPriorKnowledgeOnlyWhereSwitchedOnAndUpgradeH2cIsNeverForwarded() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer plain = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backend.url()));
            ProxyServer h2c = ProxyServer.start(ProxySettings.FOR_TESTS, new model.BackendPool(List.of(model.Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), new ProtocolSettings(null, true, true, null));
            try {
                try (Http2Client client = new Http2Client(new Socket(InetAddress.getLoopbackAddress(), h2c.port()))) {
                    client.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "localhost", ":path", "/h2c");
                    assertEquals("status 200", client.outcome(1), "--h2c takes the preface");
                }
                assertEquals(1, backend.completeRequests().size());
                try (Http2Client client = new Http2Client(new Socket(InetAddress.getLoopbackAddress(), plain.port()))) {
                    client.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "localhost", ":path", "/no-h2c");
                    assertFalse(client.outcome(1).startsWith("status 200"), "without --h2c the preface is not HTTP/2");
                }
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), plain.port())) {
                    socket.setSoTimeout(5_000);
                    TestSupport.write(socket.getOutputStream(), "GET /upgrade HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                            + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
                    String response = TestSupport.readOneResponse(socket.getInputStream());
                    assertTrue(response.startsWith("HTTP/1.1 200 "), "answered as HTTP/1.1, not switched: " + response);
                }
                String head = backend.completeRequests().get(backend.completeRequests().size() - 1).head();
                assertTrue(head.startsWith("GET /upgrade HTTP/1.1\r\n"), head);
                assertFalse(head.toLowerCase().contains("upgrade:") || head.toLowerCase().contains("http2-settings"),
                        "Upgrade: h2c is the proxy's to take or drop, never the backend's: " + head);
            } finally {
                h2c.stop();
            }
        }
    }

    @Test
    void noHttp2OffersHttp11Alone() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ServerTls tls = TestSupport.selfSignedTls();
            ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, new model.BackendPool(List.of(model.Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), new ProtocolSettings(tls, false, false, null));
            try (SSLSocket socket = offering(proxy, "h2", "http/1.1")) {
                assertFalse("h2".equals(socket.getApplicationProtocol()), "--no-http2: " + socket.getApplicationProtocol());
            } finally {
                proxy.stop();
            }
        }
        LoadBalancerProcess.Exited both = LoadBalancerProcess.run("--tls", "self-signed", "--h2c", "--backend", "http://127.0.0.1:9");
        assertEquals(2, both.code(), both.output());
        assertTrue(both.output().startsWith("error: --h2c is cleartext HTTP/2"), both.output());
    }

    private static ProxyServer h2Proxy(TestSupport support, String backendUrl) {
        return support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backendUrl), TestSupport.selfSignedTls());
    }

    /** A TLS connection to {@code proxy} with h2 negotiated by ALPN. */
    private static SSLSocket h2(ProxyServer proxy) throws IOException {
        SSLSocket socket = offering(proxy, "h2");
        assertEquals("h2", socket.getApplicationProtocol(), "the proxy offers h2 by ALPN");
        return socket;
    }

    private static SSLSocket offering(ProxyServer proxy, String... protocols) throws IOException {
        SSLSocket socket = (SSLSocket) TestSupport.trusting(proxy.tls()).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port());
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(protocols);
        parameters.setServerNames(List.of(new javax.net.ssl.SNIHostName("localhost")));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }
}
