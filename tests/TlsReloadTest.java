package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tls.SelfSigned;
import tls.ServerCertificate;

/**
 * Certificates reloaded in a running load balancer, as a user renews them: after POST /reload (the same reload as
 * SIGHUP's and --watch-config's, on the admin port, which speaks HTTPS with the same certificates) new handshakes get the new certificate while a TLS connection opened before goes
 * on serving; a bad new certificate (missing file, key of another certificate, expired, encrypted key without its
 * password) is refused in one line naming the file, and a real TLS client still reads the old one.
 */
class TlsReloadTest {
    private static final Pattern ADMIN = Pattern.compile("Admin: +https://[^:]+:(\\d+)/");
    private final TestSupport support = new TestSupport();
    private Path dir;

    @BeforeEach
    void folder() throws IOException {
        dir = Files.createTempDirectory("tls-reload");
    }

    @AfterEach
    void clean() throws IOException {
        support.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    @Test
    void aReloadServesTheNewCertificateToNewHandshakesAndOpenConnectionsCarryOn() throws Exception {
        ServerCertificate first = SelfSigned.create("first", List.of("app.test"), List.of(), Instant.now());
        ServerCertificate second = SelfSigned.create("second", List.of("app.test"), List.of(), Instant.now());
        pemPair("first", first);
        pemPair("second", second);
        try (RecordingBackend backend = new RecordingBackend()) {
            Path config = Files.writeString(dir.resolve("lb.yaml"), config("first.pem", "first.key", backend.url()));
            try (LoadBalancerProcess lb = LoadBalancerProcess.start("--config", config.toString(), "--admin-port", "0")) {
                int admin = adminPort(lb);
                try (SSLSocket open = tlsSocket(lb.port(), "app.test")) {
                    assertEquals(first.chain().get(0), open.getSession().getPeerCertificates()[0]);
                    assertEquals(200, status(exchange(open, "/before")));

                    Files.writeString(config, config("second.pem", "second.key", backend.url()));
                    Answer reload = reload(admin);
                    assertEquals(200, reload.statusCode(), reload.body());
                    assertTrue(reload.body().contains("certificate " + dir.resolve("second.pem")), reload.body());
                    assertEquals(second.chain().get(0), servedTo(lb.port(), "app.test"), "a new handshake gets the new certificate");

                    assertEquals(200, status(exchange(open, "/after")), "the connection opened before the reload carries on");
                    assertEquals(first.chain().get(0), open.getSession().getPeerCertificates()[0], "with the certificate it started with");
                }
            }
            List<String> paths = backend.completeRequests().stream().map(request -> request.head().split(" ")[1]).toList();
            assertEquals(List.of("/before", "/after"), paths, "the backend got both requests of the open connection");
        }
    }

    @Test
    void aBadNewCertificateIsRefusedInOneLineAndTheOldOneKeepsServing() throws Exception {
        ServerCertificate good = SelfSigned.create("good", List.of("app.test"), List.of(), Instant.now());
        ServerCertificate other = SelfSigned.create("other", List.of("app.test"), List.of(), Instant.now());
        ServerCertificate old = SelfSigned.create("old", List.of("app.test"), List.of(), Instant.now().minus(Duration.ofDays(60)));
        pemPair("good", good);
        pemPair("other", other);
        pemPair("old", old);
        pem("locked.key", new JcaPKCS8Generator(other.key(), new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).setPassword("pw".toCharArray()).build()));
        try (RecordingBackend backend = new RecordingBackend()) {
            Path config = Files.writeString(dir.resolve("lb.yaml"), config("good.pem", "good.key", backend.url()));
            try (LoadBalancerProcess lb = LoadBalancerProcess.start("--config", config.toString(), "--admin-port", "0")) {
                int admin = adminPort(lb);
                record Bad(String cert, String key, String file, String problem) {}
                for (Bad bad : List.of(
                        new Bad("missing.pem", "other.key", "missing.pem", "no such file"),
                        new Bad("other.pem", "good.key", "good.key", "does not belong to the certificate"),
                        new Bad("old.pem", "old.key", "old.pem", "expired on"),
                        new Bad("other.pem", "locked.key", "locked.key", "--tls-key-password-file"))) {
                    Files.writeString(config, config(bad.cert(), bad.key(), backend.url()));
                    Answer reload = reload(admin);
                    assertEquals(409, reload.statusCode(), bad + ": " + reload.body());
                    assertTrue(reload.body().contains(dir.resolve(bad.file()).toString()) && reload.body().contains(bad.problem()),
                            bad + " named in the answer: " + reload.body());
                    lb.awaitLine(bad.problem(), Duration.ofSeconds(10));
                    List<String> refused = lb.lines().stream().filter(line -> line.contains("refused") && line.contains(bad.problem())).toList();
                    assertEquals(1, refused.size(), "one line:\n" + String.join("\n", lb.lines()));
                    assertTrue(refused.get(0).contains("--tls-cert " + dir), refused.get(0));
                    assertEquals(good.chain().get(0), servedTo(lb.port(), "app.test"), bad + ": the old certificate keeps serving");
                }
                assertTrue(lb.lines().stream().noneMatch(line -> line.contains("Exception") || line.startsWith("\tat ")),
                        "no stack trace:\n" + String.join("\n", lb.lines()));
                try (SSLSocket client = tlsSocket(lb.port(), "app.test")) {
                    assertEquals(200, status(exchange(client, "/still")));
                }
            }
            assertEquals(1, backend.completeRequests().size());
        }
    }

