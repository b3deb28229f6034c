package tls;

/**
 * A certificate or key that cannot serve: its message is one line naming the file and what is wrong with it,
 * as the command line and a reload print it.
 */
public final class CertificateProblem extends Exception {
    public CertificateProblem(String message) {
        super(message);
    }

    public CertificateProblem(String message, Throwable cause) {
        super(message, cause);
    }
}
