package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import model.Backend;
import model.BackendPool;
import model.HealthChecks;
import model.HealthSettings;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;
import proxy.listen.ProtocolSettings;
import strategies.RoundRobin;
import tls.BackendTls;
import tls.SelfSigned;
import tls.ServerCertificate;
import tls.ServerTls;

/**
 * {@code https://} backends, attacked from the backend side: a certificate from a CA the proxy was told to trust and
 * naming the backend's host is used, with SNI; one naming another host, or from a CA nobody trusts, gets the client
 * a 502 and the backend no request; {@code --backend-insecure} skips both checks, and says so; health checks go over
 * HTTPS with the same trust; a TLS backend's broken framing is refused as a plain one's is.
 */
class HttpsBackendTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private final TestSupport support = new TestSupport();
    private Path dir;
    private ServerCertificate localhost;
    private Path localhostCa;

    @BeforeEach
    void certificates() throws IOException {
        dir = Files.createTempDirectory("https-backends");
        localhost = SelfSigned.create("localhost", List.of("localhost"), List.of("127.0.0.1"), Instant.now());
        localhostCa = pem("localhost-ca.pem", localhost);
    }

    @AfterEach
    void clean() throws IOException {
        support.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
    }

    private Path pem(String name, ServerCertificate certificate) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificate.chain().get(0));
        }
        return Files.writeString(dir.resolve(name), text.toString());
    }

    private ProxyServer proxy(String backendUrl, BackendTls trust) {
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, new BackendPool(List.of(Backend.of(backendUrl))), "RoundRobin",
                new RoundRobin(), new ProtocolSettings(null, true, false, trust));
        return proxy;
    }

    @Test
    void aTrustedCertificateNamingTheHostIsUsedWithSni() throws Exception {
        try (RawBackend backend = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(localhost)))) {
            ProxyServer proxy = proxy(backend.url(), BackendTls.verifying(localhostCa));
            try {
                HttpResponse<String> response = support.get(proxy, "/secure?x=1");
                assertEquals(200, response.statusCode(), response.body());
                assertEquals("ok", response.body());
                assertEquals(List.of("localhost"), backend.serverNames(), "SNI names the backend's host");
                assertTrue(backend.requestHeads().get(0).startsWith("GET /secure?x=1 HTTP/1.1\r\n"), backend.requestHeads().get(0));
            } finally {
                proxy.stop();
            }
        }
    }

    @Test
    void aCertificateForAnotherNameOrFromAnUntrustedCaGets502AndTheBackendNoRequest() throws Exception {
        ServerCertificate other = SelfSigned.create("other", List.of("other.test"), List.of(), Instant.now());
        Path otherCa = pem("other-ca.pem", other);
        try (RawBackend wrongName = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(other)));
             RawBackend untrusted = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(localhost)))) {
            // Trusted CA, but the certificate names other.test while the URL says localhost.
            ProxyServer byName = proxy(wrongName.url(), BackendTls.verifying(otherCa));
            // The JDK's trust store does not hold our self-signed certificate.
            ProxyServer byChain = proxy(untrusted.url(), BackendTls.verifying(null));
            try {
                for (ProxyServer proxy : List.of(byName, byChain)) {
                    HttpResponse<String> response = support.get(proxy, "/secret");
                    assertEquals(502, response.statusCode(), response.body());
                    assertFalse(response.body().contains("ok"), response.body());
                }
                assertEquals(List.of(), wrongName.requestHeads(), "a backend whose certificate failed hears no request");
                assertEquals(List.of(), untrusted.requestHeads());
            } finally {
                byName.stop();
                byChain.stop();
            }
        }
    }

    @Test
    void insecureSkipsTheChecksAndTheBannerSaysSo() throws Exception {
        ServerCertificate other = SelfSigned.create("other", List.of("other.test"), List.of(), Instant.now());
        try (RawBackend backend = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(other)));
             LoadBalancerProcess lb = LoadBalancerProcess.start("--backend-insecure", "--backend", backend.url())) {
            HttpResponse<String> response = support.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(lb.url() + "/lab"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(lb.lines().stream().anyMatch(line -> line.contains("WARNING: --backend-insecure")), String.join("\n", lb.lines()));
        }
        LoadBalancerProcess.Exited both = LoadBalancerProcess.run("--backend-insecure", "--backend-ca", localhostCa.toString(),
                "--backend", "https://localhost:9");
        assertEquals(2, both.code(), both.output());
        assertTrue(both.output().contains("not both"), both.output());
        LoadBalancerProcess.Exited missing = LoadBalancerProcess.run("--backend-ca", dir.resolve("nope.pem").toString(), "--backend", "https://localhost:9");
        assertEquals(2, missing.code(), missing.output());
        assertTrue(missing.output().startsWith("error: --backend-ca " + dir.resolve("nope.pem") + ": no such file"), missing.output());
    }

    @Test
    void healthChecksGoOverHttpsWithTheSameTrust() throws Exception {
        try (RawBackend backend = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(localhost)))) {
            HealthSettings checked = new HealthSettings(new HealthChecks("/health", Duration.ofMillis(100), Duration.ofSeconds(2), 1, 1),
                    HealthSettings.DEFAULTS.ejection(), Duration.ZERO, false);
            ProxySettings settings = new ProxySettings(ProxySettings.Listener.FOR_TESTS, ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS,
                    ProxySettings.Backends.DEFAULTS, checked);
            ProxyServer proxy = ProxyServer.start(settings, new BackendPool(List.of(Backend.of(backend.url()))), "RoundRobin", new RoundRobin(),
                    new ProtocolSettings(null, true, false, BackendTls.verifying(localhostCa)));
            try {
                TestSupport.await(() -> backend.requestHeads().stream().anyMatch(head -> head.startsWith("GET /health HTTP/1.1\r\n")),
                        Duration.ofSeconds(10), "a health check over https");
                assertTrue(proxy.pool().all().get(0).health().isCheckedUp(), "the check passed: the backend is up");
            } finally {
                proxy.stop();
            }
        }
    }

    @Test
    void aTlsBackendsConflictingLengthsAreRefusedAndItsBigBodyArrivesIntact() throws Exception {
        String big = "y".repeat(150_000);
        try (RawBackend conflicting = new RawBackend(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
                     new ServerTls(List.of(localhost)));
             RawBackend large = new RawBackend(RawBackend.answer("HTTP/1.1 200 OK\r\nContent-Length: " + big.length() + "\r\n\r\n" + big),
                     new ServerTls(List.of(localhost)))) {
            ProxyServer strict = proxy(conflicting.url(), BackendTls.verifying(localhostCa));
            ProxyServer streaming = proxy(large.url(), BackendTls.verifying(localhostCa));
            try {
                HttpResponse<String> refused = support.get(strict, "/conflict");
                assertEquals(502, refused.statusCode(), refused.body());
                assertFalse(refused.body().contains("hello"), refused.body());
                for (int i = 0; i < 3; i++) { // the kept-alive TLS connection is reused and stays in step
                    HttpResponse<String> response = support.get(streaming, "/big");
                    assertEquals(200, response.statusCode());
                    assertEquals(big, response.body());
                }
                assertEquals(3, large.requestHeads().size());
            } finally {
                strict.stop();
                streaming.stop();
            }
        }
    }

    @Test
    void eachUpstreamOfTheConfigFileTrustsItsBackendsItsOwnWay() throws Exception {
        ServerCertificate other = SelfSigned.create("other", List.of("other.test"), List.of(), Instant.now());
        try (RawBackend byCa = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(localhost)));
             RawBackend lab = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(other)));
             RawBackend strict = new RawBackend(RawBackend.answer(OK), new ServerTls(List.of(localhost)))) {
            Path config = Files.writeString(dir.resolve("lb.yaml"), "upstreams:\n"
                    + "  ca:\n    backend: [\"" + byCa.url() + "\"]\n    backend-ca: " + localhostCa + "\n"
                    + "  lab:\n    backend: [\"" + lab.url() + "\"]\n    backend-insecure: true\n"
                    + "  strict:\n    backend: [\"" + strict.url() + "\"]\n"
                    + "routes:\n  - path: /ca\n    upstream: ca\n  - path: /lab\n    upstream: lab\n  - path: /strict\n    upstream: strict\n");
            try (LoadBalancerProcess lb = LoadBalancerProcess.start("--config", config.toString())) {
                for (String path : List.of("/ca", "/lab", "/strict")) {
                    HttpResponse<String> response = support.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(lb.url() + path))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(path.equals("/strict") ? 502 : 200, response.statusCode(), path + ": " + response.body());
                }
                assertTrue(byCa.requestHeads().get(0).startsWith("GET /ca HTTP/1.1\r\n"), "backend-ca trusts this upstream's CA");
                assertTrue(lab.requestHeads().get(0).startsWith("GET /lab HTTP/1.1\r\n"), "backend-insecure checks nothing, for this upstream only");
                assertEquals(List.of(), strict.requestHeads(), "an upstream without the keys trusts as the flags say: the JDK's store, not our CA");
                lb.awaitLine("upstream lab: backend-insecure", Duration.ofSeconds(5));
            }
        }
        Path both = Files.writeString(dir.resolve("both.yaml"), "upstreams:\n  app:\n    backend: [\"https://localhost:1\"]\n    backend-ca: "
                + localhostCa + "\n    backend-insecure: true\n");
        LoadBalancerProcess.Exited refused = LoadBalancerProcess.run("--config", both.toString(), "--check-config");
        assertEquals(2, refused.code(), refused.output());
        assertEquals("error: " + both + ":2:3: upstream 'app': give backend-ca or backend-insecure, not both", refused.output().strip());
        Path missing = Files.writeString(dir.resolve("missing.yaml"), "upstreams:\n  app:\n    backend: [\"https://localhost:1\"]\n    backend-ca: "
                + dir.resolve("nope.pem") + "\n");
        refused = LoadBalancerProcess.run("--config", missing.toString(), "--check-config");
        assertEquals(2, refused.code(), refused.output());
        assertEquals("error: " + missing + ":4:17: backend-ca: cannot read " + dir.resolve("nope.pem") + " (no such file?)", refused.output().strip());
        Path notCa = Files.writeString(dir.resolve("not-a-ca.pem"), "hello\n");
        Path garbage = Files.writeString(dir.resolve("garbage.yaml"), "upstreams:\n  app:\n    backend: [\"https://localhost:1\"]\n    backend-ca: "
                + notCa + "\n");
        refused = LoadBalancerProcess.run("--config", garbage.toString(), "--check-config");
        assertEquals(2, refused.code(), refused.output());
        List<String> lines = refused.output().lines().filter(line -> !line.isBlank()).toList();
        assertEquals(1, lines.size(), refused.output());
        assertTrue(lines.get(0).startsWith("error: upstream 'app': backend-ca " + notCa), lines.get(0));

        Path checked = Files.writeString(dir.resolve("checked.yaml"), "upstreams:\n  app:\n    backend: [\"https://localhost:1\"]\n    backend-ca: "
                + localhostCa + "\n  lab:\n    backend: [\"https://localhost:2\"]\n    backend-insecure: true\nroutes:\n  - path: /\n    upstream: app\n");
        LoadBalancerProcess.Exited good = LoadBalancerProcess.run("--config", checked.toString(), "--check-config");
        assertEquals(0, good.code(), good.output());
        assertTrue(good.output().contains("upstream app (round-robin) https:// backends checked against " + localhostCa), good.output());
        assertTrue(good.output().contains("upstream lab (round-robin) https:// backends unchecked (backend-insecure)"), good.output());
    }
}
