package proxy.listen;

import tls.BackendTls;
import tls.ServerTls;

/**
 * What the proxy speaks on each side beyond plain HTTP/1.1: TLS toward clients (null: the listener speaks plain
 * HTTP), HTTP/2 offered to TLS clients by ALPN, cleartext HTTP/2 (h2c) on a plain listener, and how
 * {@code https://} backends are trusted (null: the JDK's trust store, host names checked). Immutable.
 *
 * @param clientTls  the listener's certificates, or null
 * @param http2      offer h2 by ALPN to TLS clients (HTTP/1.1 stays the fallback)
 * @param h2c        take cleartext HTTP/2 by prior knowledge on a plain listener
 * @param backendTls trust for https:// backends, or null
 */
public record ProtocolSettings(ServerTls clientTls, boolean http2, boolean h2c, BackendTls backendTls) {
    /** Plain HTTP/1.1 to clients; https:// backends checked against the JDK's trust store. */
    public static final ProtocolSettings NONE = new ProtocolSettings(null, true, false, null);

    /** TLS to clients with h2 offered, nothing else changed. */
    public static ProtocolSettings tls(ServerTls clientTls) {
        return new ProtocolSettings(clientTls, true, false, null);
    }
}
