package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.stream.Stream;
import model.HealthSettings;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * The client edge of request framing, attacked with raw sockets: for every variant (transfer-coding
 * disguises, chunk malformations, length conflicts, absolute-form targets, bytes no client library
 * sends, and valid controls) it checks the status line the client got, that the connection was closed
 * where the proxy promises it, and exactly what a strict {@link RecordingBackend} received: nothing for
 * a refused head; for a malformed body whose head had gone, no complete request and a closed connection
 * (never a terminating {@code 0\r\n\r\n}); for an accepted request, the exact request line, headers and
 * body. Each case runs against a fresh proxy and backend.
 */
class RequestFramingConformanceTest {
    private static final String POST = "POST /upload HTTP/1.1\r\nHost: front.test\r\n";
    private static final String CHUNKED = POST + "Transfer-Encoding: chunked\r\n\r\n";
    private static final String HELLO_CHUNKED = "5\r\nhello\r\n0\r\n\r\n";

    /** What the backend must have received. */
    private record Expect(Kind kind, List<Forwarded> requests) {
        enum Kind { NOTHING, ABORTED, REQUESTS }

        static Expect nothing() {
            return new Expect(Kind.NOTHING, List.of());
        }

        static Expect aborted() {
            return new Expect(Kind.ABORTED, List.of());
        }

        static Expect got(Forwarded... requests) {
            return new Expect(Kind.REQUESTS, List.of(requests));
        }
    }

    /** One request as the backend must see it: its request line, lines its head must contain, its body. */
    private record Forwarded(String requestLine, List<String> headLines, String body, String trailers) {
        static Forwarded of(String requestLine, String body, String... headLines) {
            return new Forwarded(requestLine, List.of(headLines), body, "");
        }

        Forwarded withTrailers(String trailers) {
            return new Forwarded(requestLine, headLines, body, trailers);
        }
    }

    /**
     * One attack or control: the raw bytes, whether the client half-closes after them, the statuses it
     * must read in order, the start of the first answer's body ("" where Undertow's parser answers with an
     * empty body from Undertow's HostHeaderHandler, before any handler of ours runs), whether the proxy must close the connection.
     */
    private record Case(String name, String request, boolean halfClose, List<Integer> statuses, String bodyStart, boolean closes, Expect backend) {}

    private static Case refused(String name, String request, int status, String bodyStart) {
        return new Case(name, request, false, List.of(status), bodyStart, true, Expect.nothing());
    }

    private static Case badChunks(String name, String body) {
        return new Case(name, CHUNKED + body, false, List.of(400), "400 Bad Request: the chunked request body is malformed", true, Expect.aborted());
    }

