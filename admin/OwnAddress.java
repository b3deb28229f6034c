package admin;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The names under which a local control listener (the admin port, a demo backend's {@code /_control})
 * may be addressed, to check a request's {@code Host} and {@code Origin} against: its bind address,
 * localhost, 127.0.0.1 and [::1], always with its own port. A page from another site that the
 * operator's browser opens cannot pass: DNS rebinding makes the browser send the attacker's name as
 * {@code Host}, and a cross-site fetch or form carries the attacker's {@code Origin}. When bound to every
 * interface, any IP literal is accepted too: rebinding needs a name, never a literal. Immutable, thread-safe.
 */
public final class OwnAddress {
    /** The header a state-changing control request must carry: a custom header makes a request non-simple, so a cross-site form or a no-cors fetch cannot send it. */
    public static final String CONTROL_HEADER = "X-LB-Admin";

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final String bind;
    private final boolean everyInterface;
    private final int port;

    /** @param bind the address the listener is bound to, as given ("127.0.0.1", "0.0.0.0", "::1") */
    public OwnAddress(String bind, int port) {
        String b = bind.trim().toLowerCase(Locale.ROOT);
        this.everyInterface = b.equals("0.0.0.0") || b.equals("::") || b.equals("[::]");
        this.bind = b.contains(":") && !b.startsWith("[") ? "[" + b + "]" : b;
        this.port = port;
    }

    public int port() {
        return port;
    }

    /** Whether a {@code Host} header value ("127.0.0.1:9090", "[::1]:9090", "localhost:9090") names this listener. */
    public boolean isOwnHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        String name = h;
        int hostPort = 80;
        if (colon > h.lastIndexOf(']')) {
            name = h.substring(0, colon);
            try {
                hostPort = Integer.parseInt(h.substring(colon + 1));
            } catch (NumberFormatException e) {
                return false;
            }
        }
        if (hostPort != port) {
            return false;
        }
        return name.equals("localhost") || name.equals("127.0.0.1") || name.equals("[::1]") || name.equals(bind)
                || (everyInterface && (IPV4.matcher(name).matches() || (name.startsWith("[") && name.endsWith("]"))));
    }

    /**
     * Whether an {@code Origin} header value is this listener's own origin ({@code http://} or {@code https://} one of
     * its own hosts): a port speaks one of the two, so either scheme with our host and port is a page we served.
     */
    public boolean isOwnOrigin(String origin) {
        if (origin == null) {
            return false;
        }
        String scheme = origin.startsWith("https://") ? "https://" : "http://";
        return origin.startsWith(scheme) && isOwnHost(origin.substring(scheme.length()));
    }

    /**
     * Why a state-changing request (POST, DELETE...) must be refused, or null when it may proceed: its
     * {@code Host} must be ours, any {@code Origin} ours, and it must carry {@code X-LB-Admin: 1}.
     */
    public String refusalOfChange(String host, String origin, String controlHeader) {
        String refusal = refusalOfRead(host, origin);
        if (refusal == null && !"1".equals(controlHeader == null ? null : controlHeader.trim())) {
            refusal = "a change needs the header '" + CONTROL_HEADER + ": 1' (a web page on another site cannot send it)";
        }
        return refusal;
    }

    /** Why any request must be refused, or null: its {@code Host} must be ours and any {@code Origin} ours. */
    public String refusalOfRead(String host, String origin) {
        if (!isOwnHost(host)) {
            return "Host '" + host + "' is not this port's own address; use http://127.0.0.1:" + port + "/ (this stops DNS rebinding)";
        }
        if (origin != null && !isOwnOrigin(origin)) {
            return "requests from the page at '" + origin + "' are not accepted here, only from http://127.0.0.1:" + port;
        }
        return null;
    }
}
