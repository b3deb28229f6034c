package proxy.request;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import proxy.exchange.ClientFault;

/**
 * Turns an absolute-form request target ({@code GET http://host:port/path HTTP/1.1}) into what the
 * backend gets: the URI's authority as {@code Host}, replacing any Host header the client also sent
 * (RFC 9112 section 3.2.2), and the path in origin form. Undertow's ProxyHandler keeps the client's
 * Host header and cuts the scheme and authority off the path only when a '/' follows them, so
 * {@code GET http://a?x} would reach the backend in absolute form. Refuses schemes other than http(s),
 * userinfo (RFC 9110 section 4.2.4) and an empty authority. Before us, Undertow's
 * {@code HostHeaderHandler} (hard-wired ahead of every root handler) already answers 400 with an empty
 * body when there is no Host header or when the Host header is not a substring of the absolute URI, so
 * what reaches us differs from the authority at most in its port. Stateless.
 */
public final class AbsoluteFormTarget {
    private AbsoluteFormTarget() {}

    /** Rewrites an absolute-form target in place; returns the client's fault, or null when it may go on. */
    public static ClientFault toOriginForm(HttpServerExchange exchange) {
        if (!exchange.isHostIncludedInRequestURI()) {
            return null;
        }
        String uri = exchange.getRequestURI();
        int schemeEnd = uri.indexOf("://");
        if (schemeEnd < 0) {
            return ClientFault.BAD_TARGET;
        }
        String scheme = uri.substring(0, schemeEnd);
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return ClientFault.BAD_TARGET;
        }
        int authorityStart = schemeEnd + 3;
        int pathStart = uri.indexOf('/', authorityStart);
        String authority = pathStart < 0 ? uri.substring(authorityStart) : uri.substring(authorityStart, pathStart);
        if (!isAuthority(authority)) {
            return ClientFault.BAD_TARGET;
        }
        exchange.getRequestHeaders().put(Headers.HOST, authority);
        exchange.setRequestURI(pathStart < 0 ? "/" : uri.substring(pathStart), false);
        return null;
    }

    /** host [":" port] with the characters RFC 3986 allows in a reg-name or IP literal; no userinfo. */
    private static boolean isAuthority(String authority) {
        if (authority.isEmpty() || authority.startsWith(":")) {
            return false;
        }
        for (int i = 0; i < authority.length(); i++) {
            char c = authority.charAt(i);
            boolean allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || "-._~%!$&'()*+,;=:[]".indexOf(c) >= 0;
            if (!allowed) {
                return false; // '@' (userinfo) included
            }
        }
        return true;
    }
}
