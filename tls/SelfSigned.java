package tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate for localhost made in memory at start ({@code --tls self-signed}): an EC P-256 key, valid from an
 * hour ago for 30 days, for the names localhost, 127.0.0.1 and ::1. For demos and classrooms: browsers warn, and
 * the printed fingerprint is how a user checks it is ours. The JDK has no public API to sign a certificate, so
 * Bouncy Castle does. Stateless.
 */
public final class SelfSigned {
    private static final Duration VALIDITY = Duration.ofDays(30);

    private SelfSigned() {
    }

    /** A new key and certificate for {@code commonName} with these DNS and IP names. */
    public static ServerCertificate create(String commonName, List<String> dnsNames, List<String> ipAddresses, Instant now) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair keys = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=" + commonName);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
            GeneralName[] names = new GeneralName[dnsNames.size() + ipAddresses.size()];
            int i = 0;
            for (String dns : dnsNames) {
                names[i++] = new GeneralName(GeneralName.dNSName, dns);
            }
            for (String ip : ipAddresses) {
                names[i++] = new GeneralName(GeneralName.iPAddress, ip);
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            return ServerCertificate.of(List.of(certificate), keys.getPrivate(), "self-signed", now);
        } catch (GeneralSecurityException | OperatorCreationException | CertificateProblem | java.io.IOException e) {
            throw new IllegalStateException("cannot make a self-signed certificate: " + e.getMessage(), e);
        }
    }

    /** The one {@code --tls self-signed} makes: localhost, 127.0.0.1 and ::1. */
    public static ServerCertificate forLocalhost(Instant now) {
        return create("localhost", List.of("localhost"), List.of("127.0.0.1", "::1"), now);
    }
}
