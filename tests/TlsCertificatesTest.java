package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tls.CertificateFiles;
import tls.CertificateProblem;
import tls.SelfSigned;
import tls.ServerCertificate;
import tls.ServerTls;

/**
 * A TLS listener's certificates: read from every file form a user brings (PEM with a PKCS#8, PKCS#1 or encrypted
 * key; PKCS#12), each bad file refused with one line naming it and the problem, and, over real handshakes on
 * loopback, the certificate chosen by SNI with a default, TLS 1.0/1.1 refused, and a replaced set served from the
 * next handshake on.
 */
class TlsCertificatesTest {
    private static final Instant NOW = Instant.now();
    private Path dir;

    @BeforeEach
    void folder() throws IOException {
        dir = Files.createTempDirectory("tls-test");
    }

    @AfterEach
    void clean() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    private Path write(String name, Object... pemObjects) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            for (Object object : pemObjects) {
                pem.writeObject(object);
            }
        }
        return Files.writeString(dir.resolve(name), text.toString(), StandardCharsets.US_ASCII);
    }

    private static KeyPair rsa() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static X509Certificate selfSign(KeyPair keys, String cn, Instant from, Instant to) throws Exception {
        X500Name name = new X500Name("CN=" + cn);
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                Date.from(from), Date.from(to), name, keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate())));
    }

    @Test
    void readsPemWithPkcs1Pkcs8AndEncryptedKeysAndPkcs12() throws Exception {
        KeyPair keys = rsa();
        X509Certificate certificate = selfSign(keys, "files.test", NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)));
        Path cert = write("cert.pem", certificate);
        // JcaPEMWriter writes an RSA KeyPair as PKCS#1 ("BEGIN RSA PRIVATE KEY"), a PrivateKey alone as PKCS#8.
        Path pkcs1 = write("pkcs1.pem", keys);
        Path pkcs8 = write("pkcs8.pem", new JcaPKCS8Generator(keys.getPrivate(), null));
        Path encrypted = write("encrypted.pem", new JcaPKCS8Generator(keys.getPrivate(),
                new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).setPassword("s3cret".toCharArray()).build()));
        assertTrue(Files.readString(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----"), Files.readString(pkcs1));
        assertTrue(Files.readString(pkcs8).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.readString(encrypted).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

        for (Path key : List.of(pkcs1, pkcs8)) {
            ServerCertificate read = CertificateFiles.pem(cert, key, null, NOW);
            assertEquals(List.of("files.test"), read.names(), "the common name stands in for absent SANs");
            assertEquals(certificate, read.chain().get(0));
        }
        assertEquals(certificate, CertificateFiles.pem(cert, encrypted, "s3cret".toCharArray(), NOW).chain().get(0));

        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", keys.getPrivate(), "p12pass".toCharArray(), new Certificate[] {certificate});
        Path p12 = dir.resolve("server.p12");
        try (OutputStream out = Files.newOutputStream(p12)) {
            store.store(out, "p12pass".toCharArray());
        }
        assertEquals(certificate, CertificateFiles.pkcs12(p12, "p12pass".toCharArray(), NOW).chain().get(0));
        CertificateProblem wrong = assertThrows(CertificateProblem.class, () -> CertificateFiles.pkcs12(p12, "nope".toCharArray(), NOW));
        assertTrue(wrong.getMessage().startsWith(p12 + ": ") && wrong.getMessage().contains("password"), wrong.getMessage());
    }

    @Test
    void eachBadFileIsOneLineNamingTheFileAndTheProblem() throws Exception {
        KeyPair keys = rsa();
        KeyPair otherKeys = rsa();
        Path cert = write("cert.pem", selfSign(keys, "bad.test", NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1))));
        Path key = write("key.pem", keys);
        Path otherKey = write("other-key.pem", otherKeys);
        Path expired = write("expired.pem", selfSign(keys, "old.test", NOW.minus(Duration.ofDays(40)), NOW.minus(Duration.ofDays(10))));
        Path future = write("future.pem", selfSign(keys, "new.test", NOW.plus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(2))));
        Path encrypted = write("encrypted.pem", new JcaPKCS8Generator(keys.getPrivate(),
                new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).setPassword("s3cret".toCharArray()).build()));
        Path notPem = Files.writeString(dir.resolve("notes.txt"), "hello\n");
        Path missing = dir.resolve("missing.pem");

        assertProblem(() -> CertificateFiles.pem(missing, key, null, NOW), missing + ": no such file");
        assertProblem(() -> CertificateFiles.pem(cert, missing, null, NOW), missing + ": no such file");
        assertProblem(() -> CertificateFiles.pem(cert, otherKey, null, NOW), "the private key does not belong to the certificate for bad.test");
        assertProblem(() -> CertificateFiles.pem(expired, key, null, NOW), "the certificate for old.test expired on");
        assertProblem(() -> CertificateFiles.pem(future, key, null, NOW), "the certificate for new.test is not valid until");
        assertProblem(() -> CertificateFiles.pem(cert, encrypted, null, NOW), encrypted + ": the private key is encrypted: give its password with --tls-key-password");
        assertProblem(() -> CertificateFiles.pem(cert, encrypted, "guess".toCharArray(), NOW), encrypted + ": cannot decrypt the private key");
        assertProblem(() -> CertificateFiles.pem(notPem, key, null, NOW), notPem + ": holds no certificate");
        assertProblem(() -> CertificateFiles.pem(cert, notPem, null, NOW), notPem + ": holds no private key");
        assertProblem(() -> CertificateFiles.pem(cert, cert, null, NOW), cert + ": holds no private key");
    }

    private static void assertProblem(ThrowingCall call, String expected) {
        CertificateProblem problem = assertThrows(CertificateProblem.class, call::run);
        assertTrue(problem.getMessage().contains(expected), "expected «" + expected + "» in «" + problem.getMessage() + "»");
        assertFalse(problem.getMessage().contains("\n"), "one line: " + problem.getMessage());
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void selfSignedServesLocalhostAndPrintsAFingerprint() {
        ServerCertificate self = SelfSigned.forLocalhost(NOW);
        assertEquals(List.of("localhost"), self.names());
        assertTrue(self.fingerprint().matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"), self.fingerprint());
        assertTrue(self.notAfter().isAfter(NOW.plus(Duration.ofDays(29))));
        assertTrue(self.serves("localhost"));
        assertFalse(self.serves("example.com"));
    }

    @Test
    void wildcardsCoverExactlyOneLabel() {
        ServerCertificate wildcard = SelfSigned.create("wild", List.of("*.example.com"), List.of(), NOW);
        assertTrue(wildcard.serves("api.example.com"));
        assertFalse(wildcard.serves("example.com"));
        assertFalse(wildcard.serves("a.b.example.com"));
        assertFalse(wildcard.serves("api.example.org"));
    }

    @Test
    void handshakesChooseByServerNameFallBackToTheDefaultAndSeeAReplacement() throws Exception {
        ServerCertificate first = SelfSigned.create("default", List.of("default.test"), List.of(), NOW);
        ServerCertificate api = SelfSigned.create("api", List.of("api.test"), List.of(), NOW);
        ServerCertificate wild = SelfSigned.create("wild", List.of("*.apps.test"), List.of(), NOW);
        ServerTls tls = new ServerTls(List.of(first, api, wild));
        try (SSLServerSocket server = listen(tls)) {
            assertEquals(api.chain().get(0), handshake(server, "api.test", "TLSv1.3").certificate);
            assertEquals(wild.chain().get(0), handshake(server, "x.apps.test", "TLSv1.2").certificate);
            assertEquals(first.chain().get(0), handshake(server, "unknown.test", "TLSv1.3").certificate, "no match: the default");
            assertEquals(first.chain().get(0), handshake(server, null, "TLSv1.3").certificate, "no SNI at all: the default");

            ServerCertificate renewed = SelfSigned.create("api", List.of("api.test"), List.of(), NOW);
            tls.replaceCertificates(List.of(first, renewed));
            assertEquals(renewed.chain().get(0), handshake(server, "api.test", "TLSv1.3").certificate, "the next handshake sees the reload");
        }
    }

    @Test
    void tls10And11AreRefusedAnd12And13Negotiated() throws Exception {
        ServerTls tls = new ServerTls(List.of(SelfSigned.forLocalhost(NOW)));
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(tls.parameters().getProtocols()));
        assertTrue(tls.cipherSuites().contains("TLS_AES_128_GCM_SHA256"));
        assertTrue(tls.cipherSuites().stream().noneMatch(suite -> suite.contains("CBC") || suite.startsWith("TLS_RSA_")),
                "forward-secret AEAD suites only: " + tls.cipherSuites());
        try (SSLServerSocket server = listen(tls)) {
            assertEquals("TLSv1.3", handshake(server, "localhost", "TLSv1.3").protocol);
            assertEquals("TLSv1.2", handshake(server, "localhost", "TLSv1.2").protocol);
            for (String old : List.of("TLSv1.1", "TLSv1")) {
                Handshake refused = handshake(server, "localhost", old);
                assertTrue(refused.failure instanceof SSLHandshakeException, old + " must be refused, got " + refused);
            }
        }
    }

    private static SSLServerSocket listen(ServerTls tls) throws IOException {
        SSLServerSocket server = (SSLServerSocket) tls.context().getServerSocketFactory()
                .createServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        server.setSSLParameters(tls.parameters());
        server.setSoTimeout(10_000);
        return server;
    }

    record Handshake(X509Certificate certificate, String protocol, Exception failure) {
    }

    /** One client handshake against {@code server}, accepted on a thread of its own and closed after. */
    private static Handshake handshake(SSLServerSocket server, String sni, String protocol) throws Exception {
        Thread acceptor = new Thread(() -> {
            try (SSLSocket accepted = (SSLSocket) server.accept()) {
                accepted.setSoTimeout(10_000);
                accepted.startHandshake();
                InputStream in = accepted.getInputStream();
                in.read();
            } catch (IOException e) {
                // the client's refused handshake shows on the client side too
            }
        }, "tls-accept");
        acceptor.start();
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, new TrustManager[] {new RecordingTrust(seen)}, null);
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", server.getLocalPort())) {
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {protocol});
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            String negotiated = socket.getSession().getProtocol();
            socket.getOutputStream().write('x');
            return new Handshake(seen.get(), negotiated, null);
        } catch (IOException e) {
            return new Handshake(null, null, e);
        } finally {
            acceptor.join(10_000);
        }
    }

    /** Trusts any server and remembers the certificate it showed: these tests check which one, not whether to trust it. */
    private record RecordingTrust(AtomicReference<X509Certificate> seen) implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            seen.set(chain[0]);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
