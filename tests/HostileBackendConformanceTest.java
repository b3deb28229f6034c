package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import model.HealthSettings;
import model.Strategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * What the proxy does with answers no server should send: raw-socket backends that send interim 1xx
 * responses, an unasked 101, conflicting framing, huge heads, garbage, resets and closes at each stage.
 * Each case asserts the exact status and body the client got and, where it matters, what the backend
 * saw: how many connections, how many requests on each, and that the proxy closed a connection it
 * could no longer trust instead of pooling it. The clients are raw sockets too, with bounded timeouts.
 */
class HostileBackendConformanceTest {
    private static final String OK_HELLO = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    private static final String MALFORMED = "sent a malformed answer ";
    private static final Pattern INTERIM_STATUS_LINE = Pattern.compile("(?m)^HTTP/1\\.[01] 1\\d\\d");

    /** One IO thread, so one connection pool per backend: sequential requests must share its connection. */
    private static final ProxySettings ONE_IO_THREAD = new ProxySettings(new ProxySettings.Listener("127.0.0.1", 0, 1, Duration.ofSeconds(60), Duration.ofSeconds(10)),
            new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), Duration.ofSeconds(10), ProxySettings.Timeouts.DEFAULTS.body()),
            ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS);

    final TestSupport support = newSupport();

    /** What starts the proxies: a single pool here, a routed config in {@link RoutedHostileBackendConformanceTest}. */
    TestSupport newSupport() {
        return new TestSupport();
    }

    @AfterEach
    void stopEverything() {
        support.close();
    }

    // --- interim 1xx: consumed, and the final answer is the one the client gets

    @Test
    void a100BeforeTheAnswerIsConsumed() throws Exception {
        assertPassesAsHello("HTTP/1.1 100 Continue\r\n\r\n" + OK_HELLO);
    }

    @Test
    void a102BeforeTheAnswerIsConsumed() throws Exception {
        assertPassesAsHello("HTTP/1.1 102 Processing\r\n\r\n" + OK_HELLO);
    }

    @Test
    void a103BeforeTheAnswerIsConsumed() throws Exception {
        assertPassesAsHello("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + OK_HELLO);
    }

    @Test
    void several103sBeforeTheAnswerAreConsumed() throws Exception {
        String hint = "HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n";
        assertPassesAsHello(hint + hint + hint + OK_HELLO);
    }

    @Test
    void a103ArrivingAloneThenTheAnswerLaterIsConsumed() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n");
            pause(100); // the answer in a later packet: the 103 alone must not look like the end
            TestSupport.write(connection.getOutputStream(), OK_HELLO);
        });
        ProxyServer proxy = proxy(backend.url());

        Answer answer = ask(proxy, "/");

        assertEquals(200, answer.status, answer.raw);
        assertEquals("hello", answer.body);
    }

    @Test
    void a103WithHeadersThenAChunkedAnswer() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nX-Hint: 1\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Final: yes\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        ProxyServer proxy = proxy(backend.url());

        Answer answer = ask(proxy, "/");

        assertEquals(200, answer.status, answer.raw);
        assertEquals("hello world", answer.body);
        assertTrue(answer.head.contains("X-Final: yes"), answer.head);
        assertFalse(answer.head.contains("X-Hint"), "the 103's headers were consumed with it: " + answer.head);
        assertFalse(INTERIM_STATUS_LINE.matcher(answer.raw).find(), answer.raw);
    }

    @Test
    void aClientsExpectIsAnsweredByTheProxyAndABackend100IsConsumed() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 100 Continue\r\n\r\n");
            String body = new String(connection.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1);
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ngot " + body);
        });
        ProxyServer proxy = proxy(backend.url());

        try (Socket client = client(proxy)) {
            TestSupport.write(client.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: lb.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", TestSupport.readHead(client.getInputStream()));
            TestSupport.write(client.getOutputStream(), "data");
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 "), response);
            assertTrue(response.endsWith("\r\n\r\ngot data"), response);
        }
        assertFalse(backend.requestHeads().get(0).toLowerCase().contains("expect"), backend.requestHeads().get(0));
    }

    /**
     * The cross-client check of issue 10: before the fix, Undertow ended the exchange at the 103 and
     * pooled the connection with the 200 unread, so the next client got the previous one's answer, and
     * a keep-alive client hung. One IO thread, so all four requests share one backend connection.
     */
    @RepeatedTest(20)
    void earlyHintsNeverHandOneClientsAnswerToAnother() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            String path = head.split(" ")[1];
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 103 Early Hints\r\nLink: <" + path + ".css>; rel=preload\r\n\r\n");
            pause(20);
            String body = "answer to " + path;
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        });
        ProxyServer proxy = proxy(ONE_IO_THREAD, new RoundRobin(), List.of(backend.url()));

        assertEquals("answer to /first", ask(proxy, "/first").body);
        assertEquals("answer to /second", ask(proxy, "/second").body);
        try (Socket client = client(proxy)) {
            for (String path : List.of("/third", "/fourth")) {
                TestSupport.write(client.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb.test\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
                assertTrue(response.endsWith("\r\n\r\nanswer to " + path), response);
            }
        }
        assertEquals(List.of("/first", "/second", "/third", "/fourth"), backend.requestHeads().stream().map(h -> h.split(" ")[1]).toList());
        assertEquals(List.of(0, 0, 0, 0), backend.requestConnections(), "one pooled connection, kept in step");
    }

    /** Bytes a backend sends after its answer are not the next client's answer: that connection is closed, not pooled. */
    @RepeatedTest(5)
    void bytesAfterAnAnswerNeverReachTheNextClient() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            String body = "answer to " + head.split(" ")[1];
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
        });
        ProxyServer proxy = proxy(ONE_IO_THREAD, new RoundRobin(), List.of(backend.url()));

        assertEquals("answer to /first", ask(proxy, "/first").body);
        assertEquals("answer to /second", ask(proxy, "/second").body);
        assertEquals(List.of(0, 1), backend.requestConnections(), "the connection with bytes left over was not used again");
    }

    // --- 101 only answers a request that asked to upgrade

    @Test
    void a101ToARequestThatDidNotAskToUpgradeIs502() throws Exception {
        assertBadGateway("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfree bytes",
                MALFORMED + "(101 Switching Protocols to a request that did not ask to upgrade)");
    }

    @Test
    void a101ToARequestThatAskedToUpgradeSwitchesProtocols() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            String ping = new String(connection.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1);
            TestSupport.write(connection.getOutputStream(), ping.equals("ping") ? "pong" : "what?");
        });
        ProxyServer proxy = proxy(backend.url());

        try (Socket client = client(proxy)) {
            TestSupport.write(client.getOutputStream(), "GET /ws HTTP/1.1\r\nHost: lb.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
            String head = TestSupport.readHead(client.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            TestSupport.write(client.getOutputStream(), "ping");
            assertEquals("pong", new String(client.getInputStream().readNBytes(4), StandardCharsets.ISO_8859_1));
        }
        assertTrue(backend.requestHeads().get(0).contains("Upgrade: websocket"), backend.requestHeads().get(0));
    }

    // --- framing a proxy cannot trust

    @Test
    void twoDifferentContentLengthsAre502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 11\r\n\r\nhello world", MALFORMED + "(Content-Length 2 times)");
    }

    /** RFC 9110 section 8.6 allows refusing or merging identical copies; we refuse, as for different ones. */
    @Test
    void twoEqualContentLengthsAre502Too() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", MALFORMED + "(Content-Length 2 times)");
    }

    @Test
    void aContentLengthThatIsNotANumberIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", MALFORMED + "(Content-Length '5, 5')");
    }

    @Test
    void contentLengthWithTransferEncodingIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                MALFORMED + "(both Content-Length and Transfer-Encoding)");
    }

    @Test
    void transferEncodingGzipIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello", MALFORMED + "(Transfer-Encoding other than exactly 'chunked')");
    }

    @Test
    void transferEncodingChunkedTwiceInOneHeaderIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                MALFORMED + "(Transfer-Encoding other than exactly 'chunked')");
    }

    @Test
    void transferEncodingInTwoHeadersIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                MALFORMED + "(Transfer-Encoding other than exactly 'chunked')");
    }

    @Test
    void aFoldedHeaderLineIs502() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\r\nX-Long: a\r\n Content-Length: 5\r\n\r\nhello",
                MALFORMED + "(whitespace in a header name, or a folded line)");
    }

    @Test
    void aKeptAlive502LeavesTheClientsConnectionUsable() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = proxy(backend.url());
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            for (int i = 0; i < 3; i++) {
                TestSupport.write(client.getOutputStream(), "POST /" + i + " HTTP/1.1\r\nHost: front.test\r\nContent-Length: 0\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 502 ") && response.contains("\r\nConnection: keep-alive\r\n"),
                        "answer " + i + " on the same connection it promised to keep: " + response);
            }
        }
    }

    @Test
    void aStatusLineWithoutTheSpaceAfterItsCodeIs502SayingSo() throws Exception {
        assertBadGateway("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", MALFORMED + "(a status line without the space after its code)");
    }

    @Test
    void aBareLfInTheHeadIs502SayingSo() throws Exception {
        assertBadGateway("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", MALFORMED + "(a bare LF in its head)");
        assertBadGateway("HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: b\r\n\r\nok", MALFORMED + "(a bare LF in its head)");
    }

    @Test
    void anEmptyReasonPhraseAfterItsSpaceIsFine() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok"));
        assertEquals("ok", ask(proxy(backend.url()), "/").body);
    }

    @Test
    void transferEncodingChunkedInAnyCaseIsFine() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        ProxyServer proxy = proxy(backend.url());

        Answer answer = ask(proxy, "/");

        assertEquals(200, answer.status, answer.raw);
        assertEquals("hello", answer.body);
    }

    // --- a chunked body that breaks its framing after the answer has started

    /** What the client reads from a raw socket when the answer's chunked body is malformed, and what the backend saw. */
    private void assertChunkedBodyAborted(String body) throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
        ProxyServer proxy = proxy(backend.url());
        String raw;
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            TestSupport.write(client.getOutputStream(), "GET /chunks HTTP/1.1\r\nHost: front.test\r\n\r\n");
            raw = TestSupport.readUntilClosed(client.getInputStream()); // closed, not left hanging: a timeout fails the read
        }
        // Aborted: nothing at all when the bad framing came before the proxy wrote the head (ProxyHandler closes),
        // else the head and part of the body; never the terminating chunk, never a connection left open.
        assertTrue(raw.isEmpty() || raw.startsWith("HTTP/1.1 200 "), raw);
        assertFalse(raw.endsWith("0\r\n\r\n"), "no complete chunked body the backend did not send: " + raw);
        TestSupport.await(() -> backend.connectionsClosedByProxy() == 1, Duration.ofSeconds(5), "the backend connection closed by the proxy");
    }

    @Test
    void chunkDataLongerThanItsSizeAbortsTheClientInsteadOfPassingAShorterBody() throws Exception {
        assertChunkedBodyAborted("5\r\nhello\r\n3\r\nabcdef\r\n0\r\n\r\n");
    }

    @Test
    void aBareCrAfterChunkDataAbortsTheClientInsteadOfHangingIt() throws Exception {
        assertChunkedBodyAborted("3\r\nabc\r0\r\n\r\n");
    }

    @Test
    void aChunkSizeThatIsNotHexAbortsTheClient() throws Exception {
        assertChunkedBodyAborted("5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n");
    }

    @Test
    void aSoundChunkedBodyWithExtensionsAndTrailersPassesAndTheConnectionIsReused() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n"));
        ProxyServer proxy = proxy(ONE_IO_THREAD, new RoundRobin(), List.of(backend.url()));
        assertEquals("hello world", ask(proxy, "/one").body);
        assertEquals("hello world", ask(proxy, "/two").body);
        assertEquals(List.of(0, 0), backend.requestConnections(), "a sound chunked answer leaves the connection reusable");
    }

    @Test
    void framingAndRoutingFieldsInAResponseTrailerNeverReachTheClient() throws Exception {
        RawBackend backend = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                + "X-Checksum: 42\r\nContent-Length: 999\r\nTransfer-Encoding: gzip\r\nHost: evil.test\r\nSet-Cookie: session=stolen\r\n"
                + "X-Forwarded-For: 6.6.6.6\r\n\r\n"));
        ProxyServer proxy = proxy(backend.url());
        String raw;
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            TestSupport.write(client.getOutputStream(), "GET /t HTTP/1.1\r\nHost: front.test\r\nTE: trailers\r\nConnection: close\r\n\r\n");
            raw = TestSupport.readUntilClosed(client.getInputStream());
        }
        String trailer = raw.substring(raw.indexOf("\r\n0\r\n") + 5).toLowerCase(java.util.Locale.ROOT);
        assertTrue(raw.startsWith("HTTP/1.1 200 ") && trailer.contains("x-checksum: 42\r\n"), "an ordinary trailer passes: " + raw);
        for (String refused : List.of("content-length", "transfer-encoding", "host", "set-cookie", "x-forwarded-for")) {
            assertFalse(trailer.contains(refused + ":"), refused + " in a trailer reached the client: " + raw);
        }
    }

    @Test
    void aHeadAnswerSaysChunkedButHasNoBodyAndTheNextAnswerIsNotMisread() throws Exception {
        RawBackend backend = raw((connection, head) -> TestSupport.write(connection.getOutputStream(), head.startsWith("HEAD")
                ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        ProxyServer proxy = proxy(ONE_IO_THREAD, new RoundRobin(), List.of(backend.url()));
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(5_000);
            TestSupport.write(client.getOutputStream(), "HEAD /h HTTP/1.1\r\nHost: front.test\r\n\r\n");
            String headAnswer = TestSupport.readHead(client.getInputStream());
            assertTrue(headAnswer.startsWith("HTTP/1.1 200 "), headAnswer);
            TestSupport.write(client.getOutputStream(), "GET /g HTTP/1.1\r\nHost: front.test\r\n\r\n");
            String next = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(next.startsWith("HTTP/1.1 200 ") && next.endsWith("\r\n\r\nok"), next);
        }
        assertEquals(List.of(0, 0), backend.requestConnections());
    }

    // --- heads over the limit

    @Test
    void aOneMegabyteHeadIs502() throws Exception {
        assertBadGateway(withHeadOf(1 << 20), "sent a response head over the limit (--max-response-header-size 65536 bytes)");
    }

    @Test
    void aFiveMegabyteHeadIs502() throws Exception {
        assertBadGateway(withHeadOf(5 << 20), "sent a response head over the limit (--max-response-header-size 65536 bytes)");
    }

    @Test
    void interimHeadsCountTowardsTheLimit() throws Exception {
        String hint = "HTTP/1.1 103 Early Hints\r\nLink: <" + "a".repeat(10_000) + ">; rel=preload\r\n\r\n";
        assertBadGateway(hint.repeat(8) + OK_HELLO, "sent a response head over the limit (--max-response-header-size 65536 bytes)");
    }

    @Test
    void aHeadJustUnderTheLimitPasses() throws Exception {
        assertPassesAsHello(withHeadOf(60 * 1024).replace("Content-Length: 0", "Content-Length: 5") + "hello");
    }

    @Test
    void aLargerLimitLetsALargerHeadThrough() throws Exception {
        RawBackend backend = raw(RawBackend.answer(withHeadOf(200 * 1024).replace("Content-Length: 0", "Content-Length: 5") + "hello"));
        ProxyServer proxy = proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS, ProxySettings.Timeouts.DEFAULTS,
                new ProxySettings.Limits(ProxySettings.Limits.DEFAULTS.maxBodyBytes(), ProxySettings.Limits.DEFAULTS.maxHeaderBytes(), 256 * 1024,
                        ProxySettings.Limits.DEFAULTS.maxClientConnections()),
                ProxySettings.Backends.DEFAULTS, HealthSettings.DEFAULTS), new RoundRobin(), List.of(backend.url()));

        Answer answer = ask(proxy, "/");

        assertEquals(200, answer.status, answer.head.substring(0, Math.min(200, answer.head.length())));
        assertEquals("hello", answer.body);
    }

    // --- garbage, resets and closes

    @Test
    void garbageInsteadOfAStatusLineIs502() throws Exception {
        assertBadGateway("SSH-2.0-OpenSSH_9.2\r\n\r\n", MALFORMED + "(no HTTP/1.x status line)");
    }

    @Test
    void anHttp2PrefaceLikeAnswerIs502() throws Exception {
        assertBadGateway("HTTP/2 200\r\nContent-Length: 5\r\n\r\nhello", MALFORMED + "(no HTTP/1.x status line)");
    }

    @Test
    void aResetBeforeTheHeadIs502() throws Exception {
        RawBackend backend = raw(RawBackend.RESET);
        assertBadGatewayFrom(backend, "reset the connection without answering");
    }

    @Test
    void aCloseBeforeTheHeadIs502() throws Exception {
        RawBackend backend = raw(RawBackend.CLOSE);
        assertBadGatewayFrom(backend, "closed the connection without answering");
    }

    @Test
    void aResetInTheMiddleOfTheHeadIs502() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Le");
            pause(300); // let the proxy read the first half before the reset discards anything unread
            RawBackend.RESET.answer(connection, head);
        });
        assertBadGatewayFrom(backend, "reset the connection in the middle of its response head");
    }

    @Test
    void aCloseInTheMiddleOfTheHeadIs502() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Le");
            RawBackend.CLOSE.answer(connection, head);
        });
        assertBadGatewayFrom(backend, "closed the connection in the middle of its response head");
    }

    @Test
    void aResetInTheMiddleOfTheBodyCutsTheClientOff() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nthe first part");
            pause(300);
            RawBackend.RESET.answer(connection, head);
        });
        assertCutOff(backend);
    }

    @Test
    void aCloseInTheMiddleOfAContentLengthBodyCutsTheClientOff() throws Exception {
        RawBackend backend = raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nthe first part");
            RawBackend.CLOSE.answer(connection, head);
        });
        assertCutOff(backend);
    }

    /** The answer starts (the head is already sent), so no 502 is possible: the client must see a short body and a closed connection, not a hang. */
    private void assertCutOff(RawBackend backend) throws Exception {
        ProxyServer proxy = proxy(backend.url());
        try (Socket client = client(proxy)) {
            TestSupport.write(client.getOutputStream(), "GET / HTTP/1.1\r\nHost: lb.test\r\n\r\n");
            String raw = TestSupport.readUntilClosed(client.getInputStream());
            assertTrue(raw.startsWith("HTTP/1.1 200 "), raw);
            assertTrue(raw.contains("Content-Length: 100"), raw);
            String body = raw.substring(raw.indexOf("\r\n\r\n") + 4);
            assertEquals("the first part", body, "the body is cut short and the connection closed, never padded or completed");
        }
        assertEquals(1, backend.requestHeads().size());
    }

    // --- health: a hostile answer is the backend's fault

    @Test
    void malformedAnswersEjectTheBackendThatSentThem() throws Exception {
        RawBackend hostile = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"));
        RawBackend healthy = raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhealthy"));
        Strategy hostileFirst = (candidates, request) -> candidates.allowed(0);
        ProxyServer proxy = proxy(ProxySettings.FOR_TESTS, hostileFirst, List.of(hostile.url(), healthy.url()));

        // POSTs, so that no retry hides the failures: each one is a 502 from the hostile backend.
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/" + i).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(502, response.statusCode(), response.body());
            assertEquals("502 Bad Gateway: the backend " + MALFORMED + "(Content-Length 2 times)\n", response.body());
        }
        assertTrue(proxy.pool().all().get(0).health().isEjected(), "three malformed answers in a row eject it (--max-fails 3)");
        assertTrue(proxy.events().recent().stream().anyMatch(e -> e.text().contains("ejected") && e.text().contains("Content-Length 2 times")),
                proxy.events().recent().toString());

        HttpResponse<String> after = support.http.send(TestSupport.request(proxy, "/after").POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("healthy", after.body());
        assertEquals(3, hostile.requestHeads().size());
    }

    // --- helpers

    /** A backend that misbehaves as told: plain HTTP here, {@code https://} in {@link HostileTlsBackendConformanceTest}. */
    RawBackend raw(RawBackend.Behaviour behaviour) throws IOException {
        return support.raw(behaviour);
    }

    /** A load balancer over {@code backendUrls}, trusting them when they speak TLS. */
    ProxyServer proxy(ProxySettings settings, Strategy strategy, List<String> backendUrls) {
        return support.proxy(settings, strategy, backendUrls);
    }

    private ProxyServer proxy(String backendUrl) {
        return proxy(ProxySettings.FOR_TESTS, new RoundRobin(), List.of(backendUrl));
    }


    private void assertPassesAsHello(String rawAnswer) throws Exception {
        RawBackend backend = raw(RawBackend.answer(rawAnswer));
        ProxyServer proxy = proxy(ONE_IO_THREAD, new RoundRobin(), List.of(backend.url()));

        Answer first = ask(proxy, "/one");
        Answer second = ask(proxy, "/two");

        for (Answer answer : List.of(first, second)) {
            assertEquals(200, answer.status, answer.raw.substring(0, Math.min(300, answer.raw.length())));
            assertEquals("hello", answer.body);
            // A status line, not " 10" anywhere: the Date header says " 10:" every morning from 10:00 UTC.
            assertFalse(INTERIM_STATUS_LINE.matcher(answer.raw).find(), "no interim answer reaches the client: " + answer.head.substring(0, Math.min(300, answer.head.length())));
        }
        // Both requests on one backend connection: the interim heads left nothing unread behind.
        assertEquals(2, backend.requestHeads().size());
        assertEquals(1, backend.acceptedConnections());
    }

    /** {@link #assertBadGatewayFrom}, and the proxy closed the connection instead of pooling it. */
    private void assertBadGateway(String rawAnswer, String reason) throws Exception {
        RawBackend backend = raw(RawBackend.answer(rawAnswer));
        assertBadGatewayFrom(backend, reason);
        await(() -> backend.connectionsClosedByProxy() == 1, "the proxy closes the backend connection instead of pooling it");
    }

    /** One request gets a 502 naming {@code reason}, and the backend saw exactly that request, on one connection. */
    private void assertBadGatewayFrom(RawBackend backend, String reason) throws Exception {
        ProxyServer proxy = proxy(backend.url());

        Answer answer = ask(proxy, "/");

        assertEquals(502, answer.status, answer.raw.substring(0, Math.min(300, answer.raw.length())));
        assertEquals("502 Bad Gateway: the backend " + reason + "\n", answer.body);
        assertTrue(answer.head.contains("Content-Type: text/plain"), answer.head);
        assertEquals(1, backend.requestHeads().size(), "a GET that failed at its only backend is not sent anywhere again");
        assertEquals(1, backend.acceptedConnections());
    }

    /** A response head of about {@code bytes} bytes: a status line, filler headers, an empty body. */
    private static String withHeadOf(int bytes) {
        StringBuilder head = new StringBuilder(bytes + 100).append("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
        String filler = "X-Filler-%06d: " + "f".repeat(80) + "\r\n";
        for (int i = 0; head.length() < bytes - 100; i++) {
            head.append(String.format(filler, i));
        }
        return head.append("\r\n").toString();
    }

    private static Socket client(ProxyServer proxy) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout(5_000); // a hang fails the test instead of stalling the run
        return socket;
    }

    /** One request on a fresh connection that asks to close; everything the proxy sent until it closed. */
    private static Answer ask(ProxyServer proxy, String path) throws IOException {
        try (Socket socket = client(proxy)) {
            TestSupport.write(socket.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: lb.test\r\nConnection: close\r\n\r\n");
            return Answer.parse(TestSupport.readUntilClosed(socket.getInputStream()));
        }
    }

    private record Answer(String raw, int status, String head, String body) {
        static Answer parse(String raw) {
            int end = raw.indexOf("\r\n\r\n");
            assertTrue(end > 0 && raw.startsWith("HTTP/1.1 "), "not an HTTP answer: " + raw.substring(0, Math.min(200, raw.length())));
            String head = raw.substring(0, end + 2);
            String rest = raw.substring(end + 4);
            boolean chunked = head.toLowerCase().contains("\r\ntransfer-encoding: chunked\r\n");
            return new Answer(raw, Integer.parseInt(raw.substring(9, 12)), head, chunked ? dechunk(rest) : rest);
        }

        private static String dechunk(String chunked) {
            StringBuilder body = new StringBuilder();
            int at = 0;
            while (true) {
                int lineEnd = chunked.indexOf("\r\n", at);
                int size = Integer.parseInt(chunked.substring(at, lineEnd).trim(), 16);
                if (size == 0) {
                    return body.toString();
                }
                body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
                at = lineEnd + 2 + size + 2;
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
