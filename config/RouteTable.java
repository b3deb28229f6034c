package config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import model.RequestView;

/**
 * Finds the route a request takes, the most specific first: routes for its exact host, then for the
 * longest wildcard ({@code *.example.com}) that covers it, then for any host (nginx picks its server the
 * same way); within those, the longest path prefix, then a method, then a header; ties in file order.
 * Precomputed at build: hosts sit in open-addressed tables hashed case-insensitively over the Host
 * header's own characters, and each host's routes, past a handful, in a table by path prefix probed once
 * for each prefix of the path that ends at a segment; so a lookup allocates nothing and costs a probe per
 * label of the host name and per segment of the path, not one per route. Immutable, so thread-safe.
 */
public final class RouteTable {
    private static final int[] NONE = new int[0];
    /** Up to this many routes for one host are scanned in turn: cheaper than probing a table per path segment. */
    private static final int SCANNED_UP_TO = 4;

    private final RouteConfig[] routes;
    private final HostTable exact;
    private final HostTable wildcard;
    private final PathIndex anyHost;
    private final boolean byExactHost;    // some route names an exact host: otherwise the Host header is not hashed
    private final boolean byWildcardHost; // some route names a *.host
    private final boolean readsHeaders;

    public RouteTable(List<RouteConfig> routes) {
        this.routes = routes.toArray(RouteConfig[]::new);
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
        this.exact = new HostTable(exactHosts, this::index);
        this.wildcard = new HostTable(wildcardHosts, this::index);
        this.anyHost = index(any);
        this.byExactHost = !exactHosts.isEmpty();
        this.byWildcardHost = !wildcardHosts.isEmpty();
        this.readsHeaders = routes.stream().anyMatch(route -> route.headerName() != null);
    }

    /** Whether a route looks at a header besides Host: otherwise {@link #match} needs no request view. */
    public boolean readsHeaders() {
        return readsHeaders;
    }

    public List<RouteConfig> routes() {
        return List.of(routes);
    }

