package tests;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import model.Backend;
import model.BackendPool;
import model.Strategy;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import proxy.listen.ProtocolSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import tls.BackendTls;
import tls.SelfSigned;
import tls.ServerCertificate;
import tls.ServerTls;

/**
 * The whole hostile-backend suite again, every backend an {@code https://localhost} one whose certificate the proxy
 * was told to trust: the response-head guard sits above Undertow's SSL conduit there, and each case must end for the
 * client and the backend exactly as it does over plain TCP.
 */
class HostileTlsBackendConformanceTest extends HostileBackendConformanceTest {
    private static ServerTls backendTls;
    private static Path caDir;
    private static BackendTls trust;
    private final List<AutoCloseable> started = new ArrayList<>();

    @BeforeAll
    static void certificate() throws Exception {
        ServerCertificate localhost = SelfSigned.create("localhost", List.of("localhost"), List.of("127.0.0.1"), Instant.now());
        backendTls = new ServerTls(List.of(localhost));
        caDir = Files.createTempDirectory("hostile-tls");
        StringWriter pem = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(pem)) {
            writer.writeObject(localhost.chain().get(0));
        }
        trust = BackendTls.verifying(Files.writeString(caDir.resolve("backend-ca.pem"), pem.toString()));
    }

    @AfterAll
    static void removeCertificate() throws IOException {
        Files.deleteIfExists(caDir.resolve("backend-ca.pem"));
        Files.deleteIfExists(caDir);
    }

    @AfterEach
    void stopTlsParts() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                // keep stopping the rest
            }
        }
    }

    @Override
    RawBackend raw(RawBackend.Behaviour behaviour) throws IOException {
        RawBackend backend = new RawBackend(behaviour, backendTls);
        started.add(backend);
        return backend;
    }

    @Override
    ProxyServer proxy(ProxySettings settings, Strategy strategy, List<String> backendUrls) {
        ProxyServer proxy = ProxyServer.start(settings, new BackendPool(backendUrls.stream().map(Backend::of).toList()),
                strategy.getClass().getSimpleName(), strategy, new ProtocolSettings(null, true, false, trust));
        started.add(proxy::stop);
        return proxy;
    }
}
