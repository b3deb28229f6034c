package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import demo.DemoServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import model.Strategy;
import org.junit.jupiter.api.Test;
import proxy.observe.AccessLog;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import strategies.Sticky;
import strategies.Strategies;
import strategies.StrategyOptions;

/** Requests through a real load balancer over real demo backends arrive as the client sent them. */
class ProxyForwardingTest {
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void roundRobinSpreadsThirtyRequestsTenPerBackend() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = support.proxy(a.url(), b.url(), c.url());

        Map<String, Integer> perBackend = new TreeMap<>();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> response = support.get(proxy, "/");
            assertEquals(200, response.statusCode());
            String backend = TestSupport.json(response).get("backend").getAsString();
            perBackend.merge(backend, 1, Integer::sum);
            order.add(backend);
        }
        assertEquals(Map.of("a", 10, "b", 10, "c", 10), perBackend);
        assertEquals(List.of("a", "b", "c", "a", "b", "c"), order.subList(0, 6), "round robin goes in pool order");
        assertEquals(10, a.requestCount());
    }

    /**
     * A chunked answer longer than one read of the backend's socket, and one whose chunk is split across two
     * writes with a pause between: Undertow's chunk decoder pushes what it has not used back under the proxy's
     * response check, which reads it again; checked twice, a sound body was refused as malformed mid-way.
     */
    @Test
    void aChunkedAnswerArrivingOverManyReadsReachesTheClientWhole() throws Exception {
        StringBuilder body = new StringBuilder();
        StringBuilder chunked = new StringBuilder("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n");
        for (int i = 0; i < 40; i++) {
            String chunk = String.valueOf((char) ('a' + i % 26)).repeat(5000);
            body.append(chunk);
            chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        try (RawBackend large = new RawBackend(RawBackend.answer(chunked.toString()));
             RawBackend paused = new RawBackend((connection, head) -> {
                 TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\nd");
                 try {
                     Thread.sleep(200);
                 } catch (InterruptedException e) {
                     Thread.currentThread().interrupt();
                 }
                 TestSupport.write(connection.getOutputStream(), "ef\r\n0\r\n\r\n");
             })) {
            ProxyServer toLarge = support.proxy(large.url());
            for (int i = 0; i < 3; i++) { // the second and third on a backend connection the first left in the pool
                HttpResponse<String> response = support.get(toLarge, "/large");
                assertEquals(200, response.statusCode());
                assertEquals(body.length(), response.body().length());
                assertEquals(body.toString(), response.body());
            }
            ProxyServer toPaused = support.proxy(paused.url());
            HttpResponse<String> response = support.get(toPaused, "/paused");
            assertEquals(200, response.statusCode());
            assertEquals("abcdef", response.body());
        }
    }

    @Test
    void methodPathQueryHeadersAndHostArriveUnchanged() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = support.proxy(backend.url());

        HttpRequest request = TestSupport.request(proxy, "/a/b%20c/d.txt?x=1&y=%2F&x=2")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("patch body"))
                .header("X-Custom", "value 1")
                .header("Accept", "text/plain")
                .header("Authorization", "Bearer t0k3n")
                .build();
        JsonObject echo = TestSupport.json(support.http.send(request, HttpResponse.BodyHandlers.ofString()));

        assertEquals("PATCH", echo.get("method").getAsString());
        assertEquals("/a/b c/d.txt", echo.get("path").getAsString());
        assertEquals("x=1&y=%2F&x=2", echo.get("query").getAsString());
        JsonObject headers = echo.getAsJsonObject("headers");
        assertEquals("value 1", headers.get("x-custom").getAsString());
        assertEquals("text/plain", headers.get("accept").getAsString());
        assertEquals("Bearer t0k3n", headers.get("authorization").getAsString());
        assertEquals("127.0.0.1:" + proxy.port(), headers.get("host").getAsString(), "the client's Host is kept, not rewritten to the backend's");
        assertEquals(10, echo.get("bodyLength").getAsLong());
    }

    @Test
    void forwardingHeadersAreSetByTheProxyAndSpoofedOnesReplaced() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = support.proxy(backend.url());

        HttpRequest spoofed = TestSupport.request(proxy, "/")
                .header("X-Forwarded-For", "6.6.6.6")
                .header("X-Forwarded-Host", "evil.example")
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Port", "443")
                .header("Forwarded", "for=6.6.6.6;host=evil.example")
                .build();
        JsonObject headers = TestSupport.json(support.http.send(spoofed, HttpResponse.BodyHandlers.ofString())).getAsJsonObject("headers");

        assertEquals("127.0.0.1", headers.get("x-forwarded-for").getAsString());
        assertEquals("127.0.0.1:" + proxy.port(), headers.get("x-forwarded-host").getAsString(), "the Host the client sent, with its port");
        assertEquals("http", headers.get("x-forwarded-proto").getAsString());
        assertEquals(String.valueOf(proxy.port()), headers.get("x-forwarded-port").getAsString());
        assertFalse(headers.has("forwarded"), "a client's Forwarded header is dropped: " + headers);
    }

    @Test
    void twentyMebibytePostArrivesByteForByte() throws Exception {
        byte[] body = randomBytes(20 * 1024 * 1024, 42);
        assertBackendReceived(body, HttpRequest.BodyPublishers.ofByteArray(body));
    }

    @Test
    void chunkedUploadOfUnknownLengthArrivesWhole() throws Exception {
        byte[] body = randomBytes(3 * 1024 * 1024 + 17, 7);
        // ofInputStream has no length, so the JDK client sends Transfer-Encoding: chunked.
        assertBackendReceived(body, HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
    }

    /** Uploads through a load balancer and checks the demo backend's echo of the body's length and SHA-256. */
    private void assertBackendReceived(byte[] body, HttpRequest.BodyPublisher publisher) throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = support.proxy(backend.url());

        JsonObject echo = TestSupport.json(support.http.send(TestSupport.request(proxy, "/upload").POST(publisher).build(),
                HttpResponse.BodyHandlers.ofString()));

        assertEquals(body.length, echo.get("bodyLength").getAsLong());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)), echo.get("bodySha256").getAsString());
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void largeDownloadStreamsThroughIntact() throws Exception {
        DemoServer backend = support.demo("only");
        ProxyServer proxy = support.proxy(backend.url());
        long size = 32L * 1024 * 1024 + 5;

        HttpResponse<InputStream> response = support.http.send(
                TestSupport.request(proxy, "/bytes?n=" + size).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        long index = 0;
        try (InputStream in = response.body()) {
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) != -1; ) {
                for (int i = 0; i < n; i++, index++) {
                    if (buffer[i] != DemoServer.patternByte(index)) {
                        throw new AssertionError("byte " + index + " differs");
                    }
                }
            }
        }
        assertEquals(size, index);
    }

    @Test
    void twoHundredConcurrentRequestsAllSucceed() throws Exception {
        DemoServer a = support.demo("a", new DemoServer.Faults(java.time.Duration.ofMillis(50), 0));
        DemoServer b = support.demo("b", new DemoServer.Faults(java.time.Duration.ofMillis(50), 0));
        ProxyServer proxy = support.proxy(a.url(), b.url());

        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            responses.add(support.http.sendAsync(TestSupport.request(proxy, "/c?i=" + i).build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertEquals(200, response.get().statusCode());
        }
        assertEquals(200, a.requestCount() + b.requestCount());
        assertTrue(Math.abs(a.requestCount() - b.requestCount()) <= 2, "round robin under concurrency: " + a.requestCount() + " vs " + b.requestCount());
    }

    @Test
    void observersHearOfEveryCompletedRequestWithItsBackendAndStatus() throws Exception {
        DemoServer a = support.demo("a");
        String dead = "http://127.0.0.1:" + TestSupport.deadPort();
        ProxyServer proxy = support.proxy(dead, a.url());
        List<CompletedRequest> seen = new CopyOnWriteArrayList<>();
        proxy.addObserver(seen::add);

        support.get(proxy, "/first?x=1");
        support.get(proxy, "/second");

        TestSupport.await(() -> seen.size() == 2, "completion is reported on the IO thread, just after the response went out");
        assertEquals(2, seen.size(), seen.toString());
        CompletedRequest first = seen.get(0);
        assertEquals("GET", first.method());
        assertEquals("/first", first.path());
        assertEquals("x=1", first.query());
        assertEquals(200, first.status());
        assertEquals(a.url(), first.backend().uri().toString());
        assertEquals(2, first.attempts(), "the dead backend came first in rotation and was tried before a");
        assertTrue(first.bytesSent() > 0 && first.durationNanos() > 0);
        assertEquals("/second", seen.get(1).path());
    }

    @Test
    void stickyStrategySetsACookieThatBringsTheClientBack() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new Sticky(new RoundRobin()),
                List.of(a.url(), b.url(), c.url()));

        HttpResponse<String> first = support.get(proxy, "/");
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.startsWith("lb_sticky=") && setCookie.contains("HttpOnly"), setCookie);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        String pinned = TestSupport.json(first).get("backend").getAsString();

        for (int i = 0; i < 5; i++) {
            HttpResponse<String> again = support.http.send(TestSupport.request(proxy, "/").header("Cookie", cookie).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(pinned, TestSupport.json(again).get("backend").getAsString());
            assertTrue(again.headers().firstValue("Set-Cookie").isEmpty(), "no new cookie while the old one holds");
        }
        assertNotEquals(pinned, TestSupport.json(support.get(proxy, "/")).get("backend").getAsString(), "without the cookie, round robin");
    }

    /**
     * consistent-hash keeps one client on one backend: 200 requests one after another, each on a new
     * connection (so it may land on either IO thread while the previous exchange's completion is still
     * being counted on the other), all answered by the same one of 3 demo backends.
     */
    @Test
    void consistentHashKeepsOneClientsSequentialRequestsOnOneBackend() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        Strategy consistentHash = Strategies.byName("consistent-hash").orElseThrow().create(StrategyOptions.defaults());
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "consistent-hash", consistentHash, List.of(a.url(), b.url(), c.url()));

        Map<String, Integer> answeredBy = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write("GET /n/%d HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n".formatted(i).getBytes(StandardCharsets.US_ASCII));
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
                String body = response.substring(response.indexOf("\r\n\r\n") + 4);
                answeredBy.merge(JsonParser.parseString(body).getAsJsonObject().get("backend").getAsString(), 1, Integer::sum);
            }
        }
        assertEquals(1, answeredBy.size(), "one client's requests were spread: " + answeredBy);
        assertEquals(200, answeredBy.values().iterator().next());
        assertTrue(List.of(a.requestCount(), b.requestCount(), c.requestCount()).contains(200L),
                "and that backend counted all 200: " + List.of(a.requestCount(), b.requestCount(), c.requestCount()));
    }

    /**
     * Apache/nginx combined, as the usual grok pattern (COMBINEDAPACHELOG) reads it: client, ident, user,
     * [time], "request line", status, bytes, "referer", "user agent"; then whatever extra fields follow.
     */
    static final Pattern COMBINED = Pattern.compile(
            "(\\S+) \\S+ (\\S+) \\[(?:\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})\\] \"([A-Z]+ \\S+ HTTP/\\d\\.\\d)\" (\\d{3}) (\\d+|-) \"((?:[^\"\\\\]|\\\\.)*)\" \"((?:[^\"\\\\]|\\\\.)*)\"(.*)");

    @Test
    void theAccessLogWritesOneLinePerRequestInEitherFormat() throws Exception {
        DemoServer a = support.demo("a");
        ProxyServer proxy = support.proxy(a.url());
        ByteArrayOutputStream json = new ByteArrayOutputStream(), combined = new ByteArrayOutputStream();
        proxy.addObserver(new AccessLog(AccessLog.Format.JSON, new PrintStream(json, true)));
        proxy.addObserver(new AccessLog(AccessLog.Format.COMBINED, new PrintStream(combined, true)));

        support.get(proxy, "/items?id=7");
        for (int i = 0; i < 100 && (json.size() == 0 || combined.size() == 0); i++) {
            Thread.sleep(10);
        }

        JsonObject line = JsonParser.parseString(json.toString().trim()).getAsJsonObject();
        assertEquals("GET", line.get("method").getAsString());
        assertEquals("/items", line.get("path").getAsString());
        assertEquals("id=7", line.get("query").getAsString());
        assertEquals(200, line.get("status").getAsInt());
        assertEquals("127.0.0.1:" + a.port(), line.get("backend").getAsString());
        assertEquals(1, line.get("attempts").getAsInt());
        assertEquals("default", line.get("route").getAsString(), "the command line's one catch-all route");
        assertEquals("default", line.get("upstream").getAsString());
        assertTrue(line.get("bytes").getAsLong() > 0, line.toString());
        Matcher text = COMBINED.matcher(combined.toString().trim());
        assertTrue(text.matches(), combined.toString());
        assertEquals("127.0.0.1", text.group(1));
        assertEquals("GET /items?id=7 HTTP/1.1", text.group(3));
        assertEquals("200", text.group(4));
        assertEquals("-", text.group(6), "no Referer");
        assertTrue(text.group(8).matches(" backend=127\\.0\\.0\\.1:\\d+ attempts=1 request_time=\\d+\\.\\d{3} route=default upstream=default"
                + " server_protocol=HTTP/1\\.1 ssl_protocol=-"), text.group(8));
    }

    @Test
    void explainModeSaysWhichStrategyPickedWhichBackendOfWhich() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        String dead = "http://127.0.0.1:" + TestSupport.deadPort();
        ProxyServer proxy = support.proxy(dead, a.url(), b.url());
        assertTrue(support.get(proxy, "/").headers().firstValue("X-LB-Explain").isEmpty(), "off by default");
        proxy.setExplain(true);

        String explained = support.get(proxy, "/").headers().firstValue("X-LB-Explain").orElseThrow();

        assertTrue(explained.startsWith("round-robin picked 127.0.0.1:"), "the strategy's name, not its class: " + explained);
        assertTrue(explained.contains("127.0.0.1:" + a.port()) && explained.contains("127.0.0.1:" + b.port()), explained);
        assertTrue(explained.matches(".* of [23] candidates \\(.*\\) from the primaries(, avoiding .* \\(tried\\))?; attempt [12]"), explained);
    }
}
