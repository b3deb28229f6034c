package admin;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.Cookie;
import io.undertow.server.handlers.form.FormData;
import io.undertow.server.handlers.form.FormDataParser;
import io.undertow.server.handlers.form.FormParserFactory;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Who may use the admin API, decided in one place before any route runs. Every request needs the
 * admin's own {@code Host} and, if it has one, its own {@code Origin} (no DNS rebinding, no cross-site
 * page); a change (POST, DELETE) also needs {@code X-LB-Admin: 1}, which a cross-site form cannot send.
 * Without a token only loopback clients get in; with one, a client shows it as {@code Authorization:
 * Bearer TOKEN} (scripts) or as the HttpOnly SameSite=Strict cookie that the login form or the one-time
 * login URL (valid for a while after start) sets (browsers): each login its own random session, which
 * expires and which {@code POST /logout} ends. After a few wrong tokens from one address, its next tries
 * wait longer each time (429), as a login page's do. Secrets are compared in constant time. Thread-safe:
 * the one-time code is consumed atomically; sessions and failures are concurrent maps.
 */
final class AdminAccess {
    private static final String COOKIE = "lb_admin";
    private static final String LOGIN = "/login";
    private static final String LOGOUT = "/logout";
    private static final FormParserFactory FORMS = FormParserFactory.builder().build();
    /** The banner's link is for the operator who just started it; a link found later in a log or scrollback is dead. */
    static final Duration LINK_LIFETIME = Duration.ofMinutes(10);
    /** A working day; then the browser logs in again. */
    static final Duration SESSION_LIFETIME = Duration.ofHours(12);
    /** Wrong tokens an address may send at full speed (typos); after that each try waits twice as long as the last, up to a minute. */
    private static final int FREE_FAILURES = 5;
    private static final long MAX_WAIT_MILLIS = 60_000;
    /** An address's failures are forgotten after this long without one. */
    private static final long FORGET_FAILURES_NANOS = TimeUnit.MINUTES.toNanos(15);
    /** More sessions or failing addresses than this, and the expired ones are swept at once, so neither map grows without bound. */
    private static final int SWEEP_AT = 10_000;

    private final OwnAddress own;
    private final byte[] token;
    private final AtomicReference<String> oneTimeCode;
    private final long startedNanos = System.nanoTime();
    private volatile long linkLifetimeNanos = LINK_LIFETIME.toNanos();
    private volatile long sessionLifetimeNanos = SESSION_LIFETIME.toNanos();
    /** Session id to the System.nanoTime() at which it expires. */
    private final Map<String, Long> sessions = new ConcurrentHashMap<>();
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();

    /** An address's wrong tokens in a row, and when the last came. */
    private record Failures(int count, long lastNanos) {
        /** When the next try is allowed: at once for the first few, then 1 s, 2 s, 4 s... after the last, up to a minute. */
        long nextTryNanos() {
            if (count < FREE_FAILURES) {
                return lastNanos;
            }
            long waitMillis = Math.min(MAX_WAIT_MILLIS, 1000L << Math.min(count - FREE_FAILURES, 16));
            return lastNanos + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        }
    }

    /** @param token null: loopback clients only, no login */
    AdminAccess(OwnAddress own, String token) {
        this.own = own;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.oneTimeCode = new AtomicReference<>(token == null ? null : randomSecret());
    }

    /** Shorter lifetimes of the login link (from start) and of each session, so tests need not wait hours. */
    void setLifetimes(Duration link, Duration session) {
        this.linkLifetimeNanos = link.toNanos();
        this.sessionLifetimeNanos = session.toNanos();
    }

    /** The path that logs a browser in once, without typing the token: for the banner. Null without a token, once used, or expired. */
    String oneTimeLoginPath() {
        String code = oneTimeCode.get();
        return code == null || linkExpired() ? null : LOGIN + "?once=" + code;
    }

    private boolean linkExpired() {
        return System.nanoTime() - startedNanos > linkLifetimeNanos;
    }

