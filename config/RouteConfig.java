package config;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One route as configured: which requests it takes (host, path prefix, method, one header; each optional)
 * and what it does to them on the way to its upstream and back. Immutable.
 *
 * @param host        null: any; "api.example.com" exactly, or "*.example.com" for any name under it; lower case
 * @param pathPrefix  "/" when not given; "/api" takes /api and /api/..., not /apix; "/v1/" takes /v1/...
 * @param method      null: any
 * @param headerName  null: any request; else the request must carry this header
 * @param headerValue null: with any value; else exactly this one
 * @param stripPrefix null: the path goes on unchanged; else this prefix is cut off it
 * @param name        what the access log and metrics call it: the file's name: key, or "route-N" (N from 1, in file order)
 * @param where       where the file says it, for messages ("lb.yaml:14:5"), or "command line"
 */
public record RouteConfig(String name, String host, String pathPrefix, String method, String headerName, String headerValue, String upstream,
                          String stripPrefix, HeaderChanges requestHeaders, HeaderChanges responseHeaders, String where) {
    /** Headers to set (replacing any value) and to remove, in that order: remove first, then set. */
    public record HeaderChanges(Map<String, String> set, List<String> remove) {
        public static final HeaderChanges NONE = new HeaderChanges(Map.of(), List.of());

        public HeaderChanges {
            set = Map.copyOf(set);
            remove = List.copyOf(remove);
        }

        public boolean isEmpty() {
            return set.isEmpty() && remove.isEmpty();
        }
    }

    /** The catch-all route to {@code upstream}: what the command line alone runs. */
    public static RouteConfig catchAll(String upstream) {
        return new RouteConfig("default", null, "/", null, null, null, upstream, null, HeaderChanges.NONE, HeaderChanges.NONE, "command line");
    }

    public boolean isWildcardHost() {
        return host != null && host.startsWith("*.");
    }

    /** What it matches, as --check-config prints it: "host *.example.com path /v1/ method GET". */
    public String describeMatch() {
        StringBuilder text = new StringBuilder();
        text.append("host ").append(host == null ? "*" : host).append(" path ").append(pathPrefix);
        if (method != null) {
            text.append(" method ").append(method);
        }
        if (headerName != null) {
            text.append(" header ").append(headerName).append(headerValue == null ? "" : ": " + headerValue);
        }
        return text.toString();
    }

    /** A host pattern's problem, or null when it is a good one. */
    static String hostProblem(String host) {
        String name = host.startsWith("*.") ? host.substring(2) : host;
        if (name.isEmpty() || name.contains("*") || name.startsWith(".") || name.endsWith(".") || name.contains("..")
                || !name.toLowerCase(Locale.ROOT).matches("[a-z0-9.-]+")) {
            return "'" + host + "' is not a host name or pattern; write it like api.example.com or *.example.com";
        }
        return null;
    }
}
