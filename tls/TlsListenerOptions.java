package tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the command line (or a listener in the config file) says about TLS, turned into the listener's
 * {@link ServerTls}: {@code --tls self-signed}, or {@code --tls-cert} files, each PEM one paired in order with a
 * {@code --tls-key}, and PKCS#12 files (.p12, .pfx) alone. The first certificate is the default for clients that
 * name no host or one no certificate serves. Immutable.
 *
 * @param mode         "self-signed", or null
 * @param certFiles    the --tls-cert files, in order
 * @param keyFiles     the --tls-key files, one for each PEM certificate, in order
 * @param passwordFile a file whose first line is the password of encrypted keys and PKCS#12 files, or null
 */
public record TlsListenerOptions(String mode, List<Path> certFiles, List<Path> keyFiles, Path passwordFile) {
    public static final String SELF_SIGNED = "self-signed";

    public TlsListenerOptions {
        certFiles = List.copyOf(certFiles);
        keyFiles = List.copyOf(keyFiles);
    }

    /** Whether the listener speaks TLS at all. */
    public boolean enabled() {
        return mode != null || !certFiles.isEmpty();
    }

    /**
     * The rules between the options, in their words; empty when they hold. Checked before any file is read,
     * so a wrong combination is named as such rather than as a file problem.
     */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (mode != null && !mode.equals(SELF_SIGNED)) {
            problems.add("--tls takes only '" + SELF_SIGNED + "' (for certificate files use --tls-cert FILE --tls-key FILE), got '" + mode + "'");
        }
        if (mode != null && !certFiles.isEmpty()) {
            problems.add("give --tls " + SELF_SIGNED + " or --tls-cert, not both");
        }
        long pem = certFiles.stream().filter(file -> !isPkcs12(file)).count();
        if (keyFiles.size() != pem) {
            problems.add(pem == 0 && certFiles.isEmpty()
                    ? "--tls-key needs its --tls-cert"
                    : "each PEM --tls-cert needs its --tls-key, in the same order: " + pem + " certificate(s), " + keyFiles.size() + " key(s)"
                            + " (a .p12 or .pfx file holds its key and needs none)");
        }
        if (passwordFile != null && !enabled()) {
            problems.add("--tls-key-password-file needs --tls-cert");
        }
        return problems;
    }

    /** The listener's TLS, or null for plain HTTP; every file read and checked now, at {@code now}. */
    public ServerTls load(Instant now) throws CertificateProblem {
        if (!enabled()) {
            return null;
        }
        return new ServerTls(certificates(now));
    }

    /** The certificates these options name, read afresh (at start, and again at a reload). */
    public List<ServerCertificate> certificates(Instant now) throws CertificateProblem {
        if (SELF_SIGNED.equals(mode)) {
            return List.of(SelfSigned.forLocalhost(now));
        }
        char[] password = password();
        List<ServerCertificate> certificates = new ArrayList<>();
        int key = 0;
        for (Path cert : certFiles) {
            certificates.add(isPkcs12(cert)
                    ? CertificateFiles.pkcs12(cert, password == null ? new char[0] : password, now)
                    : CertificateFiles.pem(cert, keyFiles.get(key++), password, now));
        }
        return certificates;
    }

    private char[] password() throws CertificateProblem {
        if (passwordFile == null) {
            return null;
        }
        try {
            return Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").toCharArray();
        } catch (IOException e) {
            throw new CertificateProblem(passwordFile + ": cannot read the key password (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static boolean isPkcs12(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".p12") || name.endsWith(".pfx");
    }
}
