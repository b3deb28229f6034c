package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import model.Backend;
import org.junit.jupiter.api.Test;
import proxy.observe.AccessLog;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import tls.ServerTls;

/**
 * The access log as a record of what arrived: the request target exactly as the client sent it (never decoded, never
 * the path a route rewrote), the request time in seconds where the combined format says seconds, and the protocol
 * and TLS version each client really spoke (nginx's $server_protocol and $ssl_protocol).
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
    void theProtocolAndTlsVersionAreThoseEachClientSpoke() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ServerTls tls = TestSupport.selfSignedTls();
            ProxyServer secure = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backend.url()), tls);
            ProxyServer plain = support.proxy(backend.url());
            ByteArrayOutputStream combined = new ByteArrayOutputStream(), json = new ByteArrayOutputStream();
            for (ProxyServer proxy : List.of(secure, plain)) {
                proxy.addObserver(new AccessLog(AccessLog.Format.COMBINED, new PrintStream(combined, true, StandardCharsets.UTF_8)));
                proxy.addObserver(new AccessLog(AccessLog.Format.JSON, new PrintStream(json, true, StandardCharsets.UTF_8)));
            }

            HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestSupport.trusting(tls)).build();
            HttpResponse<String> response = h2.send(HttpRequest.newBuilder(URI.create("https://localhost:" + secure.port() + "/h2"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, response.version());
            try (SSLSocket tls12 = (SSLSocket) TestSupport.trusting(tls).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), secure.port())) {
                tls12.setSoTimeout(10_000);
                tls12.setEnabledProtocols(new String[] {"TLSv1.2"});
                TestSupport.write(tls12.getOutputStream(), "GET /tls12 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertTrue(TestSupport.readUntilClosed(tls12.getInputStream()).startsWith("HTTP/1.1 200 "));
            }
            String answer = TestSupport.rawExchange(plain.port(), "GET /plain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);

            TestSupport.await(() -> combined.toString(StandardCharsets.UTF_8).lines().count() == 3 && json.toString(StandardCharsets.UTF_8).lines().count() == 3,
                    Duration.ofSeconds(5), "three lines in each log");
            assertEquals(List.of("GET /h2 HTTP/1.1", "GET /tls12 HTTP/1.1", "GET /plain HTTP/1.1"),
                    backend.completeRequests().stream().map(request -> request.head().lines().findFirst().orElse("")).toList(),
                    "every client was proxied, as HTTP/1.1 to the backend");
            String lines = combined.toString(StandardCharsets.UTF_8);
            assertTrue(lines.contains("\"GET /h2 HTTP/2.0\" 200 ") && lineOf(lines, "/h2").endsWith(" server_protocol=HTTP/2.0 ssl_protocol=TLSv1.3"), lines);
            assertTrue(lineOf(lines, "/tls12").endsWith(" server_protocol=HTTP/1.1 ssl_protocol=TLSv1.2"), lines);
            assertTrue(lineOf(lines, "/plain").endsWith(" server_protocol=HTTP/1.1 ssl_protocol=-"), lines);
            String objects = json.toString(StandardCharsets.UTF_8);
            assertTrue(lineOf(objects, "/h2").contains("\"protocol\":\"HTTP/2.0\"") && lineOf(objects, "/h2").contains("\"sslProtocol\":\"TLSv1.3\""), objects);
            assertTrue(lineOf(objects, "/tls12").contains("\"sslProtocol\":\"TLSv1.2\""), objects);
            assertTrue(lineOf(objects, "/plain").contains("\"sslProtocol\":null"), objects);
        }
    }

    private static String lineOf(String lines, String path) {
        return lines.lines().filter(line -> line.contains(path + " ") || line.contains("\"" + path + "\"")).findFirst().orElse("(no line for " + path + ")");
    }

    @Test
    void theCombinedFormatSaysSecondsAndJsonMilliseconds() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AccessLog log = new AccessLog(AccessLog.Format.COMBINED, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        AccessLog json = new AccessLog(AccessLog.Format.JSON, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        CompletedRequest slow = new CompletedRequest("203.0.113.9", "GET", "/slow", "", 200, 2, 0, 1_500_000_000L,
                Backend.of("http://127.0.0.1:9001"), 1, "HTTP/1.1", null, "curl", List.of(), "default", "default", null);
        log.completed(slow);
        json.completed(slow);
        log.close();
        json.close();
        String written = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(written.contains(" request_time=1.500 "), "1.5 s is request_time=1.500, seconds as nginx's $request_time: " + written);
        assertTrue(written.contains("\"ms\":1500.000"), written);
    }

    @Test
    void requestsTheParserRefusesAreLoggedWithTheRequestLineAsReceived() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(backend.url());
            ByteArrayOutputStream combined = new ByteArrayOutputStream();
            AccessLog log = new AccessLog(AccessLog.Format.COMBINED, new PrintStream(combined, true, StandardCharsets.UTF_8));
            proxy.addObserver(log);

            // Undertow's parser answers these with no exchange: alone on a fresh connection, after a good request on a
            // kept-alive one, pipelined behind a good one, and bytes that are no request line at all.
            String alone = TestSupport.rawExchange(proxy.port(), "GET /?a\"b HTTP/1.1\r\nHost: a\r\n\r\n");
            String second;
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                client.setSoTimeout(5_000);
                TestSupport.write(client.getOutputStream(), "GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(TestSupport.readOneResponse(client.getInputStream()).startsWith("HTTP/1.1 200"));
                TestSupport.write(client.getOutputStream(), "GET /x\"y?q=1 HTTP/1.1\r\nHost: a\r\n\r\n");
                second = TestSupport.readUntilClosed(client.getInputStream());
            }
            String pipelined = TestSupport.rawExchange(proxy.port(),
                    "GET /p HTTP/1.1\r\nHost: a\r\n\r\nPUT /p?<\"> HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
            String garbage = TestSupport.rawExchange(proxy.port(), "\u0016\u0003\u0001 not http\r\n\r\n");

            assertTrue(alone.startsWith("HTTP/1.1 400 "), alone);
            assertTrue(second.startsWith("HTTP/1.1 400 "), second);
            assertTrue(pipelined.startsWith("HTTP/1.1 200 ") && pipelined.contains("HTTP/1.1 400 "), pipelined);
            assertTrue(garbage.startsWith("HTTP/1.1 400 "), garbage);
            assertEquals(List.of("/first", "/p"), backend.completeRequests().stream().map(r -> r.head().split(" ")[1]).toList(),
                    "only the good requests reached the backend");
            TestSupport.await(() -> combined.toString(StandardCharsets.UTF_8).lines().count() == 6, Duration.ofSeconds(5),
                    "six lines: four refusals, two answers");
            log.close();

            List<String> requests = new ArrayList<>();
            for (String line : combined.toString(StandardCharsets.UTF_8).lines().toList()) {
                int open = line.indexOf("] \"") + 3;
                int close = line.indexOf("\" ", open);
                requests.add(line.substring(open, close) + " " + line.substring(close + 2, close + 5));
                if (line.contains("\" 400 ")) {
                    assertTrue(line.startsWith("127.0.0.1 - - ["), line);
                    assertTrue(line.matches(".*\" 400 \\d+ \"-\" \"-\" backend=- attempts=0 request_time=\\d+\\.\\d{3} route=- upstream=- server_protocol=\\S+ ssl_protocol=-"), line);
                }
            }
            assertEquals(List.of("GET /?a\\x22b HTTP/1.1 400", "GET /first HTTP/1.1 200", "GET /x\\x22y?q=1 HTTP/1.1 400",
                    "GET /p HTTP/1.1 200", "PUT /p?<\\x22> HTTP/1.1 400", "\\x16\\x03\\x01 not http 400"), requests);
        }
    }

    @Test
    void aRefusalOverTlsIsLoggedToo() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "round-robin", new RoundRobin(), List.of(backend.url()),
                    TestSupport.selfSignedTls());
            List<CompletedRequest> seen = TestSupport.observe(proxy);
            String answer;
            try (Socket client = TestSupport.connect(proxy)) {
                TestSupport.write(client.getOutputStream(), "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
                assertTrue(TestSupport.readOneResponse(client.getInputStream()).startsWith("HTTP/1.1 200"));
                TestSupport.write(client.getOutputStream(), "GET /tls\"q HTTP/1.1\r\nHost: a\r\n\r\n");
                answer = TestSupport.readUntilClosed(client.getInputStream());
            }
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            TestSupport.await(() -> seen.size() == 2, Duration.ofSeconds(5), "both requests reported");
            assertEquals(List.of("/ok 200 TLSv1.3", "/tls\"q 400 TLSv1.3"), seen.stream().map(r -> r.path() + " " + r.status() + " " + r.tlsProtocol()).toList(),
                    "the refused line as received, decrypted: the tap sits above TLS");
            assertEquals(1, backend.completeRequests().size(), "the refused request reached no backend");
        }
    }
}