    /**
     * The index (in file order) of the route {@code request} takes, or -1 when none does.
     *
     * @param host the Host header as sent (any case, maybe with a port), or null
     */
    public int match(String host, String path, String method, RequestView request) {
        if (host != null && (byExactHost || byWildcardHost)) {
            int end = hostEnd(host);
            PathIndex forHost = byExactHost ? exact.get(host, 0, end) : null;
            int found = forHost == null ? -1 : forHost.first(path, method, request);
            if (found >= 0) {
                return found;
            }
            // *.example.com covers a.example.com and a.b.example.com: try each parent name, longest first.
            for (int dot = byWildcardHost ? host.indexOf('.') : -1; dot >= 0 && dot < end; dot = host.indexOf('.', dot + 1)) {
                forHost = wildcard.get(host, dot + 1, end);
                found = forHost == null ? -1 : forHost.first(path, method, request);
                if (found >= 0) {
                    return found;
                }
            }
        }
        return anyHost.first(path, method, request);
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

    /** One host's routes (given by index in file order), ready to be matched by path. */
    private PathIndex index(List<Integer> indexes) {
        int[] ordered = ordered(indexes);
        if (ordered.length <= SCANNED_UP_TO) {
            return new PathIndex(routes, ordered, null);
        }
        Map<String, List<Integer>> byPrefix = new LinkedHashMap<>();
        for (int index : ordered) {
            byPrefix.computeIfAbsent(routes[index].pathPrefix(), prefix -> new ArrayList<>()).add(index);
        }
        return new PathIndex(routes, NONE, new PrefixTable(byPrefix, this::ordered));
    }

    /** The routes' indexes, most specific first: longer path prefix, then a method, then a header; ties in file order. */
    private int[] ordered(List<Integer> indexes) {
        if (indexes.isEmpty()) {
            return NONE;
        }
        return indexes.stream().sorted(Comparator.<Integer>comparingInt(i -> -routes[i].pathPrefix().length())
                        .thenComparingInt(i -> routes[i].method() == null ? 1 : 0)
                        .thenComparingInt(i -> routes[i].headerName() == null ? 1 : 0)
                        .thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    /**
     * One host's routes: a few scanned most specific first, or more found by path prefix. A path's prefixes
     * that a route can cover are the whole path and, at each '/', the part before it ("/api" covers
     * /api/x) and the part up to it ("/api/"): each is probed shortest first, and a longer one that
     * matches overrides, so the longest prefix wins as in the scan.
     */
    private record PathIndex(RouteConfig[] routes, int[] scanned, PrefixTable byPrefix) {
        int first(String path, String method, RequestView request) {
            if (byPrefix == null) {
                for (int index : scanned) {
                    if (isUnder(path, routes[index].pathPrefix()) && takes(routes[index], method, request)) {
                        return index;
                    }
                }
                return -1;
            }
            int best = -1;
            int hash = 0;
            // A prefix ends before or just after a '/' at i: past the longest prefix (and the '/' just after it) none can.
            int length = Math.min(path.length(), byPrefix.longest + 1);
            for (int i = 0; i < length; i++) {
                char c = path.charAt(i);
                if (c == '/' && i > 0) {
                    best = firstOr(byPrefix.get(path, i, hash), method, request, best);
                }
                hash = 31 * hash + c;
                if (c == '/') {
                    best = firstOr(byPrefix.get(path, i + 1, hash), method, request, best);
                }
            }
            if (length == path.length() && length > 0 && path.charAt(length - 1) != '/') {
                best = firstOr(byPrefix.get(path, length, hash), method, request, best);
            }
            return best;
        }

        /** The first of {@code candidates} (all covering the path) that takes the request, else {@code otherwise}. */
        private int firstOr(int[] candidates, String method, RequestView request, int otherwise) {
            for (int index : candidates) {
                if (takes(routes[index], method, request)) {
                    return index;
                }
            }
            return otherwise;
        }

        private static boolean takes(RouteConfig route, String method, RequestView request) {
            return (route.method() == null || route.method().equals(method)) && (route.headerName() == null || hasHeader(request, route));
        }

        private static boolean hasHeader(RequestView request, RouteConfig route) {
            String value = request.header(route.headerName());
            return value != null && (route.headerValue() == null || route.headerValue().equals(value));
        }
    }

    /** Path prefixes to route indexes, looked up by the start of a path with its hash already summed, without copying it. */
    private static final class PrefixTable {
        private final String[] keys;
        private final int[][] values;
        private final int mask;
        /** The longest prefix's length: no probe past it can find one. */
        final int longest;

        PrefixTable(Map<String, List<Integer>> prefixes, Function<List<Integer>, int[]> order) {
            int capacity = Integer.highestOneBit(Math.max(4, prefixes.size() * 4) - 1) << 1;
            this.keys = new String[capacity];
            this.values = new int[capacity][];
            this.mask = capacity - 1;
            this.longest = prefixes.keySet().stream().mapToInt(String::length).max().orElse(0);
            prefixes.forEach((prefix, indexes) -> {
                int slot = spread(prefix.hashCode()) & mask; // String.hashCode is the 31 * h + c that the lookup sums
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = prefix;
                values[slot] = order.apply(indexes);
            });
        }

        /** The routes whose prefix is {@code path}'s first {@code length} characters, whose 31 * h + c hash is {@code hash}. */
        int[] get(String path, int length, int hash) {
            for (int slot = spread(hash) & mask; keys[slot] != null; slot = (slot + 1) & mask) {
                String key = keys[slot];
                if (key.length() == length && path.startsWith(key)) {
                    return values[slot];
                }
            }
            return NONE;
        }

        private static int spread(int hash) {
            return hash ^ (hash >>> 16);
        }
    }

    /** Lower-case host names to their routes, looked up by a region of a string without copying it. */
    private static final class HostTable {
        private final String[] keys;
        private final PathIndex[] values;
        private final int mask;

        HostTable(Map<String, List<Integer>> hosts, Function<List<Integer>, PathIndex> index) {
            int capacity = Integer.highestOneBit(Math.max(4, hosts.size() * 4) - 1) << 1;
            this.keys = new String[capacity];
            this.values = new PathIndex[capacity];
            this.mask = capacity - 1;
            hosts.forEach((host, indexes) -> {
                int slot = hash(host, 0, host.length()) & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = host;
                values[slot] = index.apply(indexes);
            });
        }

        /** The routes for the host name {@code text[start, end)}, or null when none names it. */
        PathIndex get(String text, int start, int end) {
            int length = end - start;
            for (int slot = hash(text, start, end) & mask; keys[slot] != null; slot = (slot + 1) & mask) {
                String key = keys[slot];
                if (key.length() == length && key.regionMatches(true, 0, text, start, length)) {
                    return values[slot];
                }
            }
            return null;
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
