package tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import admin.AdminServer;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.CloseMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import io.undertow.websockets.spi.WebSocketHttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import model.Backend;
import model.BackendPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import proxy.observe.AccessLog;
import proxy.observe.CompletedRequest;
import proxy.listen.ProtocolSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.LeastConnections;
import strategies.RoundRobin;
import tls.ServerTls;

/**
 * WebSocket through the proxy with the JDK's own client, over plain and TLS listeners, to a real Undertow
 * WebSocket echo backend: frames both ways, ping/pong keeping a tunnel past its idle timeout, close codes both
 * ways, the tunnel counted in flight until it closes, the drain waiting for it, and its access-log line. Also
 * h2c by Upgrade, taken with --h2c and never forwarded without.
 */
class WebSocketTunnelTest {
    private static final Duration TUNNEL_IDLE = Duration.ofSeconds(2);

    private static ProxySettings settings(Duration drain) {
        return settings(drain, TUNNEL_IDLE);
    }

    private static ProxySettings settings(Duration drain, Duration tunnelIdle) {
        ProxySettings.Listener base = ProxySettings.FOR_TESTS.listener();
        return new ProxySettings(new ProxySettings.Listener(base.bindAddress(), 0, base.ioThreads(), base.idleTimeout(), drain, tunnelIdle),
                ProxySettings.FOR_TESTS.timeouts(), ProxySettings.FOR_TESTS.limits(), ProxySettings.FOR_TESTS.backends(),
                ProxySettings.FOR_TESTS.health());
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void echoesTextAndBinaryKeepsAPingedTunnelPastItsIdleTimeoutCountsItInFlightAndLogsItWhenItCloses(boolean tls) throws Exception {
        ServerTls serverTls = tls ? TestSupport.selfSignedTls() : null;
        try (EchoBackend backend = new EchoBackend()) {
            ProxyServer proxy = ProxyServer.start(settings(Duration.ofSeconds(5)), new BackendPool(List.of(Backend.of(backend.url()))),
                    "LeastConnections", new LeastConnections(new Random(1)), ProtocolSettings.tls(serverTls));
            AdminServer admin = null;
            try {
                List<CompletedRequest> seen = TestSupport.observe(proxy);
                ByteArrayOutputStream logged = new ByteArrayOutputStream();
                AccessLog log = new AccessLog(AccessLog.Format.COMBINED, new PrintStream(logged, true, StandardCharsets.UTF_8));
                proxy.addObserver(log);
                admin = AdminServer.start(proxy, "least-connections", name -> new LeastConnections(new Random(1)), "127.0.0.1", 0, null);
                Backend held = proxy.pool().all().get(0);

                Collector client = new Collector();
                WebSocket socket = open(proxy, serverTls, "/echo", client);
                socket.sendText("hello through the tunnel", true).get(5, TimeUnit.SECONDS);
                assertEquals("hello through the tunnel", client.next());
                byte[] binary = new byte[60 * 1024];
                new Random(7).nextBytes(binary);
                socket.sendBinary(ByteBuffer.wrap(binary), true).get(5, TimeUnit.SECONDS);
                assertArrayEquals(binary, client.nextBinary());
                assertEquals(List.of("text hello through the tunnel", "binary " + binary.length), backend.received);

                assertEquals(1, held.inFlight(), "an open tunnel keeps its backend busy for least-connections");
                String metrics = metrics(admin, serverTls);
                assertTrue(metrics.contains("lb_backend_in_flight{address=\"" + held.name() + "\",backend=\"" + held.name() + "\",upstream=\"default\"} 1.0"), metrics);
                assertTrue(seen.isEmpty(), "not reported at the 101: " + seen);

                // Pings every half second for 5 s keep a tunnel alive whose idle timeout is 2 s: the pongs are traffic.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int pings = 0;
                while (System.nanoTime() < until && pings < 20) {
                    socket.sendPing(ByteBuffer.wrap(("ping " + pings).getBytes(StandardCharsets.UTF_8))).get(5, TimeUnit.SECONDS);
                    pings++;
                    Thread.sleep(500);
                }
                assertEquals(pings, client.pongs.size(), "every ping answered by the backend's pong");
                assertEquals("ping " + (pings - 1), StandardCharsets.UTF_8.decode(client.pongs.get(pings - 1)).toString());
                socket.sendText("still open", true).get(5, TimeUnit.SECONDS);
                assertEquals("still open", client.next(), "a tunnel with pings both ways is not idle");
                assertEquals(1, held.inFlight());

                socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
                assertEquals(WebSocket.NORMAL_CLOSURE, client.closed.get(5, TimeUnit.SECONDS).code());
                TestSupport.await(() -> backend.closes.contains("1000 done"), "the backend gets the client's close code and reason");
                TestSupport.await(() -> seen.size() == 1, "the tunnel is reported once it closes");
                CompletedRequest tunnel = seen.get(0);
                assertEquals(101, tunnel.status());
                assertTrue(tunnel.tunnel());
                assertTrue(tunnel.durationNanos() >= TimeUnit.SECONDS.toNanos(5), "its duration runs to the close: " + tunnel.durationNanos());
                assertTrue(tunnel.bytesReceived() > binary.length && tunnel.bytesSent() > binary.length,
                        "bytes each way: " + tunnel.bytesReceived() + " in, " + tunnel.bytesSent() + " out");
                assertEquals(0, held.inFlight(), "a closed tunnel leaves its backend");
                TestSupport.await(() -> logged.toString(StandardCharsets.UTF_8).contains("\n"), "the access log writes the line");
                String line = logged.toString(StandardCharsets.UTF_8).strip();
                assertTrue(line.contains("\"GET /echo HTTP/1.1\" 101 " + tunnel.bytesSent() + " "), line);
                assertTrue(line.endsWith(" bytes_in=" + tunnel.bytesReceived()), line);
                log.close();
            } finally {
                if (admin != null) {
                    admin.stop();
                }
                proxy.stop();
            }
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void closeCodesAndReasonsPassBothWaysAndAnIdleTunnelIsClosed(boolean tls) throws Exception {
        ServerTls serverTls = tls ? TestSupport.selfSignedTls() : null;
        try (EchoBackend backend = new EchoBackend()) {
            ProxyServer proxy = ProxyServer.start(settings(Duration.ofSeconds(5)), new BackendPool(List.of(Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), ProtocolSettings.tls(serverTls));
            try {
                Collector fromClient = new Collector();
                WebSocket first = open(proxy, serverTls, "/one", fromClient);
                first.sendClose(4001, "client says why").get(5, TimeUnit.SECONDS);
                TestSupport.await(() -> backend.closes.contains("4001 client says why"), "the backend gets 4001 and its reason: " + backend.closes);
                TestSupport.await(() -> proxy.pool().all().get(0).inFlight() == 0, "a tunnel closed by the client frees its backend");

                Collector fromBackend = new Collector();
                open(proxy, serverTls, "/two", fromBackend).sendText("close 4002", true).get(5, TimeUnit.SECONDS);
                Closed closed = fromBackend.closed.get(5, TimeUnit.SECONDS);
                assertEquals(4002, closed.code());
                assertEquals("backend says why", closed.reason());
                TestSupport.await(() -> proxy.pool().all().get(0).inFlight() == 0, "a tunnel closed by the backend frees it");

                Collector idle = new Collector();
                long opened = System.nanoTime(); // before the request: the tunnel's clock starts at its 101, later
                WebSocket quiet = open(proxy, serverTls, "/idle", idle);
                Closed ended = idle.closed.get(10, TimeUnit.SECONDS);
                long after = System.nanoTime() - opened;
                assertTrue(after >= TUNNEL_IDLE.toNanos(), "closed only once idle: " + after);
                assertEquals(1006, ended.code(), "cut, not closed by a frame: " + ended);
                assertTrue(quiet.isInputClosed());
                TestSupport.await(() -> proxy.pool().all().get(0).inFlight() == 0, "the idle tunnel's backend is free again");
            } finally {
                proxy.stop();
            }
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void drainWaitsForAnOpenTunnelThenClosesItAtTheDrainTimeout(boolean tls) throws Exception {
        ServerTls serverTls = tls ? TestSupport.selfSignedTls() : null;
        try (EchoBackend backend = new EchoBackend()) {
            Duration drain = Duration.ofSeconds(3);
            // A tunnel idle timeout past the drain timeout: the drain, not idleness, must end the tunnel.
            ProxyServer proxy = ProxyServer.start(settings(drain, Duration.ofSeconds(30)), new BackendPool(List.of(Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), ProtocolSettings.tls(serverTls));
            Collector client = new Collector();
            WebSocket socket = open(proxy, serverTls, "/drain", client);
            socket.sendText("before", true).get(5, TimeUnit.SECONDS);
            assertEquals("before", client.next());

            long began = System.nanoTime();
            CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(proxy::stop);
            Thread.sleep(500);
            assertFalse(stopped.isDone(), "the drain waits for the open tunnel");
            socket.sendText("during the drain", true).get(5, TimeUnit.SECONDS);
            assertEquals("during the drain", client.next(), "the tunnel still carries frames while the drain waits");
            assertFalse(stopped.get(10, TimeUnit.SECONDS), "stop says the tunnel did not finish in time");
            assertTrue(System.nanoTime() - began >= drain.toNanos(), "it waited the whole drain timeout");
            assertEquals(1006, client.closed.get(5, TimeUnit.SECONDS).code(), "then the tunnel is cut");
        }
        try (EchoBackend backend = new EchoBackend()) {
            ProxyServer proxy = ProxyServer.start(settings(Duration.ofSeconds(10)), new BackendPool(List.of(Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), ProtocolSettings.tls(serverTls));
            Collector client = new Collector();
            WebSocket socket = open(proxy, serverTls, "/drain", client);
            CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(proxy::stop);
            Thread.sleep(300);
            assertFalse(stopped.isDone());
            long closing = System.nanoTime();
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
            assertTrue(stopped.get(10, TimeUnit.SECONDS), "a tunnel that closes within the drain timeout counts as drained");
            assertTrue(System.nanoTime() - closing < TimeUnit.SECONDS.toNanos(5), "stop returns once the tunnel closed");
        }
    }

    @Test
    void upgradeH2cIsTakenWithH2cAndTheJdkClientThenSpeaksHttp2() throws Exception {
        try (TestSupport support = new TestSupport(); RecordingBackend backend = new RecordingBackend()) {
            ProxyServer h2c = ProxyServer.start(ProxySettings.FOR_TESTS, new BackendPool(List.of(Backend.of(backend.url()))),
                    "RoundRobin", new RoundRobin(), new ProtocolSettings(null, true, true, null));
            ProxyServer plain = support.proxy(backend.url());
            try {
                HttpClient http2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(5)).build();
                for (int i = 0; i < 2; i++) { // the first request upgrades; the second goes on the HTTP/2 connection
                    HttpResponse<String> response = http2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h2c.port() + "/h2c/" + i))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, response.statusCode());
                    assertEquals(HttpClient.Version.HTTP_2, response.version(), "--h2c takes the Upgrade: h2c");
                }
                HttpResponse<String> refused = http2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plain.port() + "/plain")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, refused.statusCode());
                assertEquals(HttpClient.Version.HTTP_1_1, refused.version(), "without --h2c the upgrade is declined");
                assertEquals(3, backend.completeRequests().size());
                for (RecordingBackend.Request request : backend.completeRequests()) {
                    String head = request.head().toLowerCase();
                    assertFalse(head.contains("upgrade") || head.contains("http2-settings"), "never forwarded: " + request.head());
                }
                // Raw: the 101 names h2c, and HTTP/2 follows at once with the server's SETTINGS (RFC 7540 §3.2, §3.5).
                try (Socket raw = new Socket("127.0.0.1", h2c.port())) {
                    raw.setSoTimeout(5_000);
                    TestSupport.write(raw.getOutputStream(), "GET /raw HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                            + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
                    InputStream in = raw.getInputStream();
                    String head = TestSupport.readHead(in);
                    assertTrue(head.startsWith("HTTP/1.1 101 "), head);
                    assertTrue(head.toLowerCase().contains("upgrade: h2c"), head);
                    byte[] frame = in.readNBytes(9);
                    assertEquals(9, frame.length);
                    assertEquals(4, frame[3], "the first frame after the 101 is the server's SETTINGS");
                }
            } finally {
                h2c.stop();
            }
        }
    }

    private static WebSocket open(ProxyServer proxy, ServerTls tls, String path, Collector listener) throws Exception {
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            client.sslContext(TestSupport.trusting(tls));
        }
        URI uri = URI.create((tls == null ? "ws://127.0.0.1:" : "wss://localhost:") + proxy.port() + path);
        return client.build().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
    }

    /** The admin port's /metrics: over https, trusting the proxy's certificate, when the proxy speaks TLS (so does the admin port). */
    private static String metrics(AdminServer admin, ServerTls tls) throws Exception {
        HttpClient client = tls == null ? HttpClient.newHttpClient() : HttpClient.newBuilder().sslContext(TestSupport.trusting(tls)).build();
        String base = tls == null ? "http://127.0.0.1:" : "https://localhost:";
        return client.send(HttpRequest.newBuilder(URI.create(base + admin.port() + "/metrics"))
                .header("X-LB-Admin", "1").build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    record Closed(int code, String reason) {
    }

    /** What the JDK's WebSocket client received: whole messages, pongs, and how it ended. */
    static final class Collector implements WebSocket.Listener {
        final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final List<ByteBuffer> pongs = new CopyOnWriteArrayList<>();
        final CompletableFuture<Closed> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            binary.writeBytes(bytes);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            pongs.add(message);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(new Closed(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(new Closed(1006, String.valueOf(error))); // the connection ended without a close frame
        }

        String next() throws InterruptedException {
            Object message = messages.poll(5, TimeUnit.SECONDS);
            assertTrue(message instanceof String, "a text message: " + message);
            return (String) message;
        }

        byte[] nextBinary() throws InterruptedException {
            Object message = messages.poll(5, TimeUnit.SECONDS);
            assertTrue(message instanceof byte[], "a binary message: " + message);
            return (byte[]) message;
        }
    }

    /** A real WebSocket server (Undertow's) on loopback that echoes, closes on request, and records what it received. */
    static final class EchoBackend implements AutoCloseable {
        final List<String> received = new CopyOnWriteArrayList<>();
        final List<String> closes = new CopyOnWriteArrayList<>();
        private final Undertow server;

        EchoBackend() {
            server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(Handlers.websocket(this::connected)).build();
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
        }

        private void connected(WebSocketHttpExchange exchange, WebSocketChannel channel) {
            channel.getReceiveSetter().set(new Echo());
            channel.resumeReceives();
        }

        @Override
        public void close() {
            server.stop();
        }

        /** Echoes text and binary; pings are answered with pongs by Undertow; "close N" closes with code N. */
        private final class Echo extends AbstractReceiveListener {
            @Override
            protected void onFullTextMessage(WebSocketChannel channel, BufferedTextMessage message) {
                String data = message.getData();
                received.add("text " + data);
                if (data.startsWith("close ")) {
                    WebSockets.sendClose(Integer.parseInt(data.substring(6)), "backend says why", channel, null);
                } else {
                    WebSockets.sendText(data, channel, null);
                }
            }

            @Override
            protected void onFullBinaryMessage(WebSocketChannel channel, BufferedBinaryMessage message) {
                var data = message.getData();
                try {
                    ByteBuffer whole = WebSockets.mergeBuffers(data.getResource());
                    received.add("binary " + whole.remaining());
                    WebSockets.sendBinary(whole, channel, null);
                } finally {
                    data.free();
                }
            }

            @Override
            protected void onCloseMessage(CloseMessage message, WebSocketChannel channel) {
                closes.add(message.getCode() + " " + message.getReason());
            }
        }
    }
}
