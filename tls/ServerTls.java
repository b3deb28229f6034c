package tls;

import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * TLS for one listener: its certificates (chosen by SNI, the first is the default), TLS 1.2 and 1.3 only, and a
 * modern cipher list (Mozilla's "intermediate" profile: forward-secret AEAD suites only). Certificates can be
 * replaced while serving; the SSL context stays, so open connections are untouched. Thread-safe.
 */
public final class ServerTls {
    /** TLS 1.0 and 1.1 are refused (RFC 8996). */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    // Mozilla intermediate, in the JDK's names: TLS 1.3's three, then ECDHE with AES-GCM or ChaCha20 for 1.2.
    private static final List<String> WANTED_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final SniKeyManager keys;
    private final SSLContext context;
    private final List<String> cipherSuites;

    public ServerTls(List<ServerCertificate> certificates) {
        this.keys = new SniKeyManager(certificates);
        try {
            this.context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {keys}, null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK offers no TLS: " + e.getMessage(), e);
        }
        Set<String> supported = Set.of(context.getSupportedSSLParameters().getCipherSuites());
        this.cipherSuites = WANTED_SUITES.stream().filter(supported::contains).toList();
    }

    public SSLContext context() {
        return context;
    }

    /** The cipher suites offered, in order of preference; those of {@link #WANTED_SUITES} this JDK has. */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /** Protocols, suites and the server's order of preference, for an engine or socket of this context. */
    public SSLParameters parameters() {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
        parameters.setCipherSuites(cipherSuites.toArray(String[]::new));
        parameters.setUseCipherSuitesOrder(true);
        return parameters;
    }

    /** The certificates served now; the first is the default. */
    public List<ServerCertificate> certificates() {
        return keys.certificates();
    }

    /**
     * From the next full handshake on, serve these (a reload); connections already open keep what they had, and
     * so may a client resuming a session it started before, as with nginx's session tickets across a reload.
     */
    public void replaceCertificates(List<ServerCertificate> certificates) {
        keys.replace(certificates);
    }
}
