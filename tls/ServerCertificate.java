package tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * A certificate chain with its private key, checked to be usable: the key matches the leaf, and the leaf is
 * valid now. Knows the host names it serves (its DNS subject alternative names, or its common name when it
 * has none), so SNI can choose among several. Immutable.
 */
public final class ServerCertificate {
    private final List<X509Certificate> chain;
    private final PrivateKey key;
    private final List<String> names;
    private final String source;

    private ServerCertificate(List<X509Certificate> chain, PrivateKey key, String source) {
        this.chain = List.copyOf(chain);
        this.key = key;
        this.names = namesOf(chain.get(0));
        this.source = source;
    }

    /**
     * A chain and its key, refused with a {@link CertificateProblem} naming {@code source} when the key does not
     * belong to the leaf certificate or the leaf is expired or not valid yet at {@code now}.
     */
    public static ServerCertificate of(List<X509Certificate> chain, PrivateKey key, String source, Instant now) throws CertificateProblem {
        if (chain.isEmpty()) {
            throw new CertificateProblem(source + ": holds no certificate");
        }
        X509Certificate leaf = chain.get(0);
        if (!KeyMatch.matches(leaf.getPublicKey(), key)) {
            throw new CertificateProblem(source + ": the private key does not belong to the certificate for "
                    + subjectOf(leaf) + " (a key from another certificate?)");
        }
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new CertificateProblem(source + ": the certificate for " + subjectOf(leaf) + " expired on " + leaf.getNotAfter().toInstant()
                    + " (renew it)");
        }
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new CertificateProblem(source + ": the certificate for " + subjectOf(leaf) + " is not valid until "
                    + leaf.getNotBefore().toInstant() + " (is this machine's clock right?)");
        }
        return new ServerCertificate(chain, key, source);
    }

    public List<X509Certificate> chain() {
        return chain;
    }

    public PrivateKey key() {
        return key;
    }

    /** The host names it serves, lower case; a wildcard stays as written ({@code *.example.com}). */
    public List<String> names() {
        return names;
    }

    /** Where it came from, for messages: a file name, or "self-signed". */
    public String source() {
        return source;
    }

    /** Whether it serves {@code host} (lower case): an exact name, or a wildcard covering exactly one label, as RFC 6125 §6.4.3. */
    public boolean serves(String host) {
        for (String name : names) {
            if (name.equals(host)) {
                return true;
            }
            if (name.startsWith("*.")) {
                int dot = host.indexOf('.');
                if (dot > 0 && host.substring(dot).equals(name.substring(1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The leaf's SHA-256 fingerprint as colon-separated hex, as browsers and openssl show it. */
    public String fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(chain.get(0).getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot fingerprint a certificate already parsed", e);
        }
    }

    /** When the leaf expires. */
    public Instant notAfter() {
        return chain.get(0).getNotAfter().toInstant();
    }

    static String subjectOf(X509Certificate certificate) {
        return commonName(certificate).orElse(certificate.getSubjectX500Principal().getName());
    }

    private static List<String> namesOf(X509Certificate leaf) {
        List<String> names = new ArrayList<>();
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> entry : leaf.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(entry.get(0))) { // dNSName
                        names.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable extension names nothing; the common name below may still
        }
        if (names.isEmpty()) {
            commonName(leaf).ifPresent(cn -> names.add(cn.toLowerCase(Locale.ROOT)));
        }
        return List.copyOf(names);
    }

    private static Optional<String> commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return Optional.of(String.valueOf(rdn.getValue()));
                }
            }
        } catch (InvalidNameException e) {
            // no common name to offer
        }
        return Optional.empty();
    }
}
