package tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Chooses the server certificate for each handshake by the name the client asked for (SNI, RFC 6066 §3): the
 * first certificate that serves it, else the first one (the default), as nginx's default_server does. The set
 * can be replaced while serving (a reload): handshakes from then on see the new one, open connections keep
 * theirs. Aliases are indexes into one snapshot. Thread-safe: one volatile list, replaced whole.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    private volatile List<ServerCertificate> certificates;
    private volatile List<ServerCertificate> previous = List.of();

    SniKeyManager(List<ServerCertificate> certificates) {
        replace(certificates);
    }

    void replace(List<ServerCertificate> certificates) {
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("a TLS listener needs at least one certificate");
        }
        this.previous = this.certificates == null ? List.of() : this.certificates;
        this.certificates = List.copyOf(certificates);
    }

    List<ServerCertificate> certificates() {
        return certificates;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType, engine == null ? null : engine.getHandshakeSession());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
    }

    private String choose(String keyType, SSLSession handshake) {
        List<ServerCertificate> snapshot = certificates;
        String host = requestedHost(handshake);
        int fallback = -1;
        for (int i = 0; i < snapshot.size(); i++) {
            ServerCertificate certificate = snapshot.get(i);
            if (!fits(keyType, certificate.key())) {
                continue;
            }
            if (host != null && certificate.serves(host)) {
                return alias(snapshot, i);
            }
            if (fallback < 0) {
                fallback = i;
            }
        }
        return fallback < 0 ? null : alias(snapshot, fallback);
    }

    // The alias carries the snapshot's identity too, so a reload between choosing and reading the key
    // cannot pair one certificate with another's key.
    private static String alias(List<ServerCertificate> snapshot, int index) {
        return index + "@" + System.identityHashCode(snapshot);
    }

    private ServerCertificate byAlias(String alias) {
        int at = alias == null ? -1 : alias.indexOf('@');
        if (at < 0) {
            return null;
        }
        List<ServerCertificate> current = certificates;
        List<ServerCertificate> snapshot = alias.endsWith("@" + System.identityHashCode(current)) ? current : previous;
        try {
            int index = Integer.parseInt(alias.substring(0, at));
            return index >= 0 && index < snapshot.size() ? snapshot.get(index) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String requestedHost(SSLSession handshake) {
        if (handshake instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName().toLowerCase(Locale.ROOT);
                }
            }
        }
        return null;
    }

    // TLS 1.2 asks per key exchange ("EC", "RSA", "EC_EC"...), TLS 1.3 per signature scheme ("EC", "RSA", "RSASSA-PSS").
    private static boolean fits(String keyType, PrivateKey key) {
        if (keyType == null) {
            return true;
        }
        String algorithm = key.getAlgorithm();
        return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_")
                || ("RSASSA-PSS".equals(keyType) && "RSA".equals(algorithm))
                || ("EdDSA".equals(keyType) && algorithm.startsWith("Ed"));
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        ServerCertificate certificate = byAlias(alias);
        return certificate == null ? null : certificate.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        ServerCertificate certificate = byAlias(alias);
        return certificate == null ? null : certificate.key();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        List<ServerCertificate> snapshot = certificates;
        return java.util.stream.IntStream.range(0, snapshot.size()).filter(i -> fits(keyType, snapshot.get(i).key()))
                .mapToObj(i -> alias(snapshot, i)).toArray(String[]::new);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null; // a server's key manager: it never authenticates as a client
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
