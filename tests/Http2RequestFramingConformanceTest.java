package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import model.BackendPool;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import proxy.listen.ProtocolSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * The request-framing suite for what applies to HTTP/2 clients, over h2 (TLS, ALPN) and h2c (prior knowledge): a
 * body's length is the DATA frames', so what can go wrong is a {@code content-length} that is repeated, not a number,
 * or disagrees with them, a forbidden {@code transfer-encoding}, and a stream the client abandons mid-body. Each case
 * is written with raw frames ({@link Http2Client}) against a fresh proxy and checks what the client got and exactly
 * what a strict {@link RecordingBackend} received: nothing for a refused head; for an abandoned body no complete
 * request and a closed backend connection (never a terminating chunk); for an accepted one the request line, the
 * framing the proxy chose, the body and the trailers.
 */
class Http2RequestFramingConformanceTest {
    private enum Backend { NOTHING, ABORTED, REQUEST }

    /** What the client does after its HEADERS on stream 1. */
    private enum Then { NOTHING, RESET_STREAM, CLOSE_CONNECTION }

    /**
     * One attack or control: the request's fields, its DATA frames (the last one ends the stream unless {@code then}
     * abandons it), trailer fields sent as a final HEADERS, what the client must get, and what the backend must see.
     */
    private record Case(String name, String[] fields, List<String> data, String[] trailers, Then then, String outcome, Backend backend,
                        List<String> forwardedLines, String forwardedBody, String forwardedTrailers) {}

    private static String[] post(String... extra) {
        String[] pseudo = {":method", "POST", ":scheme", "https", ":authority", "front.test", ":path", "/upload"};
        String[] fields = Arrays.copyOf(pseudo, pseudo.length + extra.length);
        System.arraycopy(extra, 0, fields, pseudo.length, extra.length);
        return fields;
    }

    private static Case refused(String name, String[] fields, String... data) {
        return new Case(name, fields, List.of(data), new String[0], Then.NOTHING, "refused", Backend.NOTHING, List.of(), "", "");
    }

    private static Case abandoned(String name, String[] fields, Then then, String... data) {
        return new Case(name, fields, List.of(data), new String[0], then, "any", Backend.ABORTED, List.of(), "", "");
    }

    private static Case accepted(String name, String[] fields, List<String> data, String[] trailers, String body, String trailersSeen,
                                 String... lines) {
        return new Case(name, fields, data, trailers, Then.NOTHING, "status 200", Backend.REQUEST, List.of(lines), body, trailersSeen);
    }

    private static List<Case> cases() {
        String[] none = new String[0];
        return List.of(
                // Length conflicts and disguises: refused before a backend is chosen.
                refused("cl-two-different", post("content-length", "5", "content-length", "6"), "hello"),
                refused("cl-two-equal", post("content-length", "5", "content-length", "5"), "hello"),
                refused("cl-list", post("content-length", "5, 5"), "hello"),
                refused("cl-not-a-number", post("content-length", "five"), "hello"),
                refused("cl-plus-sign", post("content-length", "+5"), "hello"),
                refused("cl-negative", post("content-length", "-5"), "hello"),
                refused("te-chunked", post("transfer-encoding", "chunked"), "5\r\nhello\r\n0\r\n\r\n"),
                refused("cl-with-te", post("content-length", "5", "transfer-encoding", "chunked"), "hello"),
                // A length the DATA disagrees with is known only as the body streams: the head has gone, the body never completes.
                new Case("cl-shorter-than-data", post("content-length", "3"), List.of("hello"), new String[0], Then.NOTHING, "refused",
                        Backend.ABORTED, List.of(), "", ""),
                new Case("cl-longer-than-data", post("content-length", "10"), List.of("hello"), new String[0], Then.NOTHING, "refused",
                        Backend.ABORTED, List.of(), "", ""),
                // A stream the client abandons mid-body: the backend never gets a complete request.
                abandoned("no-length-then-rst-stream", post(), Then.RESET_STREAM, "hel"),
                abandoned("length-then-rst-stream", post("content-length", "10"), Then.RESET_STREAM, "hello"),
                abandoned("no-length-then-connection-closed", post(), Then.CLOSE_CONNECTION, "hel"),
                abandoned("length-then-connection-closed", post("content-length", "10"), Then.CLOSE_CONNECTION, "hello"),
                // Controls: what must pass, framed by the proxy.
                accepted("valid-content-length", post("content-length", "5"), List.of("hello"), none, "hello", "", "Content-Length: 5"),
                accepted("valid-length-in-two-data-frames", post("content-length", "11"), List.of("hello", " world"), none, "hello world", "",
                        "Content-Length: 11"),
                accepted("no-length-is-forwarded-chunked", post(), List.of("hello", " world"), none, "hello world", "",
                        "Transfer-Encoding: chunked"),
                accepted("cl-leading-zeros-forwarded-canonical", post("content-length", "010"), List.of("helloworld"), none, "helloworld", "",
                        "Content-Length: 10"),
                accepted("trailers-pass-minus-framing-and-routing-fields", post("te", "trailers"), List.of("hello"),
                        new String[] {"x-checksum", "abc", "content-length", "99", "host", "evil.test", "x-forwarded-for", "6.6.6.6"},
                        "hello", "x-checksum: abc\r\n", "Host: front.test"));
    }

