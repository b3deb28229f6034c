package tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Reads a server's certificate and key from files: PEM (a certificate chain, and a PKCS#8, PKCS#1 or SEC1 key,
 * encrypted or not) or PKCS#12 (.p12, .pfx). Every failure is one {@link CertificateProblem} line naming the file
 * and what to do. Bouncy Castle parses the PEM keys the JDK cannot (PKCS#1, SEC1, OpenSSL-encrypted). Stateless.
 */
public final class CertificateFiles {
    // Given to the decryptors, not installed in the JVM: OpenSSL's encrypted keys name ciphers (AES/CBC/PKCS7Padding)
    // the JDK's providers call by other names.
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private CertificateFiles() {
    }

    /** A PEM certificate chain (leaf first) and its PEM key; {@code password} only for an encrypted key, else null. */
    public static ServerCertificate pem(Path certFile, Path keyFile, char[] password, Instant now) throws CertificateProblem {
        List<X509Certificate> chain = readChain(certFile);
        PrivateKey key = readKey(keyFile, password);
        return ServerCertificate.of(chain, key, certFile + " with " + keyFile, now);
    }

    /** A PKCS#12 file holding one key entry and its chain; {@code password} may be empty, not null. */
    public static ServerCertificate pkcs12(Path file, char[] password, Instant now) throws CertificateProblem {
        KeyStore store;
        try (InputStream in = Files.newInputStream(file)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
        } catch (NoSuchFileException e) {
            throw missing(file);
        } catch (IOException | GeneralSecurityException e) {
            throw new CertificateProblem(file + ": cannot read it as PKCS#12 (" + reason(e)
                    + "): a wrong or missing password (--tls-key-password-file), or not a .p12 file");
        }
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    Key key = store.getKey(alias, password);
                    List<X509Certificate> chain = new ArrayList<>();
                    for (Certificate certificate : store.getCertificateChain(alias)) {
                        chain.add((X509Certificate) certificate);
                    }
                    if (key instanceof PrivateKey privateKey) {
                        return ServerCertificate.of(chain, privateKey, file.toString(), now);
                    }
                }
            }
        } catch (GeneralSecurityException e) {
            throw new CertificateProblem(file + ": cannot read its key (" + reason(e) + ")");
        }
        throw new CertificateProblem(file + ": holds no private key with its certificate");
    }

    static List<X509Certificate> readChain(Path file) throws CertificateProblem {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) certificate);
            }
        } catch (NoSuchFileException e) {
            throw missing(file);
        } catch (IOException | CertificateException e) {
            String why = reason(e).startsWith("No certificate data") ? "holds no certificate" : "not a PEM certificate (" + reason(e) + ")";
            throw new CertificateProblem(file + ": " + why + ": it should start with -----BEGIN CERTIFICATE-----");
        }
        if (chain.isEmpty()) {
            throw new CertificateProblem(file + ": holds no certificate: it should start with -----BEGIN CERTIFICATE-----");
        }
        return chain;
    }

    static PrivateKey readKey(Path file, char[] password) throws CertificateProblem {
        Object parsed;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(reader)) {
            parsed = pem.readObject();
        } catch (NoSuchFileException e) {
            throw missing(file);
        } catch (IOException e) {
            throw new CertificateProblem(file + ": not a PEM private key (" + reason(e) + ")");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (parsed instanceof PrivateKeyInfo info) { // PKCS#8
                return converter.getPrivateKey(info);
            }
            if (parsed instanceof PEMKeyPair pair) { // PKCS#1 (RSA) or SEC1 (EC)
                return converter.getKeyPair(pair).getPrivate();
            }
            if (parsed instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                requirePassword(file, password);
                return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                        new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(password)));
            }
            if (parsed instanceof PEMEncryptedKeyPair encrypted) {
                requirePassword(file, password);
                return converter.getKeyPair(encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(password))).getPrivate();
            }
        } catch (PKCSException | OperatorCreationException | IOException e) {
            String why = reason(e).toLowerCase(Locale.ROOT);
            throw new CertificateProblem(file + ": cannot decrypt the private key"
                    + (why.contains("pad") || why.contains("decrypt") || why.contains("password") || why.contains("mac")
                            ? ": wrong password (--tls-key-password-file)" : " (" + reason(e) + ")"));
        }
        throw new CertificateProblem(file + ": holds no private key"
                + (parsed == null ? "" : " (found " + parsed.getClass().getSimpleName() + ")")
                + ": it should start with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----");
    }

    private static void requirePassword(Path file, char[] password) throws CertificateProblem {
        if (password == null || password.length == 0) {
            throw new CertificateProblem(file + ": the private key is encrypted: give its password with --tls-key-password-file "
                    + "(or decrypt it: openssl pkey -in " + file.getFileName() + " -out key.pem)");
        }
    }

    private static CertificateProblem missing(Path file) {
        return new CertificateProblem(file + ": no such file");
    }

    private static String reason(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
