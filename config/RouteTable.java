package config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import model.RequestView;

/**
 * Finds the route a request takes, the most specific first: routes for its exact host, then for the
 * longest wildcard ({@code *.example.com}) that covers it, then for any host (nginx picks its server the
 * same way); within those, the longest path prefix, then a method, then a header; ties in file order.
 * Precomputed at build: hosts sit in open-addressed tables hashed case-insensitively over the Host
 * header's own characters, so a lookup allocates nothing and costs one probe per label of the host name,
 * not one per route. Immutable, so thread-safe.
 */
public final class RouteTable {
    private static final int[] NONE = new int[0];

    private final List<RouteConfig> routes;
    private final HostTable exact;
    private final HostTable wildcard;
    private final int[] anyHost;
    private final boolean readsHeaders;

    public RouteTable(List<RouteConfig> routes) {
        this.routes = List.copyOf(routes);
        Map<String, List<Integer>> exactHosts = new LinkedHashMap<>();
        Map<String, List<Integer>> wildcardHosts = new LinkedHashMap<>();
        List<Integer> any = new ArrayList<>();
        for (int i = 0; i < routes.size(); i++) {
            RouteConfig route = routes.get(i);
            if (route.host() == null) {
                any.add(i);
            } else if (route.isWildcardHost()) {
                wildcardHosts.computeIfAbsent(route.host().substring(2), host -> new ArrayList<>()).add(i);
            } else {
                exactHosts.computeIfAbsent(route.host(), host -> new ArrayList<>()).add(i);
            }
        }
        this.exact = new HostTable(exactHosts, this::ordered);
        this.wildcard = new HostTable(wildcardHosts, this::ordered);
        this.anyHost = ordered(any);
        this.readsHeaders = routes.stream().anyMatch(route -> route.headerName() != null);
    }

    /** Whether a route looks at a header besides Host: otherwise {@link #match} needs no request view. */
    public boolean readsHeaders() {
        return readsHeaders;
    }

    public List<RouteConfig> routes() {
        return routes;
    }

    /**
     * The index (in file order) of the route {@code request} takes, or -1 when none does.
     *
     * @param host the Host header as sent (any case, maybe with a port), or null
     */
    public int match(String host, String path, String method, RequestView request) {
        if (host != null) {
            int end = hostEnd(host);
            int found = first(exact.get(host, 0, end), path, method, request);
            if (found >= 0) {
                return found;
            }
            // *.example.com covers a.example.com and a.b.example.com: try each parent name, longest first.
            for (int dot = host.indexOf('.'); dot >= 0 && dot < end; dot = host.indexOf('.', dot + 1)) {
                found = first(wildcard.get(host, dot + 1, end), path, method, request);
                if (found >= 0) {
                    return found;
                }
            }
        }
        return first(anyHost, path, method, request);
    }

    private int first(int[] candidates, String path, String method, RequestView request) {
        for (int index : candidates) {
            RouteConfig route = routes.get(index);
            if (isUnder(path, route.pathPrefix())
                    && (route.method() == null || route.method().equals(method))
                    && (route.headerName() == null || hasHeader(request, route))) {
                return index;
            }
        }
        return -1;
    }

    private static boolean hasHeader(RequestView request, RouteConfig route) {
        String value = request.header(route.headerName());
        return value != null && (route.headerValue() == null || route.headerValue().equals(value));
    }

    /** "/api" covers /api and /api/x but not /apix; a prefix ending in / covers everything under it. */
    static boolean isUnder(String path, String prefix) {
        if (!path.startsWith(prefix)) {
            return false;
        }
        return prefix.endsWith("/") || path.length() == prefix.length() || path.charAt(prefix.length()) == '/';
    }

    /** Where the host name ends in a Host header: before a port, and before a trailing dot. */
    private static int hostEnd(String host) {
        int end = host.length();
        if (host.startsWith("[")) {
            int bracket = host.indexOf(']');
            end = bracket < 0 ? end : bracket + 1;
        } else {
            int colon = host.indexOf(':');
            end = colon < 0 ? end : colon;
        }
        return end > 0 && host.charAt(end - 1) == '.' ? end - 1 : end;
    }

    /** The routes' indexes, most specific first: longer path prefix, then a method, then a header; ties in file order. */
    private int[] ordered(List<Integer> indexes) {
        if (indexes.isEmpty()) {
            return NONE;
        }
        return indexes.stream().sorted(Comparator.<Integer>comparingInt(i -> -routes.get(i).pathPrefix().length())
                        .thenComparingInt(i -> routes.get(i).method() == null ? 1 : 0)
                        .thenComparingInt(i -> routes.get(i).headerName() == null ? 1 : 0)
                        .thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    /** Lower-case host names to route indexes, looked up by a region of a string without copying it. */
    private static final class HostTable {
        private final String[] keys;
        private final int[][] values;
        private final int mask;

        HostTable(Map<String, List<Integer>> hosts, java.util.function.Function<List<Integer>, int[]> order) {
            int capacity = Integer.highestOneBit(Math.max(4, hosts.size() * 4) - 1) << 1;
            this.keys = new String[capacity];
            this.values = new int[capacity][];
            this.mask = capacity - 1;
            hosts.forEach((host, indexes) -> {
                int slot = hash(host, 0, host.length()) & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = host;
                values[slot] = order.apply(indexes);
            });
        }

        int[] get(String text, int start, int end) {
            int length = end - start;
            for (int slot = hash(text, start, end) & mask; keys[slot] != null; slot = (slot + 1) & mask) {
                String key = keys[slot];
                if (key.length() == length && key.regionMatches(true, 0, text, start, length)) {
                    return values[slot];
                }
            }
            return NONE;
        }

        private static int hash(String text, int start, int end) {
            int hash = 0;
            for (int i = start; i < end; i++) {
                char c = text.charAt(i);
                hash = 31 * hash + (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            }
            return hash ^ (hash >>> 16);
        }
    }
}
