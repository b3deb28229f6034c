package proxy.request;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides which forwarding headers a backend receives, like nginx's {@code real_ip}/{@code
 * set_real_ip_from} and HAProxy's {@code option forwardfor}: from a peer in {@code --trust-forwarded}
 * (another proxy in front of us) {@code X-Forwarded-For} is appended to and {@code X-Forwarded-Proto}
 * and {@code -Host} are kept; from anyone else the client's values are dropped and the proxy's own
 * take their place. {@code X-Forwarded-Port} is always the port the client connected to, and with
 * {@code --forwarded} an RFC 7239 {@code Forwarded} header is added too. Undertow's ProxyHandler then
 * fills in what is missing, so it runs with {@code reuseXForwarded} on; on its own it would either
 * trust every client or trust none, and it takes {@code X-Forwarded-Port} from the client's
 * {@code Host} header instead of the connection. Every header leaves here with exactly one value (a
 * trusted proxy's several X-Forwarded-For lines are joined into one, so ProxyHandler appends the peer,
 * after a bare comma, to all of them).
 * Immutable, thread-safe; runs on the IO thread.
 */
public final class ForwardedHeaders {
    /** Trust nobody, add no {@code Forwarded}: the default. */
    public static final ForwardedHeaders REPLACE_ALL = new ForwardedHeaders(List.of(), false);

    private final List<Cidr> trusted;
    private final boolean addForwarded;

    public ForwardedHeaders(List<Cidr> trusted, boolean addForwarded) {
        this.trusted = List.copyOf(trusted);
        this.addForwarded = addForwarded;
    }

    /** Reads "10.0.0.0/8,127.0.0.1,::1/128" (an address alone is a single host). */
    public static List<Cidr> parseCidrs(String text) {
        List<Cidr> cidrs = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                cidrs.add(Cidr.parse(part.trim()));
            }
        }
        if (cidrs.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no network; write it like 10.0.0.0/8,127.0.0.1");
        }
        return cidrs;
    }

    /** Whether {@code peer} is a proxy whose forwarding headers we keep. */
    public boolean isTrusted(InetAddress peer) {
        if (peer == null) {
            return false;
        }
        for (Cidr cidr : trusted) { // a loop, not a stream: this runs for every request
            if (cidr.contains(peer)) {
                return true;
            }
        }
        return false;
    }

    /** Rewrites the request's forwarding headers before ProxyHandler copies them to the backend. */
    public void apply(HttpServerExchange exchange) {
        HeaderMap headers = exchange.getRequestHeaders();
        InetSocketAddress peer = exchange.getSourceAddress();
        boolean trustedPeer = peer != null && isTrusted(peer.getAddress());
        String earlierForwarded = trustedPeer ? joined(headers, Headers.FORWARDED) : null;
        if (trustedPeer) {
            // One line, so ProxyHandler appends the peer to all of them, not only to the first.
            putIfPresent(headers, Headers.X_FORWARDED_FOR, joined(headers, Headers.X_FORWARDED_FOR));
            putIfPresent(headers, Headers.X_FORWARDED_PROTO, headers.getFirst(Headers.X_FORWARDED_PROTO));
            putIfPresent(headers, Headers.X_FORWARDED_HOST, headers.getFirst(Headers.X_FORWARDED_HOST));
        } else {
            headers.remove(Headers.X_FORWARDED_FOR);
            headers.remove(Headers.X_FORWARDED_PROTO);
            headers.remove(Headers.X_FORWARDED_HOST);
        }
        // The Host as the client sent it, port and all (Caddy's and nginx's $http_host); ProxyHandler, finding
        // none, would write the name alone. A trusted peer's value, kept above, stands.
        if (!headers.contains(Headers.X_FORWARDED_HOST) && headers.getFirst(Headers.HOST) != null) {
            headers.put(Headers.X_FORWARDED_HOST, headers.getFirst(Headers.HOST));
        }
        headers.remove(Headers.X_FORWARDED_SERVER);
        InetSocketAddress local = exchange.getConnection().getLocalAddress(InetSocketAddress.class);
        if (local != null) {
            headers.put(Headers.X_FORWARDED_PORT, local.getPort());
        } else {
            headers.remove(Headers.X_FORWARDED_PORT);
        }
        headers.remove(Headers.FORWARDED);
        if (addForwarded) {
            String ours = forwardedElement(peer, exchange.getRequestScheme(), headers.getFirst(Headers.HOST));
            headers.put(Headers.FORWARDED, earlierForwarded == null ? ours : earlierForwarded + ", " + ours);
        } else {
            putIfPresent(headers, Headers.FORWARDED, earlierForwarded);
        }
    }

    /** One RFC 7239 element: {@code for=192.0.2.1;proto=http;host=example.com}, IPv6 and ports quoted (section 6). */
    public static String forwardedElement(InetSocketAddress peer, String scheme, String host) {
        String node;
        if (peer == null || peer.getAddress() == null) {
            node = "unknown";
        } else if (peer.getAddress() instanceof Inet6Address) {
            String address = peer.getAddress().getHostAddress();
            int zone = address.indexOf('%');
            node = "\"[" + (zone >= 0 ? address.substring(0, zone) : address) + "]\"";
        } else {
            node = peer.getAddress().getHostAddress();
        }
        StringBuilder element = new StringBuilder("for=").append(node).append(";proto=").append(scheme);
        if (host != null && !host.isEmpty()) {
            element.append(";host=").append(tokenOrQuoted(host));
        }
        return element.toString();
    }

    /** RFC 7230's token characters go bare; anything else (a port's colon) goes in a quoted-string. */
    private static String tokenOrQuoted(String value) {
        if (value.chars().allMatch(c -> c < 127 && (Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0))) {
            return value;
        }
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String joined(HeaderMap headers, HttpString name) {
        HeaderValues values = headers.get(name);
        return values == null || values.isEmpty() ? null : String.join(", ", values);
    }

    private static void putIfPresent(HeaderMap headers, HttpString name, String value) {
        if (value == null) {
            headers.remove(name);
        } else {
            headers.put(name, value);
        }
    }

    /** One network, {@code 10.0.0.0/8} or {@code ::1/128}. Immutable. */
    public record Cidr(byte[] network, int prefixBits) {
        static Cidr parse(String text) {
            int slash = text.indexOf('/');
            String address = slash < 0 ? text : text.substring(0, slash);
            // Literals only: a name would be looked up in DNS, and trust must not depend on DNS.
            if (!address.matches("[0-9.]+|[0-9a-fA-F:.\\[\\]]+")) {
                throw new IllegalArgumentException("'" + text + "' is not a network; write it like 10.0.0.0/8 or 127.0.0.1");
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(address).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("'" + text + "' is not a network; write it like 10.0.0.0/8 or 127.0.0.1");
            }
            int bits = bytes.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw new IllegalArgumentException("'" + text + "': the prefix length must be 0 to " + bytes.length * 8);
                }
            }
            return new Cidr(bytes, bits);
        }

        boolean contains(InetAddress address) {
            byte[] candidate = address.getAddress();
            if (candidate.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < prefixBits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((candidate[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