    @Test
    void withoutAConfigFileAReloadReadsTheRenewedFilesOfTheCommandLine() throws Exception {
        ServerCertificate before = SelfSigned.create("before", List.of("app.test"), List.of(), Instant.now());
        ServerCertificate renewed = SelfSigned.create("renewed", List.of("app.test"), List.of(), Instant.now());
        pemPair("live", before);
        try (RecordingBackend backend = new RecordingBackend();
             LoadBalancerProcess lb = LoadBalancerProcess.start("--tls-cert", dir.resolve("live.pem").toString(), "--tls-key",
                     dir.resolve("live.key").toString(), "--admin-port", "0", "--backend", backend.url())) {
            assertEquals(before.chain().get(0), servedTo(lb.port(), "app.test"));
            pemPair("live", renewed); // certbot's renewal: the same paths, new contents
            Answer reload = reload(adminPort(lb));
            assertEquals(200, reload.statusCode(), reload.body());
            assertEquals(renewed.chain().get(0), servedTo(lb.port(), "app.test"));
        }
    }

    private String config(String cert, String key, String backend) {
        return "tls-cert: " + dir.resolve(cert) + "\ntls-key: " + dir.resolve(key) + "\nupstreams:\n  app:\n    backend: [\"" + backend + "\"]\n";
    }

    /** POST /reload on the admin port, which speaks HTTPS like the proxy's listener: status line, then the body. */
    private static Answer reload(int admin) throws Exception {
        try (SSLSocket socket = tlsSocket(admin, "localhost")) {
            TestSupport.write(socket.getOutputStream(), "POST /reload HTTP/1.1\r\nHost: 127.0.0.1:" + admin
                    + "\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            String response = TestSupport.readUntilClosed(socket.getInputStream());
            return new Answer(status(response), response.substring(response.indexOf("\r\n\r\n") + 4));
        }
    }

    private record Answer(int statusCode, String body) {}

    private static int adminPort(LoadBalancerProcess lb) throws InterruptedException {
        lb.awaitLine("Admin: ", Duration.ofSeconds(10));
        Matcher matcher = ADMIN.matcher(String.join("\n", lb.lines()));
        assertTrue(matcher.find(), String.join("\n", lb.lines()));
        return Integer.parseInt(matcher.group(1));
    }

    private void pemPair(String name, ServerCertificate certificate) throws IOException {
        pem(name + ".pem", certificate.chain().get(0));
        pem(name + ".key", new JcaPKCS8Generator(certificate.key(), null));
    }

    private void pem(String name, Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        Files.writeString(dir.resolve(name), text.toString());
    }

    /** One keep-alive request on {@code socket}; the response head and body. */
    private static String exchange(SSLSocket socket, String path) throws IOException {
        TestSupport.write(socket.getOutputStream(), "GET " + path + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
        return TestSupport.readOneResponse(socket.getInputStream());
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    /** The certificate a fresh client (no session to resume) is shown when it asks for {@code host}. */
    private static X509Certificate servedTo(int port, String host) throws Exception {
        try (SSLSocket socket = tlsSocket(port, host)) {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    /** A TLS connection from a new client context, so it resumes no earlier session; it trusts any certificate, to read it. */
    private static SSLSocket tlsSocket(int port, String host) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new AnyCertificate()}, null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(host)));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    private record AnyCertificate() implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
