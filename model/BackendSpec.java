package model;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;

/**
 * Reads a backend as users write it, on the command line or through the admin API:
 * {@code http://HOST:PORT}, optionally followed by {@code ,weight=N}. Errors say what is wrong and how
 * a good one looks: the port must be 1 to 65535 and the host must resolve (looked up once, here, so a
 * typo fails now rather than as 502s later; this may wait on DNS, so never call it on an IO thread). Stateless.
 */
public final class BackendSpec {
    private BackendSpec() {}

    /** @throws IllegalArgumentException naming the problem and the fix */
    public static Backend parse(String text) {
        String url = text;
        int weight = 1;
        int comma = text.indexOf(',');
        if (comma >= 0) {
            url = text.substring(0, comma);
            String option = text.substring(comma + 1).trim();
            if (!option.startsWith("weight=")) {
                throw new IllegalArgumentException("'" + text + "': after the URL only ,weight=N is understood");
            }
            weight = parseWeight(option.substring("weight=".length()), text);
        }
        return new Backend(parseUri(url.trim()), weight);
    }

    /** A weight as the command line and the admin API take it, or an error naming {@code context} and what a weight is. */
    public static int parseWeight(String value, String context) {
        try {
            int weight = Integer.parseInt(value.trim());
            if (Backend.isValidWeight(weight)) {
                return weight;
            }
        } catch (NumberFormatException e) {
            // the message below says what a weight is
        }
        throw new IllegalArgumentException("'" + context + "': weight must be a whole number from 1 to " + Backend.MAX_WEIGHT);
    }

    private static URI parseUri(String url) {
        if (!url.contains("://")) {
            throw new IllegalArgumentException("'" + url + "' has no scheme; write it like http://" + url);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + url + "' is not a valid URL (" + e.getReason() + "); write it like http://127.0.0.1:9001");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("'" + url + "': the scheme must be http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("'" + url + "' has no valid host; write it like http://127.0.0.1:9001");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'" + url + "': a backend is http://HOST:PORT, without user, query or fragment");
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
            throw new IllegalArgumentException("'" + url + "': a backend is http://HOST:PORT, without a path");
        }
        int port = uri.getPort() == -1 ? (scheme.equals("https") ? 443 : 80) : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + url + "': port " + port + " is not a port; use a number from 1 to 65535");
        }
        try {
            InetAddress.getByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + url + "': the host " + uri.getHost() + " does not resolve to an address");
        }
        return URI.create(scheme + "://" + uri.getRawAuthority().replaceFirst(":\\d+$", "") + ":" + port);
    }
}
