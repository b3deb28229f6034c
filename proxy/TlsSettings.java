package proxy;

import tls.BackendTls;
import tls.ServerTls;

/**
 * TLS on each side of the proxy: toward clients (null: the listener speaks plain HTTP) and toward
 * {@code https://} backends (how their certificates are trusted). Immutable.
 */
public record TlsSettings(ServerTls clients, BackendTls backends) {
    /** Plain HTTP to clients; https:// backends checked against the JDK's trust store. */
    public static final TlsSettings NONE = new TlsSettings(null, null);
}
