package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import tls.SelfSigned;
import tls.ServerCertificate;
import tls.ServerTls;

/**
 * HTTPS at the front, as a user starts it and as an attacker tries it: {@code --tls self-signed} serves the
 * certificate whose fingerprint the banner prints; {@code --tls-cert}/{@code --tls-key} pairs are chosen by SNI;
 * backends hear {@code X-Forwarded-Proto: https} and {@code Forwarded: proto=https}; bad certificate files stop the
 * start in one line; TLS 1.1 gets nothing through and plain HTTP on the TLS port gets nginx's 400; bodies cross the encryption byte
 * for byte both ways, and a backend's broken framing still gets its 502.
 */
class TlsListenerTest {
    private static final Pattern FINGERPRINT = Pattern.compile("SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})");
    private final TestSupport support = new TestSupport();
    private Path dir;

    @AfterEach
    void clean() throws IOException {
        support.close();
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
        }
    }

    @Test
    void selfSignedServesTheCertificateWhoseFingerprintTheBannerPrints() throws Exception {
        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess lb = LoadBalancerProcess.start("--tls", "self-signed", "--backend", backend.url())) {
            lb.awaitLine("SHA-256 ", Duration.ofSeconds(10));
            lb.awaitLine("curl --insecure https://", Duration.ofSeconds(10)); // the banner's last line, printed after the backends
            Matcher printed = FINGERPRINT.matcher(String.join("\n", lb.lines()));
            assertTrue(printed.find(), String.join("\n", lb.lines()));
            assertTrue(lb.url().startsWith("https://"), lb.url());
            assertTrue(lb.lines().stream().anyMatch(line -> line.contains("curl --insecure https://")), String.join("\n", lb.lines()));

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .sslContext(pinning(printed.group(1))).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + lb.port() + "/hello"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals(HttpClient.Version.HTTP_2, response.version(), "h2 by ALPN unless --no-http2");
            String head = backend.completeRequests().get(0).head();
            assertTrue(head.startsWith("GET /hello HTTP/1.1\r\n"), head);
            assertTrue(head.contains("\r\nX-Forwarded-Proto: https\r\n"), "the backend hears the client used https:\n" + head);
        }
    }

    @Test
    void redirectHttpAnswers308ToTheSameTargetOverHttps() throws Exception {
        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess lb = LoadBalancerProcess.start("--tls", "self-signed", "--redirect-http", "0", "--backend", backend.url())) {
            lb.awaitLine("Redirect: ", Duration.ofSeconds(10));
            Matcher line = Pattern.compile("Redirect: http://[^:]+:(\\d+)/").matcher(String.join("\n", lb.lines()));
            assertTrue(line.find(), String.join("\n", lb.lines()));
            int plainPort = Integer.parseInt(line.group(1));
            for (String method : List.of("GET", "POST")) {
                String response = TestSupport.rawExchange(plainPort, method + " /a/b?c=1&d=%20 HTTP/1.1\r\nHost: app.test:" + plainPort
                        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                assertTrue(response.startsWith("HTTP/1.1 308 "), response);
                assertTrue(response.contains("\r\nLocation: https://app.test:" + lb.port() + "/a/b?c=1&d=%20\r\n"), response);
            }
            String bad = TestSupport.rawExchange(plainPort, "GET / HTTP/1.1\r\nHost: evil.test/@x\r\nConnection: close\r\n\r\n");
            assertTrue(bad.startsWith("HTTP/1.1 400 "), "no redirect built from a Host that is not a host: " + bad);
            assertEquals("", backend.allBytes(), "the plain port serves redirects only");
        }
        LoadBalancerProcess.Exited plain = LoadBalancerProcess.run("--redirect-http", "0", "--backend", "http://127.0.0.1:9");
        assertEquals(2, plain.code(), plain.output());
        assertTrue(plain.output().startsWith("error: --redirect-http redirects to the TLS listener"), plain.output());
    }

    @Test
    void noHttp2AndH2cTakeEffectInARunningLoadBalancer() throws Exception {
        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess tlsOnly = LoadBalancerProcess.start("--tls", "self-signed", "--no-http2", "--backend", backend.url());
             LoadBalancerProcess h2c = LoadBalancerProcess.start("--h2c", "--backend", backend.url())) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(pinning(null))
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + tlsOnly.port() + "/one"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_1_1, response.version(), "--no-http2 offers HTTP/1.1 alone");
            try (Http2Client raw = new Http2Client(new Socket(InetAddress.getLoopbackAddress(), h2c.port()))) {
                raw.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "localhost", ":path", "/two");
                assertEquals("status 200", raw.outcome(1), "--h2c takes HTTP/2 by prior knowledge");
            }
            assertEquals(2, backend.completeRequests().size());
        }
    }

    @Test
    void certificateFilesAreChosenBySniAndBackendsHearProtoHttps() throws Exception {
        dir = Files.createTempDirectory("tls-listener");
        ServerCertificate first = SelfSigned.create("first", List.of("first.test"), List.of(), Instant.now());
        ServerCertificate second = SelfSigned.create("second", List.of("second.test"), List.of(), Instant.now());
        Path firstCert = pem("first.pem", first.chain().get(0));
        Path firstKey = pem("first.key", new JcaPKCS8Generator(first.key(), null));
        Path secondCert = pem("second.pem", second.chain().get(0));
        Path secondKey = pem("second.key", new JcaPKCS8Generator(second.key(), null));
        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess lb = LoadBalancerProcess.start("--tls-cert", firstCert.toString(), "--tls-key", firstKey.toString(),
                     "--tls-cert", secondCert.toString(), "--tls-key", secondKey.toString(), "--forwarded", "--backend", backend.url())) {
            assertEquals(second.chain().get(0), servedTo(lb.port(), "second.test"));
            assertEquals(first.chain().get(0), servedTo(lb.port(), "first.test"));
            assertEquals(first.chain().get(0), servedTo(lb.port(), "other.test"), "no certificate for the name: the first is the default");

            ServerTls trust = new ServerTls(List.of(second));
            try (Socket client = tlsSocket(lb.port(), "second.test", TestSupport.trusting(trust))) {
                TestSupport.write(client.getOutputStream(), "GET /sni HTTP/1.1\r\nHost: second.test\r\nConnection: close\r\n\r\n");
                String response = TestSupport.readUntilClosed(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 200 "), response);
            }
            String head = backend.completeRequests().get(0).head();
            assertTrue(head.contains("\r\nX-Forwarded-Proto: https\r\n"), head);
            assertTrue(head.contains(";proto=https;host=second.test"), "RFC 7239 says https too:\n" + head);
        }
    }

    @Test
    void badCertificateFilesStopTheStartInOneLineNamingTheFile() throws Exception {
        dir = Files.createTempDirectory("tls-bad");
        ServerCertificate good = SelfSigned.create("good", List.of("good.test"), List.of(), Instant.now());
        ServerCertificate other = SelfSigned.create("other", List.of("other.test"), List.of(), Instant.now());
        ServerCertificate old = SelfSigned.create("old", List.of("old.test"), List.of(), Instant.now().minus(Duration.ofDays(60)));
        Path cert = pem("good.pem", good.chain().get(0));
        Path otherKey = pem("other.key", new JcaPKCS8Generator(other.key(), null));
        Path oldCert = pem("old.pem", old.chain().get(0));
        Path oldKey = pem("old.key", new JcaPKCS8Generator(old.key(), null));
        Path locked = pem("locked.key", new JcaPKCS8Generator(good.key(), new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).setPassword("pw".toCharArray()).build()));
        Path password = Files.writeString(dir.resolve("password"), "pw\n");

        assertRefused(otherKey + "", "does not belong to the certificate", "--tls-cert", cert.toString(), "--tls-key", otherKey.toString());
        assertRefused(oldCert + "", "expired on", "--tls-cert", oldCert.toString(), "--tls-key", oldKey.toString());
        assertRefused(locked + "", "--tls-key-password-file", "--tls-cert", cert.toString(), "--tls-key", locked.toString());
        assertRefused(dir.resolve("missing.pem") + "", "no such file", "--tls-cert", dir.resolve("missing.pem").toString(), "--tls-key", locked.toString());

        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess lb = LoadBalancerProcess.start("--tls-cert", cert.toString(), "--tls-key", locked.toString(),
                     "--tls-key-password-file", password.toString(), "--backend", backend.url())) {
            assertEquals(good.chain().get(0), servedTo(lb.port(), "good.test"), "with its password the encrypted key serves");
        }
    }

    @Test
    void checkConfigPrintsTheListenersWithTheirCertificates() throws Exception {
        dir = Files.createTempDirectory("tls-check");
        ServerCertificate api = SelfSigned.create("api", List.of("api.test", "*.api.test"), List.of(), Instant.now());
        ServerCertificate soon = SelfSigned.create("www", List.of("www.test"), List.of(), Instant.now().minus(Duration.ofDays(25)));
        Path apiCert = pem("api.pem", api.chain().get(0));
        Path apiKey = pem("api.key", new JcaPKCS8Generator(api.key(), null));
        Path wwwCert = pem("www.pem", soon.chain().get(0));
        Path wwwKey = pem("www.key", new JcaPKCS8Generator(soon.key(), null));
        Path config = Files.writeString(dir.resolve("lb.yaml"), "tls-cert: [" + apiCert + ", " + wwwCert + "]\ntls-key: [" + apiKey + ", " + wwwKey
                + "]\nredirect-http: 8081\nupstreams:\n  app:\n    backend: [\"http://127.0.0.1:9001\"]\n");
        LoadBalancerProcess.Exited checked = LoadBalancerProcess.run("--config", config.toString(), "--check-config");
        assertEquals(0, checked.code(), checked.output());
        List<String> lines = checked.output().lines().toList();
        assertEquals("listen 127.0.0.1:0 https (TLSv1.3, TLSv1.2; HTTP/2 by ALPN: on)", lines.get(1), checked.output());
        assertTrue(lines.get(2).startsWith("  certificate " + apiCert + " with " + apiKey + ": SNI names api.test, *.api.test (and the default for any other name);"
                + " subject CN=api; expires " + api.notAfter() + " (in "), lines.get(2));
        assertTrue(lines.get(2).endsWith("; SHA-256 " + api.fingerprint()), lines.get(2));
        assertTrue(lines.get(3).startsWith("  certificate " + wwwCert + " with " + wwwKey + ": SNI names www.test; subject CN=www; expires "
                + soon.notAfter()) && lines.get(3).contains(" days: renew it soon)"), "a certificate about to expire says so: " + lines.get(3));
        assertEquals("listen 127.0.0.1:8081 plain HTTP: 308 to https on port 0", lines.get(4), checked.output());
        assertEquals("route * -> upstream app", lines.get(5).replaceAll(" +", " ").replaceFirst("route .* -> ", "route * -> "), checked.output());

        LoadBalancerProcess.Exited plain = LoadBalancerProcess.run("--h2c", "--check-config", "--backend", "http://127.0.0.1:9001");
        assertEquals("listen 127.0.0.1:0 (plain HTTP/1.1, and cleartext HTTP/2 by prior knowledge: --h2c)", plain.output().lines().toList().get(1), plain.output());
        LoadBalancerProcess.Exited noH2 = LoadBalancerProcess.run("--tls", "self-signed", "--no-http2", "--check-config", "--backend", "http://127.0.0.1:9001");
        assertEquals("listen 127.0.0.1:0 https (TLSv1.3, TLSv1.2; HTTP/2 by ALPN: off, HTTP/1.1 only)", noH2.output().lines().toList().get(1), noH2.output());
        assertTrue(noH2.output().lines().toList().get(2).startsWith("  certificate self-signed: SNI names localhost"), noH2.output());
        Path off = Files.writeString(dir.resolve("off.yaml"), "tls: self-signed\nhttp2: false\nbackend: [\"http://127.0.0.1:9001\"]\n");
        LoadBalancerProcess.Exited fromFile = LoadBalancerProcess.run("--config", off.toString(), "--check-config");
        assertEquals("listen 127.0.0.1:0 https (TLSv1.3, TLSv1.2; HTTP/2 by ALPN: off, HTTP/1.1 only)", fromFile.output().lines().toList().get(1),
                "the file's http2: false turns h2 off as --no-http2 does: " + fromFile.output());
    }

    private static void assertRefused(String file, String problem, String... args) throws Exception {
        LoadBalancerProcess.Exited exited = LoadBalancerProcess.run(args);
        assertEquals(2, exited.code(), exited.output());
        List<String> lines = exited.output().lines().filter(line -> !line.isBlank()).toList();
        assertEquals(1, lines.size(), "one line, no stack trace:\n" + exited.output());
        assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(file) && lines.get(0).contains(problem),
                "should name " + file + " and '" + problem + "': " + lines.get(0));
    }

    @Test
    void tls11IsRefusedAndPlainHttpOnTheTlsPortGetsNginxs400() throws Exception {
        try (RecordingBackend backend = new RecordingBackend()) {
            ServerTls tls = TestSupport.selfSignedTls();
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backend.url()), tls);
            SSLContext old = SSLContext.getInstance("TLS");
            old.init(null, new TrustManager[] {new Pinning(null)}, null);
            try (SSLSocket socket = (SSLSocket) old.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), proxy.port())) {
                socket.setSoTimeout(5_000);
                socket.setEnabledProtocols(new String[] {"TLSv1.1"});
                assertThrows(SSLException.class, socket::startHandshake, "TLS 1.1 must be refused (RFC 8996)");
            }
            for (String request : List.of("GET /plain HTTP/1.1\r\nHost: localhost\r\n\r\n",
                    "POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello", "GET / HTTP/1.0\r\n\r\n")) {
                try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
                    plain.setSoTimeout(5_000);
                    TestSupport.write(plain.getOutputStream(), request);
                    String answer = readAll(plain.getInputStream());
                    assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n") && answer.contains("\r\nConnection: close\r\n")
                            && answer.endsWith("\r\n\r\n400 The plain HTTP request was sent to HTTPS port: this port speaks TLS, use https://\n"),
                            "plain HTTP on the TLS port gets nginx's answer, not a silent close: " + answer);
                }
            }
            try (Socket client = TestSupport.connect(proxy)) {
                TestSupport.write(client.getOutputStream(), "GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertTrue(TestSupport.readUntilClosed(client.getInputStream()).startsWith("HTTP/1.1 200 "), "TLS clients are served as before");
            }
            assertEquals(1, backend.completeRequests().size(), "nothing of the plain requests reaches the backend");
            assertTrue(backend.completeRequests().get(0).head().startsWith("GET /tls HTTP/1.1\r\n"), backend.allBytes());
        }
    }

    @Test
    void bodiesCrossTheEncryptionByteForByteAndBrokenFramingStillGets502() throws Exception {
        try (RecordingBackend backend = new RecordingBackend()) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(backend.url()),
                    TestSupport.selfSignedTls());
            StringBuilder body = new StringBuilder();
            for (int i = 0; body.length() < 300_000; i++) {
                body.append("line ").append(i).append(" of a body that spans many TLS records\n");
            }
            try (Socket client = TestSupport.connect(proxy)) {
                TestSupport.write(client.getOutputStream(), "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 200 ") && response.endsWith("got " + body.length() + " bytes"), response);
            }
            assertEquals(1, backend.completeRequests().size());
            assertEquals(body.toString(), backend.completeRequests().get(0).body(), "forwarded byte for byte");
        }
        String big = "x".repeat(200_000);
        try (RawBackend sends = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: " + big.length() + "\r\n\r\n" + big));
             RawBackend conflicting = support.raw(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"))) {
            ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(sends.url()), TestSupport.selfSignedTls());
            try (Socket client = TestSupport.connect(proxy)) {
                TestSupport.write(client.getOutputStream(), "GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertEquals(sha256(big), sha256(response.substring(response.indexOf("\r\n\r\n") + 4)), "200 KB back intact");
            }
            ProxyServer strict = support.proxy(ProxySettings.FOR_TESTS, "RoundRobin", new RoundRobin(), List.of(conflicting.url()),
                    TestSupport.selfSignedTls());
            try (Socket client = TestSupport.connect(strict)) {
                TestSupport.write(client.getOutputStream(), "GET /conflict HTTP/1.1\r\nHost: localhost\r\n\r\n");
                String response = TestSupport.readOneResponse(client.getInputStream());
                assertTrue(response.startsWith("HTTP/1.1 502 "), "conflicting lengths are refused over TLS too: " + response);
                assertFalse(response.contains("hello"), response);
            }
        }
    }

    private Path pem(String name, Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return Files.writeString(dir.resolve(name), text.toString());
    }

    /** The certificate the proxy shows a client that asks for {@code host}. */
    private static X509Certificate servedTo(int port, String host) throws Exception {
        Pinning seen = new Pinning(null);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {seen}, null);
        try (SSLSocket socket = tlsSocket(port, host, context)) {
            assertNotNull(socket.getSession().getPeerCertificates());
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private static SSLSocket tlsSocket(int port, String host, SSLContext context) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(host)));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    /** A client that trusts exactly the certificate with this SHA-256 fingerprint, as a user checking the banner would. */
    private static SSLContext pinning(String fingerprint) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new Pinning(fingerprint)}, null);
        return context;
    }

    /** Trusts a server whose certificate has this fingerprint; any server when null (tests that ask which one it shows). */
    private record Pinning(String fingerprint) implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            if (fingerprint != null) {
                try {
                    String seen = HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded()));
                    if (!seen.equals(fingerprint)) {
                        throw new java.security.cert.CertificateException("fingerprint " + seen + " is not the banner's " + fingerprint);
                    }
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new java.security.cert.CertificateException(e);
                }
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    private static String readAll(InputStream in) {
        byte[] buffer = new byte[4096];
        StringBuilder read = new StringBuilder();
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                read.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            // reset or timed out: what came before is the answer
        }
        return read.toString();
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.ISO_8859_1)));
    }
}
