// The test runner's JVM options live here, not in RunTests.java: JBang appends every source's //RUNTIME_OPTIONS
// after the script's own, and the last -Xmx wins, so these come after LoadBalancer.java's small heap.
//RUNTIME_OPTIONS -Xmx1g -Xmn128m -XX:MaxMetaspaceSize=256m
package tests;

import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Instant;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import tls.SelfSigned;
import tls.ServerCertificate;
import tls.ServerTls;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import demo.DemoServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import model.Backend;
import model.BackendPool;
import model.Strategy;
import proxy.observe.CompletedRequest;
import proxy.request.ForwardedHeaders;
import proxy.ProxyServer;
import proxy.listen.ProtocolSettings;
import proxy.ProxySettings;
import proxy.observe.UndertowLogging;
import strategies.RoundRobin;

/**
 * What the end-to-end tests share: real demo backends and a real load balancer on ephemeral loopback
 * ports, a real HTTP client, and a list of everything started so {@link #close()} stops it all.
 * One instance per test, used from the test's thread.
 */
final class TestSupport implements AutoCloseable {
    static {
        UndertowLogging.quiet(); // the failures these tests provoke on purpose would bury the output
    }

    final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final List<AutoCloseable> started = new ArrayList<>();

    DemoServer demo(String name) {
        return demo(name, DemoServer.Faults.NONE);
    }

    DemoServer demo(String name, DemoServer.Faults faults) {
        DemoServer server = DemoServer.start(name, 0, faults);
        started.add(server::stop);
        return server;
    }

    /** A load balancer over the given backends; X-LB-Explain names the strategy by its class, as tests hand in objects, not registry names. */
    ProxyServer proxy(ProxySettings settings, Strategy strategy, List<String> backendUrls) {
        return proxy(settings, strategy.getClass().getSimpleName(), strategy, backendUrls);
    }

    ProxyServer proxy(ProxySettings settings, String strategyName, Strategy strategy, List<String> backendUrls) {
        return proxy(settings, strategyName, strategy, backendUrls, null);
    }

    /** As above, speaking TLS to clients when {@code tls} is not null (see {@link #connect(ProxyServer)}). */
    ProxyServer proxy(ProxySettings settings, String strategyName, Strategy strategy, List<String> backendUrls, ServerTls tls) {
        if (routed) {
            return routedProxy(settings, strategyName, strategy, backendUrls, tls);
        }
        List<Backend> backends = backendUrls.stream().map(Backend::of).toList();
        ProxyServer server = ProxyServer.start(settings, new BackendPool(backends), strategyName, strategy, ProtocolSettings.tls(tls));
        started.add(server::stop);
        return server;
    }

    private final boolean routed;

    TestSupport() {
        this(false);
    }

    private TestSupport(boolean routed) {
        this.routed = routed;
    }

    /**
     * A TestSupport whose {@link #proxy} load balancers run a routed config instead of a single pool: the
     * backends as upstream "app" behind a catch-all route, after a host route and six path routes to a
     * decoy upstream that no request of a conformance suite takes (enough routes for the path index).
     */
    static TestSupport routed() {
        return new TestSupport(true);
    }