    /**
     * Lets the request through (true), or answers it (false): 403 for a foreign Host, Origin, peer or a
     * change without the header, 401 without the token; {@code /login} is answered here too.
     */
    boolean admit(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(new HttpString("X-Frame-Options"), "DENY"); // no clickjacking of the buttons
        String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
        String origin = exchange.getRequestHeaders().getFirst(Headers.ORIGIN);
        boolean isChange = !exchange.getRequestMethod().equalToString("GET") && !exchange.getRequestMethod().equalToString("HEAD");
        boolean isLogin = exchange.getRequestPath().equals(LOGIN);
        String refusal = isChange && !isLogin
                ? own.refusalOfChange(host, origin, exchange.getRequestHeaders().getFirst(OwnAddress.CONTROL_HEADER))
                : own.refusalOfRead(host, origin);
        if (refusal == null && isChange && "cross-site".equals(exchange.getRequestHeaders().getFirst("Sec-Fetch-Site"))) {
            refusal = "the browser says this change comes from another site";
        }
        if (refusal == null && token == null && !isLoopbackPeer(exchange)) {
            refusal = "the admin API answers loopback clients only, unless started with --admin-token";
        }
        if (refusal != null) {
            AdminServer.answer(exchange, 403, "text/plain", "403 Forbidden: " + refusal + "\n");
            return false;
        }
        if (token == null) {
            return true;
        }
        if (exchange.getRequestPath().equals(LOGOUT) && isChange) {
            logOut(exchange);
            return false;
        }
        long waitMillis = waitMillis(exchange);
        if (waitMillis > 0 && (isLogin || hasBearer(exchange))) {
            // Refused before the token is even compared: guessing goes no faster than the waits allow.
            exchange.getResponseHeaders().put(Headers.RETRY_AFTER, Long.toString((waitMillis + 999) / 1000));
            AdminServer.answer(exchange, 429, "text/plain", "429 Too Many Requests: too many wrong tokens from this address; try again in "
                    + (waitMillis + 999) / 1000 + " s\n");
            return false;
        }
        if (isLogin) {
            logIn(exchange, isChange);
            return false;
        }
        if (presentsToken(exchange)) {
            return true;
        }
        if (exchange.getRequestPath().equals("/") && !isChange) {
            AdminServer.answer(exchange, 401, "text/html; charset=utf-8", Dashboard.LOGIN_HTML.replace("{{message}}", ""));
        } else {
            exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer");
            AdminServer.answer(exchange, 401, "text/plain",
                    "401 Unauthorized: send 'Authorization: Bearer TOKEN', or log in at http://" + host + "/\n");
        }
        return false;
    }

    private static boolean hasBearer(HttpServerExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
    }