    private static Case accepted(String name, String request, Forwarded... forwarded) {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < forwarded.length; i++) {
            statuses.add(200);
        }
        return new Case(name, request, false, statuses, "got ", false, Expect.got(forwarded));
    }

    private static final String UNKNOWN = "501 Not Implemented";
    private static final String FRAMING = "400 Bad Request: the request's framing headers";
    private static final String TARGET = "400 Bad Request: the request target";
    /** Undertow's parser refused it before any handler of ours ran; ParseFailureAnswer gave it a body. */
    private static final String UNDERTOW_400 = "400 Bad Request: the request could not be parsed (malformed, or its head is over --max-header-size)\n";
    /** Undertow's HostHeaderHandler ends the exchange before our handler can register a body: still empty. */
    private static final String EMPTY = "";

    private static List<Case> cases() {
        String hello = "5\r\nhello\r\n0\r\n\r\n";
        return List.of(
                // Transfer-Encoding disguises: refused before a backend is chosen.
                refused("te-gzip", POST + "Transfer-Encoding: gzip\r\n\r\n" + hello, 501, UNKNOWN),
                refused("te-xchunked", POST + "Transfer-Encoding: xchunked\r\n\r\n" + hello, 501, UNKNOWN),
                refused("te-identity", POST + "Transfer-Encoding: identity\r\n\r\n" + hello, 501, UNKNOWN),
                refused("te-gzip-then-chunked", POST + "Transfer-Encoding: gzip, chunked\r\n\r\n" + hello, 501, UNKNOWN),
                refused("te-chunked-then-identity", POST + "Transfer-Encoding: chunked, identity\r\n\r\n" + hello, 501, UNKNOWN),
                refused("te-chunked-twice-in-a-list", POST + "Transfer-Encoding: chunked, chunked\r\n\r\n" + hello, 400, FRAMING),
                refused("te-chunked-with-parameter", POST + "Transfer-Encoding: chunked;q=1\r\n\r\n" + hello, 400, FRAMING),
                refused("te-empty-list-element", POST + "Transfer-Encoding: chunked,\r\n\r\n" + hello, 400, FRAMING),
                refused("te-two-header-lines", POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + hello, 400, UNDERTOW_400),
                refused("te-space-before-colon", POST + "Transfer-Encoding : chunked\r\n\r\n" + hello, 400, UNDERTOW_400),
                refused("te-nul-in-value", POST + "Transfer-Encoding: chunked\0\r\n\r\n" + hello, 400, UNDERTOW_400),
                refused("te-on-http-1.0", "POST /upload HTTP/1.0\r\nHost: front.test\r\nTransfer-Encoding: chunked\r\n\r\n" + hello, 400, FRAMING),
                // Content-Length conflicts.
                refused("cl-with-te", POST + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + hello, 400, UNDERTOW_400),
                refused("cl-two-different", POST + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, UNDERTOW_400),
                refused("cl-two-equal", POST + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("cl-list", POST + "Content-Length: 5, 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("cl-not-a-number", POST + "Content-Length: five\r\n\r\nhello", 400, UNDERTOW_400),
                refused("cl-plus-sign", POST + "Content-Length: +5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("cl-overflows-a-long", POST + "Content-Length: 18446744073709551621\r\n\r\nhello", 400, FRAMING),
                // Heads no client library would send.
                refused("nul-in-header-value", POST + "X-Note: a\0b\r\nContent-Length: 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("nul-in-request-target", "POST /up\0load HTTP/1.1\r\nHost: front.test\r\nContent-Length: 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("bare-lf-in-head", "POST /upload HTTP/1.1\r\nHost: front.test\nContent-Length: 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("bare-lf-head-throughout", "POST /upload HTTP/1.1\nHost: front.test\nTransfer-Encoding: chunked\n\n" + hello, 400, UNDERTOW_400),
                refused("bare-cr-in-header-value", POST + "X-Note: a\rb\r\nContent-Length: 5\r\n\r\nhello", 400, UNDERTOW_400),
                refused("absolute-form-host-mismatch", "GET http://origin.test/x HTTP/1.1\r\nHost: other.test\r\n\r\n", 400, EMPTY),
                refused("head-over-max-header-size", "GET /" + "a".repeat(70 * 1024) + " HTTP/1.1\r\nHost: front.test\r\n\r\n", 400, UNDERTOW_400),
                refused("header-over-max-header-size", "GET / HTTP/1.1\r\nHost: front.test\r\nX-Big: " + "b".repeat(70 * 1024) + "\r\n\r\n", 400, UNDERTOW_400),
                refused("absolute-form-foreign-scheme", "GET ftp://front.test/x HTTP/1.1\r\nHost: front.test\r\n\r\n", 400, TARGET),
                refused("absolute-form-with-userinfo", "GET http://user@front.test/x HTTP/1.1\r\nHost: front.test\r\n\r\n", 400, TARGET),
                // Malformed chunked bodies: 400, and the backend never sees a complete request.
                badChunks("chunk-size-not-hex", "Z\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-0x-prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-negative", "-5\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-overflows", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-two-numbers", "5 5\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-nul", "5\0\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-empty", "\r\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-size-line-bare-lf", "5\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-extension-bare-lf", "5;name=value\nhello\r\n0\r\n\r\n"),
                badChunks("chunk-data-without-crlf", "5\r\nhelloXX0\r\n\r\n"),
                badChunks("chunk-data-bare-lf", "5\r\nhello\n0\r\n\r\n"),
                badChunks("chunk-data-longer-than-size", "3\r\nhello\r\n0\r\n\r\n"),
                badChunks("trailer-without-colon", "5\r\nhello\r\n0\r\nNot a trailer\r\n\r\n"),
                badChunks("trailer-obs-fold", "5\r\nhello\r\n0\r\nX-Sum: a\r\n b\r\n\r\n"),
                badChunks("trailer-bare-lf", "5\r\nhello\r\n0\r\nX-Sum: a\n\r\n"),
                badChunks("last-chunk-bare-lf-end", "5\r\nhello\r\n0\r\n\n"),
                new Case("missing-final-crlf-then-half-close", CHUNKED + "5\r\nhello\r\n0\r\n", true, List.of(400),
                        "400 Bad Request: the client closed the connection", true, Expect.aborted()),
                new Case("chunk-cut-short-then-half-close", CHUNKED + "10\r\nhello", true, List.of(400),
                        "400 Bad Request: the client closed the connection", true, Expect.aborted()),
                // Controls: what must pass, exactly as the proxy frames it.
                accepted("valid-chunked", CHUNKED + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello world", "Transfer-Encoding: chunked")),
                accepted("valid-chunked-upper-case-coding-is-normalised", POST + "Transfer-Encoding: CHUNKED\r\n\r\n" + hello,
                        Forwarded.of("POST /upload HTTP/1.1", "hello", "Transfer-Encoding: chunked")),
                accepted("valid-chunked-leading-zeros-and-extension", CHUNKED + "005;name=\"v\"\r\nhello\r\n000\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello")),
                accepted("valid-chunked-with-trailers", CHUNKED + "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello").withTrailers("X-Checksum: abc\r\n")),
                accepted("framing-fields-in-trailers-are-dropped", CHUNKED + "5\r\nhello\r\n0\r\nContent-Length: 99\r\nTransfer-Encoding: gzip\r\nX-Checksum: abc\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello").withTrailers("X-Checksum: abc\r\n")),
                // Issue 20: routing fields in a trailer would let a backend that merges trailers see another Host.
                accepted("host-and-forwarding-fields-in-trailers-are-dropped",
                        CHUNKED + "5\r\nhello\r\n0\r\nHost: evil.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Checksum: abc\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello", "Host: front.test").withTrailers("X-Checksum: abc\r\n")),
                // Issue 20: the proxy's own canonical length, as nginx sends it; never "010", which a backend might read as octal 8.
                accepted("cl-leading-zeros-forwarded-canonical", POST + "Content-Length: 010\r\n\r\nhelloworld",
                        Forwarded.of("POST /upload HTTP/1.1", "helloworld", "Content-Length: 10")),
                accepted("valid-content-length", POST + "Content-Length: 5\r\n\r\nhello",
                        Forwarded.of("POST /upload HTTP/1.1", "hello", "Content-Length: 5")),
                accepted("valid-pipelined-pair", POST + "Content-Length: 5\r\n\r\nhello" + "GET /second HTTP/1.1\r\nHost: front.test\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello"), Forwarded.of("GET /second HTTP/1.1", "")),
                accepted("valid-pipelined-chunked-then-get", CHUNKED + hello + "GET /second HTTP/1.1\r\nHost: front.test\r\n\r\n",
                        Forwarded.of("POST /upload HTTP/1.1", "hello"), Forwarded.of("GET /second HTTP/1.1", "")),
                // obs-fold: Undertow's parser replaces it with a space (RFC 9112 section 5.2 allows that); the
                // backend still gets exactly the framing we read, since the coding is checked after unfolding and re-written.
                accepted("te-obs-fold-is-unfolded-then-reframed", POST + "Transfer-Encoding:\r\n chunked\r\n\r\n" + hello,
                        Forwarded.of("POST /upload HTTP/1.1", "hello", "Transfer-Encoding: chunked")),
                accepted("absolute-form-uses-the-uri-authority", "GET http://origin.test:8080/path?q=1 HTTP/1.1\r\nHost: origin.test\r\n\r\n",
                        Forwarded.of("GET /path?q=1 HTTP/1.1", "", "Host: origin.test:8080")),
                accepted("absolute-form-without-a-path", "GET http://origin.test HTTP/1.1\r\nHost: origin.test\r\n\r\n",
                        Forwarded.of("GET / HTTP/1.1", "", "Host: origin.test")));
    }

    @TestFactory
    Stream<DynamicTest> everyFramingVariant() {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 30, "at least 30 variants, got " + cases.size());
        // Plain, over TLS, and plain on a routed config (several upstreams and routes): the same answers each way.
        return Stream.of("", "tls: ", "routed: ").flatMap(mode -> cases.stream()
                .filter(c -> System.getenv("CASE") == null || c.name().equals(System.getenv("CASE")))
                .map(c -> DynamicTest.dynamicTest(mode + c.name(), () -> check(c, mode.equals("tls: "), mode.equals("routed: ")))));
    }

    /**
     * Runs {@code c} against a fresh proxy, over plain TCP or over TLS, on a single pool or a routed config:
     * the edge must hold the same behind the encryption and behind the routes.
     */
    private static void check(Case c, boolean overTls, boolean routed) throws Exception {
        try (TestSupport support = routed ? TestSupport.routed() : new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxySettings settings = new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                    new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), ProxySettings.Timeouts.DEFAULTS.response(), Duration.ofSeconds(3)),
                    ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS);
            ProxyServer proxy = support.proxy(settings, "RoundRobin", new RoundRobin(), List.of(backend.url()),
                    overTls ? TestSupport.selfSignedTls() : null);
            try (Socket client = TestSupport.connect(proxy)) {
                client.setSoTimeout(5_000);
                client.getOutputStream().write(c.request().getBytes(StandardCharsets.ISO_8859_1));
                client.getOutputStream().flush();
                if (c.halfClose()) {
                    client.shutdownOutput();
                }
                InputStream in = client.getInputStream();
                for (int i = 0; i < c.statuses().size(); i++) {
                    String response = TestSupport.readOneResponse(in);
                    assertTrue(response.matches("(?s)HTTP/1\\.[01] " + c.statuses().get(i) + " .*"), c.name() + ": answer " + i + " was: " + response);
                    if (i == 0) {
                        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
                        if (c.bodyStart().isEmpty()) {
                            assertEquals("", body, c.name() + ": Undertow's HostHeaderHandler 400 has no body");
                        } else if (c.bodyStart().equals(UNDERTOW_400)) {
                            assertEquals(UNDERTOW_400, body, c.name() + ": the whole body");
                            assertTrue(response.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"), c.name() + ": " + response);
                            assertTrue(response.contains("\r\nConnection: close\r\n"), c.name() + ": " + response);
                        } else {
                            assertTrue(body.startsWith(c.bodyStart()), c.name() + ": body was: " + body);
                        }
                    }
                }
                if (c.closes()) {
                    assertTrue(isClosedByPeer(in), c.name() + ": the proxy must close the connection");
                }
            }
            checkBackend(c, backend);
        }
    }

    /** The exact bytes Undertow's parser writes for a request it refuses, which ParseFailureAnswer rewrites. */
    private static final String CANNED_400 = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    @Test
    void aBackendsEmpty400IsForwardedUnchanged() throws Exception {
        try (TestSupport support = new TestSupport(); RawBackend backend = new RawBackend(RawBackend.answer(CANNED_400))) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(backend.url()));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                client.setSoTimeout(5_000);
                TestSupport.write(client.getOutputStream(), "GET /bad HTTP/1.1\r\nHost: front.test\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
                assertTrue(response.endsWith("\r\n\r\n"), "no body may be added: " + response);
                assertTrue(response.contains("\r\nContent-Length: 0\r\n"), response);
                assertFalse(response.contains("text/plain"), "a backend's answer is not ours to rewrite: " + response);
            }
            assertEquals(1, backend.requestHeads().size());
        }
    }

    @Test
    void aBodyThatSpellsUndertowsRefusalIsForwardedUnchanged() throws Exception {
        String answer = "HTTP/1.1 200 OK\r\nContent-Type: message/http\r\nContent-Length: " + CANNED_400.length() + "\r\n\r\n";
        RawBackend.Behaviour inTwoWrites = (connection, head) -> {
            TestSupport.write(connection.getOutputStream(), answer);
            try {
                Thread.sleep(100); // the body arrives on its own, so the proxy writes it to the client as one buffer
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            TestSupport.write(connection.getOutputStream(), CANNED_400);
        };
        try (TestSupport support = new TestSupport(); RawBackend backend = new RawBackend(inTwoWrites)) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(backend.url()));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                client.setSoTimeout(5_000);
                TestSupport.write(client.getOutputStream(), "GET /capture HTTP/1.1\r\nHost: front.test\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
                assertEquals(CANNED_400, response.substring(response.indexOf("\r\n\r\n") + 4));
                TestSupport.write(client.getOutputStream(), "GET /again HTTP/1.1\r\nHost: front.test\r\n\r\n");
                assertTrue(TestSupport.readOneResponse(client.getInputStream()).startsWith("HTTP/1.1 200 OK\r\n"), "the connection stays usable");
            }
        }
    }

    /** Whether the peer closed the connection (EOF or reset) within the read timeout, with no further bytes. */
    private static boolean isClosedByPeer(InputStream in) throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset: closed with our unread bytes in its buffer
        }
    }

    private static void checkBackend(Case c, RecordingBackend backend) throws InterruptedException {
        switch (c.backend().kind()) {
            case NOTHING -> {
                assertEquals("", backend.allBytes(), c.name() + ": nothing may reach the backend");
                assertEquals(0, backend.connections().size(), c.name() + ": no backend connection may even be opened");
            }
            case ABORTED -> {
                awaitTrue(() -> backend.connections().stream().allMatch(RecordingBackend.Connection::isClosed),
                        c.name() + ": the backend connection must be closed (aborted)");
                assertEquals(List.of(), backend.completeRequests(), c.name() + ": no complete request may reach the backend");
                assertFalse(backend.allBytes().contains("\r\n0\r\n\r\n"), c.name() + ": the backend must never see a terminating chunk: "
                        + backend.allBytes());
            }
            case REQUESTS -> {
                List<RecordingBackend.Request> got = backend.requests();
                List<Forwarded> expected = c.backend().requests();
                assertEquals(expected.size(), got.size(), c.name() + ": requests received: " + got);
                for (int i = 0; i < expected.size(); i++) {
                    RecordingBackend.Request request = got.get(i);
                    assertTrue(request.complete(), c.name() + ": request " + i + " incomplete: " + request);
                    assertEquals(expected.get(i).requestLine(), request.head().substring(0, request.head().indexOf("\r\n")), c.name());
                    assertEquals(expected.get(i).body(), request.body(), c.name() + ": body of request " + i);
                    assertEquals(expected.get(i).trailers(), request.trailers(), c.name() + ": trailers of request " + i);
                    for (String line : expected.get(i).headLines()) {
                        assertTrue(request.head().contains("\r\n" + line + "\r\n"), c.name() + ": head lacks " + line + ": " + request.head());
                    }
                }
            }
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting: " + what);
            }
            Thread.sleep(20);
        }
    }
}
