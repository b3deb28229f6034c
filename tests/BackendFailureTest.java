package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import model.Strategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;

/**
 * A dead, slow or misbehaving backend gets a fast, clear answer to the client: a retry where that is
 * safe, otherwise 502, 503 or 504 with a short body; never a hang.
 */
class BackendFailureTest {
    private final TestSupport support = new TestSupport();

    @AfterEach
    void stopEverything() {
        support.close();
    }

    @Test
    void oneDeadBackendIsRoutedAround() throws Exception {
        DemoServer a = support.demo("a"), c = support.demo("c");
        String dead = "http://127.0.0.1:" + TestSupport.deadPort();
        ProxyServer proxy = support.proxy(a.url(), dead, c.url());

        for (int i = 0; i < 30; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode(), "request " + i);
        }
        assertEquals(30, a.requestCount() + c.requestCount());
    }

    @Test
    void postsAreRoutedAroundARefusedConnectToo() throws Exception {
        DemoServer live = support.demo("live");
        ProxyServer proxy = support.proxy("http://127.0.0.1:" + TestSupport.deadPort(), live.url());

        for (int i = 0; i < 4; i++) {
            HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/")
                    .POST(HttpRequest.BodyPublishers.ofString("nothing was sent to the dead one")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), "a refused connect sent nothing, so any method may go elsewhere");
        }
    }

    @Test
    void aRequestOverTheRetryBudgetIsAnsweredWithoutASecondPick() throws Exception {
        DemoServer live = support.demo("live");
        AtomicInteger picks = new AtomicInteger();
        // Always the dead backend first: only a retry could reach the live one, and the budget allows none.
        Strategy deadFirst = (candidates, request) -> {
            picks.incrementAndGet();
            return candidates.allowed(0);
        };
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                new ProxySettings.Backends(0, 0), HealthSettings.DEFAULTS), deadFirst,
                List.of("http://127.0.0.1:" + TestSupport.deadPort(), live.url()));

        HttpResponse<String> response = support.get(proxy, "/");

        assertEquals(503, response.statusCode(), response.body());
        assertTrue(response.body().startsWith("503 Service Unavailable"), response.body());
        assertEquals(1, picks.get(), "over the budget, the failure is answered: the strategy is not asked again");
        assertEquals(0, live.requestCount());
    }

    @Test
    void withinTheBudgetARefusedConnectIsPickedAgainOnceWithTheDeadOneAvoided() throws Exception {
        DemoServer live = support.demo("live");
        List<Integer> offered = new CopyOnWriteArrayList<>();
        Strategy firstAllowed = (candidates, request) -> {
            offered.add(candidates.allowedCount());
            return candidates.allowed(0);
        };
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, firstAllowed,
                List.of("http://127.0.0.1:" + TestSupport.deadPort(), live.url()));

        assertEquals(200, support.get(proxy, "/").statusCode());
        assertEquals(List.of(2, 1), offered, "one loop: the first pick of two, then one pick of the one not tried");
    }

    @Test
    void allBackendsDeadAnswers503Fast() throws Exception {
        ProxyServer proxy = support.proxy("http://127.0.0.1:" + TestSupport.deadPort(), "http://127.0.0.1:" + TestSupport.deadPort(),
                "http://127.0.0.1:" + TestSupport.deadPort());

        long started = System.nanoTime();
        HttpResponse<String> response = support.get(proxy, "/");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(503, response.statusCode());
        assertTrue(response.body().startsWith("503 Service Unavailable"), response.body());
        assertTrue(millis < 1_000, "took " + millis + " ms");
    }

    @Test
    void slowBackendAnswers504AtTheTimeout() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofSeconds(5), 0));
        ProxyServer proxy = support.proxy(timingOut(ProxySettings.Listener.FOR_TESTS, Duration.ofMillis(500), ProxySettings.Timeouts.DEFAULTS.body(), HealthSettings.DEFAULTS), new RoundRobin(), List.of(slow.url()));

        long started = System.nanoTime();
        HttpResponse<String> response = support.get(proxy, "/");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(504, response.statusCode());
        assertTrue(response.body().startsWith("504 Gateway Timeout"), response.body());
        assertTrue(millis >= 450 && millis < 3_000, "504 should come at the 500 ms timeout, came after " + millis + " ms");
    }

    @Test
    void waitingRequestsEachGet504AtTheirOwnDeadlineWhileQuickOnesPass() throws Exception {
        // One IO thread, so every timeout below shares its list of deadlines; round robin sends one
        // request of each pair to the slow backend and one to the quick one. Each request has a
        // connection of its own (raw sockets), answered with Connection: close.
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofSeconds(5), 0));
        DemoServer quick = support.demo("quick");
        ProxyServer proxy = support.proxy(timingOut(ONE_IO_THREAD, Duration.ofMillis(600), ProxySettings.Timeouts.DEFAULTS.body(), HealthSettings.DEFAULTS), new RoundRobin(), List.of(slow.url(), quick.url()));

        record Answer(String response, long millis) {}
        List<CompletableFuture<Answer>> sent = new ArrayList<>();
        for (int pair = 0; pair < 2; pair++) {
            if (pair == 1) {
                Thread.sleep(300); // the second pair's deadlines come 300 ms after the first's
            }
            for (int i = 0; i < 2; i++) {
                String request = "GET /pair-" + pair + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
                sent.add(CompletableFuture.supplyAsync(() -> {
                    long started = System.nanoTime();
                    try {
                        String response = TestSupport.rawExchange(proxy.port(), request);
                        return new Answer(response, (System.nanoTime() - started) / 1_000_000);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            }
        }
        int timedOut = 0;
        int answered = 0;
        for (CompletableFuture<Answer> future : sent) {
            Answer answer = future.get(10, TimeUnit.SECONDS);
            if (answer.response().startsWith("HTTP/1.1 504 ")) {
                timedOut++;
                assertTrue(answer.millis() >= 550 && answer.millis() < 3_000,
                        "each 504 should come 600 ms after its own request, came after " + answer.millis() + " ms");
            } else {
                answered++;
                assertTrue(answer.response().startsWith("HTTP/1.1 200 ") && answer.response().contains("\"backend\":\"quick\""), answer.response());
                assertTrue(answer.millis() < 550, "the quick backend's answer took " + answer.millis() + " ms");
            }
        }
        assertEquals(2, timedOut, "one request of each pair went to the slow backend");
        assertEquals(2, answered, "one request of each pair went to the quick backend");
    }

    /** One IO thread: every request's timeout shares its list of deadlines. */
    private static final ProxySettings.Listener ONE_IO_THREAD = new ProxySettings.Listener("127.0.0.1", 0, 1, Duration.ofSeconds(60), Duration.ofSeconds(2));

    /** Test settings with a short --timeout and the given --body-timeout, listener and health rules. */
    private static ProxySettings timingOut(ProxySettings.Listener listener, Duration timeout, Duration bodyTimeout, HealthSettings health) {
        return new ProxySettings(listener, new ProxySettings.Timeouts(ProxySettings.Timeouts.DEFAULTS.connect(), timeout, bodyTimeout),
                ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, health);
    }

    /** Passive health that ejects a backend at its first failure, so any blame shows. */
    private static final HealthSettings EJECT_AT_ONE_FAILURE =
            new HealthSettings(new HealthChecks(null, Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3),
                    new PassiveEjection(1, Duration.ofSeconds(10), 100), Duration.ZERO, false);

    /** Reads the request's Content-Length body, then answers with it. */
    private static final RawBackend.Behaviour ECHO = (connection, head) -> {
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        String body = new String(connection.getInputStream().readNBytes(length), StandardCharsets.ISO_8859_1);
        TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    };

    @Test
    void anUploadThatTricklesLongerThanTheTimeoutIsNotA504() throws Exception {
        RawBackend echo = support.raw(ECHO);
        ProxyServer proxy = support.proxy(timingOut(ProxySettings.Listener.FOR_TESTS, Duration.ofMillis(500), Duration.ofSeconds(2), EJECT_AT_ONE_FAILURE),
                new RoundRobin(), List.of(echo.url()));

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            TestSupport.write(client.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: front.test\r\nContent-Length: 15\r\n\r\n");
            for (String part : new String[] {"part1", "part2", "part3"}) {
                sleep(500); // three parts over 1.5 s: three times --timeout, each gap within --body-timeout
                TestSupport.write(client.getOutputStream(), part);
            }
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 "), "the wait for the answer starts once the body is sent: " + response);
            assertTrue(response.endsWith("\r\n\r\npart1part2part3"), response);
        }
        assertFalse(proxy.pool().all().get(0).health().isEjected(), "the backend was not blamed for the client's slow upload");
    }

    @Test
    void aFullySentUploadTheBackendNeverAnswersGets504AtTheTimeout() throws Exception {
        RawBackend silent = support.raw((connection, head) -> {
            connection.getInputStream().readNBytes(5); // takes the whole body, then never answers
            sleep(5_000);
        });
        ProxyServer proxy = support.proxy(timingOut(ProxySettings.Listener.FOR_TESTS, Duration.ofMillis(500), Duration.ofSeconds(2), EJECT_AT_ONE_FAILURE),
                new RoundRobin(), List.of(silent.url()));

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            TestSupport.write(client.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: front.test\r\nContent-Length: 5\r\n\r\n");
            sleep(700); // longer than --timeout before the body: that wait was the client's
            TestSupport.write(client.getOutputStream(), "hello");
            long sent = System.nanoTime();
            String response = TestSupport.readOneResponse(client.getInputStream());
            long millis = (System.nanoTime() - sent) / 1_000_000;
            assertTrue(response.startsWith("HTTP/1.1 504 "), response);
            assertTrue(response.contains("504 Gateway Timeout: the backend did not answer in time (--timeout)"), response);
            assertTrue(millis >= 400 && millis < 3_000, "504 should come about 500 ms after the body was sent, came after " + millis + " ms");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!proxy.pool().all().get(0).health().isEjected() && System.nanoTime() < deadline) {
            sleep(20);
        }
        assertTrue(proxy.pool().all().get(0).health().isEjected(), "a backend that did not answer a sent request is to blame");
        while (proxy.pool().all().get(0).inFlight() != 0 && System.nanoTime() < deadline) {
            sleep(20);
        }
        assertEquals(0, proxy.pool().all().get(0).inFlight(), "the request is over");
    }

    @Test
    void aBackendThatStopsTakingTheBodyGets504AtTheTimeout() throws Exception {
        RawBackend stuck = support.raw((connection, head) -> sleep(5_000)); // reads the head, never the body, never answers
        ProxyServer proxy = support.proxy(timingOut(ProxySettings.Listener.FOR_TESTS, Duration.ofMillis(500), Duration.ofSeconds(2), EJECT_AT_ONE_FAILURE), new RoundRobin(), List.of(stuck.url()));
        byte[] body = new byte[16 * 1024 * 1024]; // more than the socket buffers on the way can hold

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            Thread sender = uploader(client, body);
            long started = System.nanoTime();
            sender.start();
            String response = TestSupport.readOneResponse(client.getInputStream());
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(response.startsWith("HTTP/1.1 504 "), "like nginx's proxy_send_timeout: " + response);
            assertTrue(response.contains("\r\nConnection: close\r\n"), "the rest of the body is not drained: " + response);
            assertTrue(millis < 5_000, "took " + millis + " ms");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (proxy.pool().all().get(0).inFlight() != 0 && System.nanoTime() < deadline) {
            sleep(20);
        }
        assertEquals(0, proxy.pool().all().get(0).inFlight(), "the request is over");
        assertTrue(proxy.pool().all().get(0).health().isEjected(), "a backend that stopped taking the request is to blame");
    }

    @Test
    void getIsRetriedOnAnotherBackendWhenOneResetsBeforeAnswering() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        DemoServer live = support.demo("live");
        ProxyServer proxy = support.proxy(resetting.url(), live.url());

        for (int i = 0; i < 6; i++) {
            HttpResponse<String> response = support.get(proxy, "/idempotent");
            assertEquals(200, response.statusCode(), "request " + i + ": " + response.body());
            assertEquals("live", TestSupport.json(response).get("backend").getAsString());
        }
        assertTrue(resetting.requestHeads().size() >= 3, "round robin did send to the resetting backend");
    }

    @Test
    void postToABackendThatResetsGets502AtOnceAndIsNotReplayed() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        DemoServer live = support.demo("live");
        ProxyServer proxy = support.proxy(resetting.url(), live.url());

        HttpRequest post = TestSupport.request(proxy, "/pay").POST(HttpRequest.BodyPublishers.ofString("amount=10")).build();
        long started = System.nanoTime();
        HttpResponse<String> first = support.http.send(post, HttpResponse.BodyHandlers.ofString());
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(502, first.statusCode(), first.body());
        assertTrue(first.body().startsWith("502 Bad Gateway"), first.body());
        assertTrue(millis < 2_000, "502 must come at once, not at the timeout; took " + millis + " ms");
        assertEquals(1, resetting.requestHeads().size());
        assertEquals(0, live.requestCount(), "a POST the backend may have acted on is never sent again");
    }

    @Test
    void backendClosingWithoutAnswerGets502NotAHang() throws Exception {
        RawBackend closing = support.raw(RawBackend.CLOSE);
        ProxyServer proxy = support.proxy(closing.url());

        for (String method : new String[] {"GET", "POST"}) {
            long started = System.nanoTime();
            HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/")
                    .method(method, HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(502, response.statusCode(), method + ": " + response.body());
            assertTrue(millis < 2_000, method + " took " + millis + " ms");
        }
    }

    @Test
    void backendThatAnswersGarbageGets502() throws Exception {
        RawBackend garbage = support.raw(RawBackend.answer("this is not HTTP\r\n\r\n"));
        ProxyServer proxy = support.proxy(garbage.url());

        HttpResponse<String> response = support.get(proxy, "/");

        assertEquals(502, response.statusCode(), response.body());
    }

    @Test
    void backendsOwn503PassesThroughUnchanged() throws Exception {
        RawBackend busy = support.raw(RawBackend.answer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\nRetry-After: 5\r\n\r\nbusy, sry"));
        ProxyServer proxy = support.proxy(busy.url());

        HttpResponse<String> response = support.get(proxy, "/");

        assertEquals(503, response.statusCode());
        assertEquals("busy, sry", response.body());
        assertEquals("5", response.headers().firstValue("Retry-After").orElse(""));
    }

    @Test
    void resetWhileTheClientIsStillUploadingGets502NotAHang() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET);
        ProxyServer proxy = support.proxy(resetting.url());
        byte[] body = new byte[8 * 1024 * 1024];

        long started = System.nanoTime();
        HttpResponse<String> response;
        try {
            response = support.http.send(TestSupport.request(proxy, "/upload").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException closedMidUpload) {
            response = null; // the proxy may close the client's connection while the body is still coming
        }
        long millis = (System.nanoTime() - started) / 1_000_000;

        if (response != null) {
            assertEquals(502, response.statusCode(), response.body());
        }
        assertTrue(millis < 5_000, "took " + millis + " ms");
    }

    @Test
    void aResetWhileTheBodyIsStillBeingSentSaysSo() throws Exception {
        RawBackend resetting = support.raw(RawBackend.RESET); // reads the head, then resets with the body unread
        ProxyServer proxy = support.proxy(resetting.url());
        byte[] body = new byte[8 * 1024 * 1024];

        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            client.setSoTimeout(10_000);
            Thread sender = uploader(client, body);
            sender.start();
            String response = TestSupport.readOneResponse(client.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 502 "), response);
            assertTrue(response.contains("\r\n\r\n502 Bad Gateway: the backend reset"), response);
            assertTrue(response.contains(" the connection while the request was being sent\n"), response);
            assertTrue(response.contains("\r\nConnection: close\r\n"), "the unread rest of the body is not drained: " + response);
        }
        assertEquals(1, resetting.requestHeads().size());
    }

    @Test
    void resetAfterAPartialStatusLineGets502() throws Exception {
        RawBackend partial = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 20");
            RawBackend.RESET.answer(connection, head);
        });
        ProxyServer proxy = support.proxy(partial.url());

        long started = System.nanoTime();
        HttpResponse<String> response = support.get(proxy, "/");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(502, response.statusCode(), response.body());
        assertTrue(millis < 2_000, "took " + millis + " ms");
    }

    @Test
    void resetOnAReusedKeepAliveConnectionIsRetriedForGet() throws Exception {
        int[] served = {0};
        RawBackend flaky = support.raw((connection, head) -> {
            if (served[0]++ % 2 == 0) {
                TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
            } else {
                RawBackend.RESET.answer(connection, head); // the second request on the same connection
            }
        });
        DemoServer live = support.demo("live");
        // Always the flaky backend first, so only the retry can save the second request.
        Strategy flakyFirst = (candidates, request) -> candidates.allowed(0);
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, flakyFirst, List.of(flaky.url(), live.url()));

        assertEquals("first", support.get(proxy, "/1").body());
        long started = System.nanoTime();
        HttpResponse<String> second = support.get(proxy, "/2");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(200, second.statusCode(), second.body());
        assertTrue(millis < 2_000, "took " + millis + " ms");
    }

    @Test
    void resetInTheMiddleOfTheResponseBodyClosesTheClientConnection() throws Exception {
        RawBackend truncating = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
            RawBackend.RESET.answer(connection, head);
        });
        ProxyServer proxy = support.proxy(truncating.url());

        long started = System.nanoTime();
        String response = TestSupport.rawExchange(proxy.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        assertTrue(response.endsWith("only ten b"), "the client sees the body cut short, as the backend sent it: " + response);
        assertTrue(millis < 4_000, "the proxy closes the client's connection instead of leaving it waiting; took " + millis + " ms");
    }

    @Test
    void aPooledConnectionTheBackendClosedWhileIdleIsNotUsedForTheNextPost() throws Exception {
        // Like a backend with a short keep-alive timeout (Node's is 5 s): it answers, then closes the idle connection.
        RawBackend shortKeepAlive = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            sleep(100);
            connection.close();
        });
        ProxyServer proxy = support.proxy(shortKeepAlive.url());

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = support.http.send(TestSupport.request(proxy, "/")
                    .POST(HttpRequest.BodyPublishers.ofString("not idempotent")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), "POST " + i + " went out on a connection the backend had closed: " + response.body());
            sleep(400);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aSlowButFlowingAnswerIsNotCutByTheTimeout() throws Exception {
        RawBackend trickling = support.raw((connection, head) -> {
            TestSupport.write(connection.getOutputStream(), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
            for (char c : "slow!".toCharArray()) {
                sleep(200); // a byte every 200 ms: a whole second, more than twice the timeout
                TestSupport.write(connection.getOutputStream(), String.valueOf(c));
            }
        });
        ProxyServer proxy = support.proxy(timingOut(ProxySettings.Listener.FOR_TESTS, Duration.ofMillis(400), ProxySettings.Timeouts.DEFAULTS.body(), HealthSettings.DEFAULTS), new RoundRobin(), List.of(trickling.url()));

        HttpResponse<String> response = support.get(proxy, "/download");

        assertEquals(200, response.statusCode());
        assertEquals("slow!", response.body(), "the timeout is for the answer to start, not to finish");
    }

    /** A daemon thread that POSTs {@code body} on {@code client}; the proxy may answer and close before taking it all. */
    private static Thread uploader(Socket client, byte[] body) {
        Thread sender = new Thread(() -> {
            try {
                TestSupport.write(client.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: front.test\r\nContent-Length: " + body.length + "\r\n\r\n");
                client.getOutputStream().write(body);
            } catch (IOException closedMidUpload) {
                // the proxy answers and closes before taking the whole body: expected
            }
        }, "uploader");
        sender.setDaemon(true);
        return sender;
    }
}