    private boolean presentsToken(HttpServerExchange exchange) {
        if (hasBearer(exchange)) {
            String given = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION).substring(7).trim();
            boolean right = sameSecret(given.getBytes(StandardCharsets.UTF_8), token);
            counted(exchange, right);
            if (right) {
                return true;
            }
        }
        return sessionOf(exchange) != null;
    }

    /** The request's live session id, or null: none, forged, ended or expired (then forgotten). */
    private String sessionOf(HttpServerExchange exchange) {
        Cookie cookie = exchange.getRequestCookie(COOKIE);
        if (cookie == null) {
            return null;
        }
        // A map lookup by a random 192-bit id: no timing tells how close a guess was, as a comparison of prefixes would.
        String id = cookie.getValue();
        Long expires = sessions.get(id);
        if (expires == null) {
            return null;
        }
        if (System.nanoTime() - expires > 0) {
            sessions.remove(id, expires);
            return null;
        }
        return id;
    }

    /** POST /logout: ends this browser's session (others stay) and clears its cookie. */
    private void logOut(HttpServerExchange exchange) {
        String id = sessionOf(exchange);
        if (id != null) {
            sessions.remove(id);
        }
        exchange.getResponseHeaders().add(Headers.SET_COOKIE, COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        exchange.getResponseHeaders().put(Headers.LOCATION, "/");
        AdminServer.answer(exchange, 303, "text/plain", "logged out\n");
    }

    /** How long this address must still wait before its next try with a token, in ms; 0: it may try now. */
    private long waitMillis(HttpServerExchange exchange) {
        InetAddress address = peerAddress(exchange);
        Failures failed = address == null ? null : failures.get(address);
        if (failed == null) {
            return 0;
        }
        long now = System.nanoTime();
        if (now - failed.lastNanos() > FORGET_FAILURES_NANOS) {
            failures.remove(address, failed);
            return 0;
        }
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(failed.nextTryNanos() - now));
    }

    /** Remembers a wrong token from the request's address, or forgets its failures after a right one. */
    private void counted(HttpServerExchange exchange, boolean right) {
        InetAddress address = peerAddress(exchange);
        if (address == null) {
            return;
        }
        if (right) {
            failures.remove(address);
            return;
        }
        long now = System.nanoTime();
        if (failures.size() >= SWEEP_AT) {
            failures.values().removeIf(failed -> now - failed.lastNanos() > FORGET_FAILURES_NANOS);
        }
        failures.merge(address, new Failures(1, now), (old, one) -> new Failures(old.count() + 1, now));
    }

    private static InetAddress peerAddress(HttpServerExchange exchange) {
        InetSocketAddress peer = exchange.getSourceAddress();
        return peer == null ? null : peer.getAddress();
    }

    /** GET /login?once=CODE (the banner's link) or POST /login with the form's token: sets the cookie and goes to the dashboard. */
    private void logIn(HttpServerExchange exchange, boolean isPost) {
        if (!isPost) {
            Deque<String> once = exchange.getQueryParameters().get("once");
            String code = oneTimeCode.get();
            boolean right = once != null && code != null && sameSecret(once.getFirst().getBytes(StandardCharsets.UTF_8), code.getBytes(StandardCharsets.UTF_8));
            if (right && linkExpired()) {
                oneTimeCode.compareAndSet(code, null);
                AdminServer.answer(exchange, 403, "text/html; charset=utf-8",
                        Dashboard.LOGIN_HTML.replace("{{message}}", "That login link has expired; enter the token."));
            } else if (right && oneTimeCode.compareAndSet(code, null)) {
                counted(exchange, true);
                startSession(exchange);
            } else {
                counted(exchange, once != null && code == null); // a used link is no guess; a wrong code is
                AdminServer.answer(exchange, 403, "text/html; charset=utf-8",
                        Dashboard.LOGIN_HTML.replace("{{message}}", "That login link was used already or is wrong; enter the token."));
            }
            return;
        }
        FormDataParser parser = FORMS.createParser(exchange);
        if (parser == null) {
            AdminServer.answer(exchange, 400, "text/plain", "400 Bad Request: log in with a form field token=...\n");
            return;
        }
        exchange.setMaxEntitySize(4096);
        try {
            parser.parse(this::checkLoginForm);
        } catch (Exception e) { // parse() declares Exception; reading a small form fails only with IOException
            AdminServer.answer(exchange, 400, "text/plain", "400 Bad Request: could not read the login form\n");
        }
    }

    private void checkLoginForm(HttpServerExchange exchange) {
        FormData form = exchange.getAttachment(FormDataParser.FORM_DATA);
        FormData.FormValue given = form == null ? null : form.getFirst("token");
        boolean right = given != null && !given.isFileItem() && sameSecret(given.getValue().trim().getBytes(StandardCharsets.UTF_8), token);
        counted(exchange, right);
        if (right) {
            startSession(exchange);
        } else {
            AdminServer.answer(exchange, 403, "text/html; charset=utf-8", Dashboard.LOGIN_HTML.replace("{{message}}", "Wrong token."));
        }
    }

    /** A new random session for this browser alone, with its expiry in the cookie too. */
    private void startSession(HttpServerExchange exchange) {
        long now = System.nanoTime();
        if (sessions.size() >= SWEEP_AT) {
            sessions.values().removeIf(expires -> now - expires > 0);
        }
        String session = randomSecret();
        sessions.put(session, now + sessionLifetimeNanos);
        exchange.getResponseHeaders().add(Headers.SET_COOKIE, COOKIE + "=" + session + "; Path=/; Max-Age="
                + Math.max(1, TimeUnit.NANOSECONDS.toSeconds(sessionLifetimeNanos)) + "; HttpOnly; SameSite=Strict"
                + (exchange.getConnection().getSslSessionInfo() != null ? "; Secure" : "")); // over HTTPS, never sent back in the clear
        exchange.getResponseHeaders().put(Headers.LOCATION, "/");
        AdminServer.answer(exchange, 303, "text/plain", "logged in; the dashboard is at /\n");
    }

    private static boolean isLoopbackPeer(HttpServerExchange exchange) {
        InetSocketAddress peer = exchange.getSourceAddress();
        return peer != null && peer.getAddress() != null && peer.getAddress().isLoopbackAddress();
    }

    /** Constant time: how long it takes says nothing about how much of a guess was right. */
    private static boolean sameSecret(byte[] given, byte[] expected) {
        return MessageDigest.isEqual(given, expected);
    }

    private static String randomSecret() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