    private ProxyServer routedProxy(ProxySettings settings, String strategyName, Strategy given, List<String> backendUrls, ServerTls tls) {
        String strategy = strategies.Strategies.byName(strategyName).isPresent() ? strategyName : "round-robin"; // tests name RoundRobin by class
        config.UpstreamConfig.Picking picking = new config.UpstreamConfig.Picking(strategy, null, 1.25, null);
        config.UpstreamConfig app = new config.UpstreamConfig("app", backendUrls.stream().map(url -> new config.UpstreamConfig.Address(URI.create(url), 1)).toList(),
                List.of(), picking, settings.health(), settings.backends().maxInFlightPerBackend(), settings.backends().retryPercent());
        int refusing;
        try {
            refusing = deadPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        config.UpstreamConfig decoy = new config.UpstreamConfig("decoy", List.of(new config.UpstreamConfig.Address(URI.create("http://127.0.0.1:" + refusing), 1)),
                List.of(), picking, settings.health(), 0, 20);
        List<config.RouteConfig> routes = new ArrayList<>();
        routes.add(route("decoy-host", "decoy.test", "/", "decoy"));
        for (int i = 0; i < 6; i++) {
            routes.add(route("decoy-" + i, null, "/decoy-" + i, "decoy"));
        }
        routes.add(route("app", null, "/", "app"));
        ProxyServer server = ProxyServer.start(settings, new config.GatewayConfig(List.of(app, decoy), routes, "routed test config"),
                new ProxyServer.Setup(false, ForwardedHeaders.REPLACE_ALL, List.of(), ProtocolSettings.tls(tls)));
        started.add(server::stop);
        server.setStrategy(strategyName, given); // app is the first upstream: it picks with the test's own strategy, as a single pool does
        return server;
    }

    private static config.RouteConfig route(String name, String host, String path, String upstream) {
        return new config.RouteConfig(name, host, path, null, null, null, upstream, null, config.RouteConfig.HeaderChanges.NONE,
                config.RouteConfig.HeaderChanges.NONE, "test");
    }

    /** A listener's TLS with a fresh self-signed certificate for localhost, as {@code --tls self-signed} makes. */
    static ServerTls selfSignedTls() {
        return new ServerTls(List.of(SelfSigned.forLocalhost(Instant.now())));
    }

    /** A TLS client context that trusts exactly the certificates {@code tls} serves, and nothing else. */
    static SSLContext trusting(ServerTls tls) {
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            int i = 0;
            for (ServerCertificate certificate : tls.certificates()) {
                trusted.setCertificateEntry("cert" + i++, certificate.chain().get(0));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A raw client connection to {@code proxy}: a plain socket, or, when the proxy speaks TLS, a TLS socket that
     * asked for localhost and checked the proxy's certificate, its handshake done. Bytes written to it reach the
     * proxy's HTTP parser unchanged either way.
     */
    static Socket connect(ProxyServer proxy) throws IOException {
        if (proxy.tls() == null) {
            return new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        }
        SSLSocket socket = (SSLSocket) trusting(proxy.tls()).getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port());
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName("localhost")));
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /** A round-robin load balancer with test settings over the given backends. */
    ProxyServer proxy(String... backendUrls) {
        return proxy(ProxySettings.FOR_TESTS, "round-robin", new RoundRobin(), List.of(backendUrls));
    }

    /** Every request {@code proxy} completes from now on, in completion order; observers are told in the order they were added. */
    static List<CompletedRequest> observe(ProxyServer proxy) {
        List<CompletedRequest> seen = new CopyOnWriteArrayList<>();
        proxy.addObserver(seen::add);
        return seen;
    }

    RawBackend raw(RawBackend.Behaviour behaviour) throws IOException {
        RawBackend backend = new RawBackend(behaviour);
        started.add(backend);
        return backend;
    }

    HttpResponse<String> get(ProxyServer proxy, String pathAndQuery) throws IOException, InterruptedException {
        return http.send(request(proxy, pathAndQuery).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest.Builder request(ProxyServer proxy, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + pathAndQuery)).timeout(Duration.ofSeconds(30));
    }

    static JsonObject json(HttpResponse<String> response) {
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    /**
     * A loopback port with nothing listening on it: connecting is refused at once. The port stays bound
     * (a socket bound and not listening refuses connections on Linux) until the test run ends, so a
     * server that binds port 0 later in the run cannot be handed it; a test that wants to listen on it
     * itself may, since the socket allows address reuse.
     */
    static int deadPort() throws IOException {
        Socket socket = new Socket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        synchronized (DEAD_PORTS) {
            DEAD_PORTS.add(socket);
        }
        return socket.getLocalPort();
    }

    private static final List<Socket> DEAD_PORTS = new ArrayList<>();

    /** Polls {@code condition} every 20 ms until it holds, failing with {@code what} after {@code within}. */
    static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + within.toMillis() + " ms waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** {@link #await(BooleanSupplier, Duration, String)} with a 10 s deadline: generous for a loaded two-core box. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        await(condition, Duration.ofSeconds(10), what);
    }

    /** Sends {@code request} as raw bytes on a fresh connection and reads until the server closes it or 5 s pass. */
    static String rawExchange(int port, String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return readUntilClosed(socket.getInputStream());
        }
    }

    static String readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                out.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException | SocketException e) {
            // a timeout or reset ends the read; what arrived is the answer
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads one HTTP/1.1 response with a Content-Length body from a kept-alive connection. */
    static String readOneResponse(InputStream in) throws IOException {
        String head = readHead(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    /** Reads up to and including the blank line that ends a request or response head. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b == -1) {
                break;
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                // keep stopping the rest
            }
        }
    }
}
