package admin;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.Cookie;
import io.undertow.server.handlers.form.FormData;
import io.undertow.server.handlers.form.FormDataParser;
import io.undertow.server.handlers.form.FormParserFactory;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicReference;
import proxy.OwnAddress;

/**
 * Who may use the admin API, decided in one place before any route runs. Every request needs the
 * admin's own {@code Host} and, if it has one, its own {@code Origin} (no DNS rebinding, no cross-site
 * page); a change (POST, DELETE) also needs {@code X-LB-Admin: 1}, which a cross-site form cannot send.
 * Without a token only loopback clients get in; with one, a client shows it as {@code Authorization:
 * Bearer TOKEN} (scripts) or as the HttpOnly SameSite=Strict cookie that the login form or the one-time
 * login URL sets (browsers). Secrets are compared in constant time. Thread-safe: immutable but for the
 * one-time code, consumed atomically.
 */
final class AdminAccess {
    private static final String COOKIE = "lb_admin";
    private static final String LOGIN = "/login";
    private static final FormParserFactory FORMS = FormParserFactory.builder().build();

    private final OwnAddress own;
    private final byte[] token;
    private final String session;
    private final AtomicReference<String> oneTimeCode;

    /** @param token null: loopback clients only, no login */
    AdminAccess(OwnAddress own, String token) {
        this.own = own;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.session = token == null ? null : randomSecret();
        this.oneTimeCode = new AtomicReference<>(token == null ? null : randomSecret());
    }

    /** The path that logs a browser in once, without typing the token: for the banner. Null without a token. */
    String oneTimeLoginPath() {
        String code = oneTimeCode.get();
        return code == null ? null : LOGIN + "?once=" + code;
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

    private boolean presentsToken(HttpServerExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                && sameSecret(authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8), token)) {
            return true;
        }
        Cookie cookie = exchange.getRequestCookie(COOKIE);
        return cookie != null && sameSecret(cookie.getValue().getBytes(StandardCharsets.UTF_8), session.getBytes(StandardCharsets.UTF_8));
    }

    /** GET /login?once=CODE (the banner's link) or POST /login with the form's token: sets the cookie and goes to the dashboard. */
    private void logIn(HttpServerExchange exchange, boolean isPost) {
        if (!isPost) {
            Deque<String> once = exchange.getQueryParameters().get("once");
            String code = oneTimeCode.get();
            if (once != null && code != null && sameSecret(once.getFirst().getBytes(StandardCharsets.UTF_8), code.getBytes(StandardCharsets.UTF_8))
                    && oneTimeCode.compareAndSet(code, null)) {
                startSession(exchange);
            } else {
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
        if (given != null && !given.isFileItem() && sameSecret(given.getValue().trim().getBytes(StandardCharsets.UTF_8), token)) {
            startSession(exchange);
        } else {
            AdminServer.answer(exchange, 403, "text/html; charset=utf-8", Dashboard.LOGIN_HTML.replace("{{message}}", "Wrong token."));
        }
    }

    private void startSession(HttpServerExchange exchange) {
        exchange.getResponseHeaders().add(Headers.SET_COOKIE, COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict");
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
