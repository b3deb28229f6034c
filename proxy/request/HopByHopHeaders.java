package proxy.request;

import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Removes the headers that describe one connection rather than the message (RFC 9110 section 7.6.1),
 * so they never cross the proxy in either direction: {@code Connection} and every header it names,
 * {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}, {@code Trailer}, {@code HTTP2-Settings}, and
 * {@code Upgrade} unless it is a real protocol switch such as WebSocket. {@code Upgrade: h2c} never
 * passes: HTTP/2 over the backend connection would bypass the proxy. {@code Transfer-Encoding} is
 * left to Undertow, which re-frames bodies on each side itself. Stateless.
 */
public final class HopByHopHeaders {
    private static final HttpString PROXY_CONNECTION = new HttpString("Proxy-Connection");
    private static final HttpString HTTP2_SETTINGS = new HttpString("HTTP2-Settings");
    private static final List<HttpString> ALWAYS = List.of(
            Headers.KEEP_ALIVE, PROXY_CONNECTION, Headers.TE, Headers.TRAILER, HTTP2_SETTINGS);
    /**
     * Fields a peer may list in {@code Connection} that stay all the same: the framing and {@code Upgrade} are
     * Undertow's and ours to manage, {@code Host} routes the request (a request forwarded as HTTP/1.1 without one
     * is invalid, RFC 9112 §3.2), and the forwarding fields are the proxy's record of the client. nginx keeps every
     * end-to-end field a client lists there; we drop the others as RFC 9110 §7.6.1 says.
     */
    private static final Set<String> NEVER_BY_CONNECTION = Set.of("host", "content-length", "transfer-encoding", "upgrade",
            "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-server", "x-real-ip");

    private HopByHopHeaders() {}

    /**
     * Strips a request's hop-by-hop headers. A WebSocket-style upgrade keeps {@code Upgrade} and a bare
     * {@code Connection: upgrade}, which the backend needs to switch protocols.
     */
    public static void stripRequest(HeaderMap headers) {
        String upgrade = headers.getFirst(Headers.UPGRADE);
        boolean keepUpgrade = upgrade != null && !upgrade.regionMatches(true, 0, "h2c", 0, 3)
                && connectionLists(headers, Headers.UPGRADE_STRING);
        strip(headers);
        if (keepUpgrade) {
            headers.put(Headers.CONNECTION, Headers.UPGRADE_STRING);
        } else {
            headers.remove(Headers.UPGRADE);
        }
    }

    /** Strips a response's hop-by-hop headers; a 101 Switching Protocols keeps its Upgrade pair. */
    public static void stripResponse(HeaderMap headers, int status) {
        strip(headers);
        if (status == 101) {
            headers.put(Headers.CONNECTION, Headers.UPGRADE_STRING);
        } else {
            headers.remove(Headers.UPGRADE);
        }
    }

    private static void strip(HeaderMap headers) {
        Collection<String> connection = headers.remove(Headers.CONNECTION);
        if (connection != null) {
            for (String value : connection) {
                for (String token : value.split(",")) {
                    String name = token.trim();
                    if (!name.isEmpty() && !NEVER_BY_CONNECTION.contains(name.toLowerCase(Locale.ROOT))) {
                        headers.remove(name);
                    }
                }
            }
        }
        for (HttpString name : ALWAYS) {
            headers.remove(name);
        }
    }

    /** Whether the Connection header lists {@code token} among its comma-separated options. */
    public static boolean connectionLists(HeaderMap headers, String token) {
        HeaderValues connection = headers.get(Headers.CONNECTION);
        if (connection == null) {
            return false;
        }
        for (String value : connection) {
            for (String part : value.split(",")) {
                if (part.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }
}
