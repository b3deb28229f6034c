package tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import model.Backend;
import model.BackendPool;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import proxy.listen.ProtocolSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import tls.ServerTls;

/**
 * The TLS and HTTP/2 listeners as real clients see them: {@code openssl s_client} (TLS 1.0 and 1.1 refused, 1.2 and
 * 1.3 accepted, ALPN offering h2 then http/1.1, or http/1.1 alone with {@code --no-http2}), {@code curl} over h2, h2c
 * by prior knowledge and HTTP/1.1, and the JDK's HttpClient over h2 and on an h2c listener: every one gets the same
 * bytes, and the backend the same request. Tests of a tool that is not installed are skipped, naming it.
 */
class ExternalClientsTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(15);

    private final TestSupport support = new TestSupport();
    private final List<ProxyServer> proxies = new ArrayList<>();
    private Path dir;
    private byte[] payload;
    private RawBackend backend;

    @BeforeEach
    void backend() throws IOException {
        dir = Files.createTempDirectory("external-clients");
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 100_000; i++) {
            text.append("line ").append(i).append(" of the same bytes for every client and protocol\n");
        }
        payload = text.toString().getBytes(StandardCharsets.ISO_8859_1);
        String answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + payload.length + "\r\n\r\n" + text;
        backend = support.raw(RawBackend.answer(answer));
    }

    @AfterEach
    void stopEverything() throws IOException {
        proxies.forEach(ProxyServer::stop);
        support.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    private ProxyServer proxy(ProtocolSettings protocols) {
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, new BackendPool(List.of(Backend.of(backend.url()))), "RoundRobin",
                new RoundRobin(), protocols);
        proxies.add(proxy);
        return proxy;
    }

    @Test
    void opensslRefusesTls10And11AcceptsTls12And13AndOffersH2ThenHttp11() throws Exception {
        assumeTrue(installed("openssl", "version"), "openssl is not installed");
        ServerTls tls = TestSupport.selfSignedTls();
        ProxyServer proxy = proxy(ProtocolSettings.tls(tls));
        for (String old : List.of("-tls1", "-tls1_1")) {
            // SECLEVEL=0 lets OpenSSL 3 offer the old versions at all: the refusal must be the proxy's.
            String out = sClient(proxy, old, "-cipher", "DEFAULT@SECLEVEL=0");
            assertFalse(out.contains("no protocols available"), old + ": the client did not even offer it, the test proves nothing:\n" + out);
            assertTrue(out.contains("Cipher is (NONE)") && !out.contains("BEGIN CERTIFICATE"), old + " must be refused (RFC 8996):\n" + out);
        }
        for (String[] modern : new String[][] {{"-tls1_2", "TLSv1.2"}, {"-tls1_3", "TLSv1.3"}}) {
            String out = sClient(proxy, modern[0]);
            assertTrue(out.contains("New, " + modern[1] + ", Cipher is ") && !out.contains("Cipher is (NONE)"), modern[0] + " accepted:\n" + out);
        }
        assertTrue(sClient(proxy, "-alpn", "h2,http/1.1").contains("ALPN protocol: h2"), "h2 chosen by ALPN");
        assertTrue(sClient(proxy, "-alpn", "http/1.1").contains("ALPN protocol: http/1.1"), "http/1.1 still offered");

        ProxyServer noHttp2 = proxy(new ProtocolSettings(TestSupport.selfSignedTls(), false, false, null));
        String out = sClient(noHttp2, "-alpn", "h2,http/1.1");
        assertTrue(out.contains("ALPN protocol: http/1.1"), "--no-http2 offers http/1.1 alone:\n" + out);
        assertEquals("", String.join("", backend.requestHeads()), "a handshake alone sends the backend nothing");
    }

    /** {@code openssl s_client} to the proxy with SNI localhost and stdin at its end: it handshakes, prints, and leaves. */
    private String sClient(ProxyServer proxy, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + proxy.port(), "-servername", "localhost"));
        command.addAll(List.of(options));
        return run(command);
    }

    @Test
    void curlGetsTheSameBytesOverH2H2cAndHttp11() throws Exception {
        assumeTrue(installed("curl", "--version"), "curl is not installed");
        assumeTrue(run(List.of("curl", "--version")).contains("HTTP2"), "this curl is built without HTTP/2 (nghttp2)");
        ServerTls tls = TestSupport.selfSignedTls();
        ProxyServer https = proxy(ProtocolSettings.tls(tls));
        ProxyServer h2c = proxy(new ProtocolSettings(null, true, true, null));
        Path ca = pem(tls);
        String resolve = "localhost:" + https.port() + ":127.0.0.1";
        record Way(String name, String expectedVersion, List<String> args) {}
        List<Way> ways = List.of(
                new Way("h2", "2", List.of("--http2", "--cacert", ca.toString(), "--resolve", resolve, "https://localhost:" + https.port() + "/c")),
                new Way("https http/1.1", "1.1", List.of("--http1.1", "--cacert", ca.toString(), "--resolve", resolve,
                        "https://localhost:" + https.port() + "/c")),
                new Way("h2c prior knowledge", "2", List.of("--http2-prior-knowledge", "http://127.0.0.1:" + h2c.port() + "/c")),
                new Way("http/1.1", "1.1", List.of("--http1.1", "http://127.0.0.1:" + h2c.port() + "/c")));
        for (Way way : ways) {
            Path body = dir.resolve(way.name().replaceAll("[^a-z0-9]", "-") + ".body");
            List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-o", body.toString(), "-w", "%{http_code} %{http_version}"));
            command.addAll(way.args());
            String out = run(command).strip();
            assertEquals("200 " + way.expectedVersion(), out, way.name());
            assertArrayEquals(payload, Files.readAllBytes(body), way.name() + ": the same bytes");
        }
        assertBackendSawPlainRequests(4);
    }

    @Test
    void curlOverH2AndHttp11GetsABackendsTrailersWithoutTheFieldsATrailerMayNotCarry() throws Exception {
        assumeTrue(installed("curl", "--version"), "curl is not installed");
        assumeTrue(run(List.of("curl", "--version")).contains("HTTP2"), "this curl is built without HTTP/2 (nghttp2)");
        backend = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
                + "X-Sum: 2\r\nSet-Cookie: a=b\r\nContent-Length: 9\r\n\r\n"));
        ProxyServer h2c = proxy(new ProtocolSettings(null, true, true, null));
        for (String version : List.of("--http2-prior-knowledge", "--http1.1")) {
            Path head = dir.resolve(version.substring(2) + ".head");
            String out = run(List.of("curl", "-sS", "--max-time", "10", version, "-H", "TE: trailers", "-D", head.toString(),
                    "-o", dir.resolve(version.substring(2) + ".body").toString(), "-w", "%{http_code}", "http://127.0.0.1:" + h2c.port() + "/t")).strip();
            assertEquals("200", out, version);
            // curl's header dump ends with the trailer fields it received (HTTP/1.1 chunked trailers, or HTTP/2 trailing HEADERS).
            String dumped = Files.readString(head).toLowerCase(Locale.ROOT);
            assertTrue(dumped.contains("\r\nx-sum: 2\r\n"), version + ": an ordinary trailer passes: " + dumped);
            assertFalse(dumped.contains("set-cookie") || dumped.contains("content-length: 9"), version + ": a refused trailer field reached the client: " + dumped);
        }
        assertEquals(2, backend.requestHeads().size(), backend.requestHeads().toString());
    }

    @Test
    void theJdkClientGetsTheSameBytesOverH2AndOnAnH2cListener() throws Exception {
        ServerTls tls = TestSupport.selfSignedTls();
        ProxyServer https = proxy(ProtocolSettings.tls(tls));
        ProxyServer h2c = proxy(new ProtocolSettings(null, true, true, null));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestSupport.trusting(tls))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<byte[]> overH2 = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + https.port() + "/j"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(HttpClient.Version.HTTP_2, overH2.version());
        assertArrayEquals(payload, overH2.body(), "h2: the same bytes");
        // The JDK asks for h2c with Upgrade: h2c, which the proxy answers as HTTP/1.1 (prior knowledge is what --h2c takes).
        HttpResponse<byte[]> onH2c = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h2c.port() + "/j"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, onH2c.statusCode());
        assertArrayEquals(payload, onH2c.body(), "h2c listener: the same bytes");
        HttpResponse<byte[]> overHttp11 = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h2c.port() + "/j"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertArrayEquals(payload, overHttp11.body(), "HTTP/1.1: the same bytes");
        assertBackendSawPlainRequests(3);
    }

    /** The backend got {@code count} ordinary HTTP/1.1 GETs: no Upgrade, no HTTP2-Settings, whatever the client spoke. */
    private void assertBackendSawPlainRequests(int count) {
        List<String> heads = backend.requestHeads();
        assertEquals(count, heads.size(), heads.toString());
        for (String head : heads) {
            String lower = head.toLowerCase(Locale.ROOT);
            assertTrue(head.startsWith("GET /") && head.contains(" HTTP/1.1\r\n"), head);
            assertFalse(lower.contains("\r\nupgrade:") || lower.contains("\r\nhttp2-settings:"), "never forwarded: " + head);
        }
    }

    private Path pem(ServerTls tls) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(tls.certificates().get(0).chain().get(0));
        }
        return Files.writeString(dir.resolve("proxy-ca.pem"), text.toString());
    }

    private static boolean installed(String tool, String versionFlag) {
        try {
            Process process = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code command} with stdin at its end, and returns its output and errors; stopped (by its own PID) after 15 s. */
    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            if (!process.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish within " + TOOL_TIMEOUT.toSeconds() + " s");
            }
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            process.destroyForcibly();
        }
    }
}
