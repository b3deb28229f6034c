package strategies;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;

/**
 * Sticky sessions by cookie, the whole decision in this file: a client's first request goes wherever
 * the base strategy (weighted round robin) sends it, and {@link #pinningCookie} gives the cookie naming that backend,
 * which the proxy adds to the response; later requests carrying the cookie go back there for as long as
 * it is a candidate and not avoided, and fall back to the base strategy when it is not, getting a new
 * cookie (HAProxy's "cookie insert", nginx Plus's "sticky cookie", Caddy's {@code CookieHashSelection}). The cookie is an HMAC-SHA256 of the backend's name
 * under a key drawn at start, so it reveals no address and a client cannot forge one that names a
 * backend of its choosing; a restart draws a new key and clients are pinned afresh. Thread-safe: the
 * lookup table is immutable, built once per pool version; each thread keeps its own Mac.
 */
public final class Sticky implements Strategy {
    public static final String COOKIE = "lb_sticky";

    private final Strategy base;
    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;
    private final PerVersion<Map<String, Backend>> byCookie = new PerVersion<>(this::cookieTable);

    public Sticky(Strategy base) {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.base = base;
        this.key = new SecretKeySpec(secret, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    @Override
    public Backend pick(Candidates candidates, RequestView request) {
        String cookie = request.cookie(COOKIE);
        if (cookie != null) {
            Backend pinned = byCookie.of(candidates).get(cookie);
            if (pinned != null && !candidates.isAvoided(pinned)) {
                return pinned;
            }
        }
        return base.pick(candidates, request);
    }

    @Override
    public boolean pinsClients() {
        return true;
    }

    /**
     * The {@code Set-Cookie} header value that pins this client to {@code chosen}, or null when the
     * request already carries that cookie: HttpOnly, since no script needs it, and SameSite=Lax, so a
     * cross-site subrequest does not carry it.
     */
    @Override
    public String pinningCookie(RequestView request, Backend chosen) {
        String value = cookieValue(chosen);
        return value.equals(request.cookie(COOKIE)) ? null : COOKIE + "=" + value + "; Path=/; HttpOnly; SameSite=Lax";
    }

    /** The cookie value that brings a client back to {@code backend}. */
    public String cookieValue(Backend backend) {
        byte[] mac = macs.get().doFinal(backend.name().getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(mac).substring(0, 22); // 132 bits
    }

    private Map<String, Backend> cookieTable(List<Backend> backends) {
        Map<String, Backend> table = new HashMap<>();
        for (Backend backend : backends) {
            table.put(cookieValue(backend), backend);
        }
        return Map.copyOf(table);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