    @TestFactory
    Stream<DynamicTest> everyHttp2FramingVariant() {
        List<Case> cases = cases();
        return Stream.of(true, false).flatMap(overTls -> cases.stream()
                .filter(c -> System.getenv("CASE") == null || c.name().equals(System.getenv("CASE")))
                .map(c -> DynamicTest.dynamicTest((overTls ? "h2: " : "h2c: ") + c.name(), () -> check(c, overTls))));
    }

    /** A body timeout of 1 s: an abandoned body is noticed within it, long before the backend's own 10 s read timeout. */
    private static void check(Case c, boolean overTls) throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxySettings settings = new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                    new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), ProxySettings.Timeouts.DEFAULTS.response(), Duration.ofSeconds(1)),
                    ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, model.HealthSettings.DEFAULTS);
            ProxyServer proxy = ProxyServer.start(settings, new BackendPool(List.of(model.Backend.of(backend.url()))), "RoundRobin", new RoundRobin(),
                    overTls ? ProtocolSettings.tls(TestSupport.selfSignedTls()) : new ProtocolSettings(null, true, true, null));
            try {
                String outcome;
                String body;
                try (Http2Client client = new Http2Client(overTls ? h2(proxy) : new Socket(InetAddress.getLoopbackAddress(), proxy.port()))) {
                    boolean endsWithHeaders = c.data().isEmpty() && c.trailers().length == 0 && c.then() == Then.NOTHING;
                    client.headers(1, endsWithHeaders, c.fields());
                    boolean cutOff = false; // the proxy refused the head by ending the connection before the rest was written
                    try {
                        for (int i = 0; i < c.data().size(); i++) {
                            boolean last = i == c.data().size() - 1 && c.trailers().length == 0 && c.then() == Then.NOTHING;
                            client.frame(Http2Client.DATA, last ? Http2Client.END_STREAM : 0, 1, c.data().get(i).getBytes(StandardCharsets.ISO_8859_1));
                        }
                        if (c.trailers().length > 0) {
                            client.headers(1, true, c.trailers());
                        }
                    } catch (java.io.IOException e) {
                        if (!c.outcome().equals("refused")) {
                            throw e;
                        }
                        cutOff = true; // a connection error (GOAWAY, then close) can beat the client's next write
                    }
                    if (c.then() == Then.RESET_STREAM) {
                        awaitBytes(backend, c);
                        client.frame(Http2Client.RST_STREAM, 0, 1, new byte[] {0, 0, 0, 8}); // CANCEL
                    } else if (c.then() == Then.CLOSE_CONNECTION) {
                        awaitBytes(backend, c);
                        client.close();
                    }
                    outcome = cutOff ? "connection ended by the proxy" : c.then() == Then.NOTHING ? client.outcome(1) : "abandoned";
                    body = cutOff ? "" : data(client, 1);
                    switch (c.outcome()) {
                        case "refused" -> assertTrue(outcome.equals("status 400") || outcome.startsWith("RST_STREAM(") || outcome.startsWith("GOAWAY(")
                                || outcome.equals("connection ended by the proxy"),
                                c.name() + ": a refusal, got " + outcome);
                        case "status 200" -> {
                            assertEquals("status 200", outcome, c.name());
                            assertEquals("got " + c.forwardedBody().length() + " bytes", body, c.name() + ": the backend's answer, whole");
                        }
                        default -> { }
                    }
                    checkBackend(c, backend); // the client's connection still open, unless closing it was the attack
                }
            } finally {
                proxy.stop();
            }
        }
    }

    /** Waits until the head (and the DATA sent) reached the backend, so abandoning the stream happens mid-body. */
    private static void awaitBytes(RecordingBackend backend, Case c) throws InterruptedException {
        String last = c.data().get(c.data().size() - 1);
        TestSupport.await(() -> backend.allBytes().contains(last), c.name() + ": the body's start reaches the backend before the client abandons it");
    }

    private static void checkBackend(Case c, RecordingBackend backend) throws InterruptedException {
        switch (c.backend()) {
            case NOTHING -> {
                Thread.sleep(50); // a request that slipped through would have reached the backend by now
                assertEquals("", backend.allBytes(), c.name() + ": nothing may reach the backend");
            }
            case ABORTED -> {
                TestSupport.await(() -> backend.connections().stream().allMatch(RecordingBackend.Connection::isClosed),
                        c.name() + ": the backend connection must be closed (aborted)");
                assertEquals(List.of(), backend.completeRequests(), c.name() + ": no complete request may reach the backend");
                assertFalse(backend.allBytes().contains("\r\n0\r\n\r\n"), c.name() + ": never a terminating chunk: " + backend.allBytes());
            }
            case REQUEST -> {
                TestSupport.await(() -> backend.completeRequests().size() == 1, c.name() + ": one complete request");
                RecordingBackend.Request request = backend.completeRequests().get(0);
                assertEquals(1, backend.requests().size(), c.name() + ": " + backend.requests());
                assertTrue(request.head().startsWith("POST /upload HTTP/1.1\r\n"), c.name() + ": " + request.head());
                String head = request.head().toLowerCase(java.util.Locale.ROOT); // HTTP/2 names are lower case; any case is the same field
                for (String line : c.forwardedLines()) {
                    assertTrue(head.contains("\r\n" + line.toLowerCase(java.util.Locale.ROOT) + "\r\n"), c.name() + ": head lacks " + line + ": " + request.head());
                }
                assertEquals(c.forwardedBody(), request.body(), c.name() + ": the body");
                assertEquals(c.forwardedTrailers(), request.trailers().toLowerCase(java.util.Locale.ROOT), c.name() + ": the trailers");
            }
        }
    }

    /** The DATA the server sent on {@code stream}, read so far. */
    private static String data(Http2Client client, int stream) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Http2Client.Frame frame : new ArrayList<>(client.received())) {
            if (frame.type() == Http2Client.DATA && frame.stream() == stream) {
                int padding = (frame.flags() & 0x8) != 0 ? frame.payload()[0] & 0xff : 0;
                int from = (frame.flags() & 0x8) != 0 ? 1 : 0;
                out.write(frame.payload(), from, frame.payload().length - from - padding);
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** A TLS connection to {@code proxy} with h2 negotiated by ALPN. */
    private static SSLSocket h2(ProxyServer proxy) throws IOException {
        SSLSocket socket = (SSLSocket) TestSupport.trusting(proxy.tls()).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port());
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        parameters.setServerNames(List.of(new SNIHostName("localhost")));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        assertEquals("h2", socket.getApplicationProtocol(), "the proxy offers h2 by ALPN");
        return socket;
    }
}
