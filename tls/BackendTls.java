package tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How the proxy trusts {@code https://} backends: against the JDK's trust store, or only a given CA file, with the
 * host name of the backend's URL checked against its certificate (RFC 6125: DNS names with one-label wildcards, or
 * IP addresses); or, with {@code insecure}, not at all, for labs, which the banner and log say. Undertow's SSL
 * engines are made without endpoint identification, so the host name check is done here, in the trust manager,
 * with the host the engine was made for. Immutable; its context is thread-safe.
 */
public final class BackendTls {
    private final SSLContext context;
    private final boolean insecure;
    private final String trustSource;

    private BackendTls(SSLContext context, boolean insecure, String trustSource) {
        this.context = context;
        this.insecure = insecure;
        this.trustSource = trustSource;
    }

    /** Trusts the JDK's CA certificates, or only those in {@code caFile} when not null; host names checked. */
    public static BackendTls verifying(Path caFile) throws CertificateProblem {
        X509TrustManager chain = caFile == null ? systemTrust() : trustOnly(caFile);
        return new BackendTls(context(new HostChecking(chain)), false, caFile == null ? "the JDK's trust store" : caFile.toString());
    }

    /** Trusts any certificate for any name: {@code --backend-insecure}. */
    public static BackendTls insecure() {
        return new BackendTls(context(new TrustingAll()), true, "nothing (--backend-insecure: certificates are not checked)");
    }

    public SSLContext context() {
        return context;
    }

    public boolean isInsecure() {
        return insecure;
    }

    /** What the certificates are checked against, for the banner. */
    public String trustSource() {
        return trustSource;
    }

    private static SSLContext context(X509ExtendedTrustManager trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK offers no TLS: " + e.getMessage(), e);
        }
    }

    private static X509TrustManager systemTrust() {
        return trustManager(null);
    }

    private static X509TrustManager trustOnly(Path caFile) throws CertificateProblem {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int i = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + i++, certificate);
            }
            if (i == 0) {
                throw new CertificateProblem(caFile + ": holds no certificate: it should hold PEM CA certificates (-----BEGIN CERTIFICATE-----)");
            }
            return trustManager(store);
        } catch (NoSuchFileException e) {
            throw new CertificateProblem(caFile + ": no such file");
        } catch (IOException | GeneralSecurityException e) {
            throw new CertificateProblem(caFile + ": not a PEM CA file (" + e.getMessage() + ")");
        }
    }

    private static X509TrustManager trustManager(KeyStore store) {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            for (TrustManager manager : factory.getTrustManagers()) {
                if (manager instanceof X509TrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK's trust manager factory made no X.509 trust manager");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the trust store: " + e.getMessage(), e);
        }
    }

    /** Whether {@code certificate} names {@code host}: an IP address among its IP SANs, or a DNS SAN (one-label wildcards). */
    static boolean names(X509Certificate certificate, String host) {
        String wanted = host.toLowerCase(Locale.ROOT);
        boolean literal = wanted.indexOf(':') >= 0 || wanted.matches("[0-9.]+");
        try {
            if (certificate.getSubjectAlternativeNames() == null) {
                return false; // RFC 6125 §6.4.4 leaves the common name to old clients; browsers and curl ignore it too
            }
            for (List<?> entry : certificate.getSubjectAlternativeNames()) {
                int type = (Integer) entry.get(0);
                String name = String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT);
                if (literal && type == 7 && sameAddress(name, wanted)) {
                    return true;
                }
                if (!literal && type == 2 && (name.equals(wanted) || wildcardCovers(name, wanted))) {
                    return true;
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        return false;
    }

    private static boolean wildcardCovers(String pattern, String host) {
        int dot = host.indexOf('.');
        return pattern.startsWith("*.") && dot > 0 && host.substring(dot).equals(pattern.substring(1));
    }

    private static boolean sameAddress(String a, String b) {
        try {
            return InetAddress.getByName(a).equals(InetAddress.getByName(b.replace("[", "").replace("]", "")));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The chain checked by the JDK's trust manager, then the host name by {@link #names}. */
    private static final class HostChecking extends ServerTrust {
        private final X509TrustManager chain;

        HostChecking(X509TrustManager chain) {
            this.chain = chain;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType, SSLEngine engine) throws CertificateException {
            chain.checkServerTrusted(certificates, authType);
            String host = engine == null ? null : engine.getPeerHost();
            if (host == null || !names(certificates[0], host)) {
                throw new CertificateException("the backend's certificate does not name " + host + " (it names "
                        + certificates[0].getSubjectAlternativeNames() + ")");
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType, Socket socket) throws CertificateException {
            chain.checkServerTrusted(certificates, authType);
            String host = socket == null || socket.getInetAddress() == null ? null : socket.getInetAddress().getHostName();
            if (host == null || !names(certificates[0], host)) {
                throw new CertificateException("the backend's certificate does not name " + host);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType) throws CertificateException {
            throw new CertificateException("no host name to check the backend's certificate against");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return chain.getAcceptedIssuers();
        }
    }

    /** Accepts every certificate: an X509ExtendedTrustManager, so the JDK adds no host name check of its own either. */
    private static final class TrustingAll extends ServerTrust {
        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] certificates, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** What both of the proxy's trust managers share: they judge servers only, being a client's. */
    private abstract static class ServerTrust extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] certificates, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("a client's trust manager checks no clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] certificates, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("a client's trust manager checks no clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] certificates, String authType) throws CertificateException {
            throw new CertificateException("a client's trust manager checks no clients");
        }
    }
}
