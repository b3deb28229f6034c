package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import config.ConfigFile;
import config.GatewayConfig;
import config.RouteTable;
import config.UpstreamConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import model.HealthSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ProxyServer;
import proxy.ProxySettings;

/**
 * Host and path routing end to end: raw backends that record every request head they receive behind a
 * proxy started from a YAML configuration, and raw-socket clients that send exactly the Host they mean.
 * Each route's pick is asserted on both sides: what the client got and what reached which backend.
 */
class RouteByHostAndPathTest {
    private final TestSupport support = new TestSupport();
    private final List<ProxyServer> proxies = new ArrayList<>();

    @AfterEach
    void stop() {
        proxies.forEach(ProxyServer::stop);
        support.close();
    }

    /** The configuration {@code yaml} describes, read as --config reads a file (global keys aside). */
    static GatewayConfig config(String yaml) {
        try {
            Path file = Files.createTempFile("routing", ".yaml");
            Files.writeString(file, yaml, StandardCharsets.UTF_8);
            try {
                return ConfigFile.read(file, Set.of("port", "bind")).gateway(new UpstreamConfig(GatewayConfig.DEFAULT_UPSTREAM, List.of(),
                        List.of(), new UpstreamConfig.Picking("round-robin", null, 1.25, null), HealthSettings.DEFAULTS, 0, 20));
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    ProxyServer start(GatewayConfig config) {
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, config, ProxyServer.Setup.NONE);
        proxies.add(proxy);
        return proxy;
    }

    private static String answering(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\nX-Secret: s3cret\r\nCache-Control: max-age=60\r\n\r\n" + body;
    }

    private static String get(ProxyServer proxy, String method, String host, String path, String... headers) throws IOException {
        StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String header : headers) {
            request.append(header).append("\r\n");
        }
        request.append("Content-Length: 0\r\nConnection: close\r\n\r\n");
        return TestSupport.rawExchange(proxy.port(), request.toString());
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static String head(String response) {
        return response.substring(0, response.indexOf("\r\n\r\n") + 2);
    }

    @Test
    void eachRequestGoesToTheMostSpecificRouteAndArrivesChangedAsItSays() throws Exception {
        RawBackend api = support.raw(RawBackend.answer(answering("api")));
        RawBackend v1 = support.raw(RawBackend.answer(answering("v1")));
        RawBackend web = support.raw(RawBackend.answer(answering("web")));
        RawBackend statics = support.raw(RawBackend.answer(answering("static")));
        RawBackend canary = support.raw(RawBackend.answer(answering("canary")));
        RawBackend posts = support.raw(RawBackend.answer(answering("posts")));
        GatewayConfig config = config("""
                upstreams:
                  api: { backend: ["%s"] }
                  v1: { backend: ["%s"] }
                  web: { backend: ["%s"] }
                  static: { backend: ["%s"] }
                  canary: { backend: ["%s"] }
                  posts: { backend: ["%s"] }
                routes:
                  - path: /
                    upstream: web
                  - host: api.example.com
                    upstream: api
                  - host: "*.example.com"
                    path: /v1/
                    strip-prefix: /v1
                    upstream: v1
                    request-headers: { set: { X-Route: v1 }, remove: [Cookie] }
                    response-headers: { set: { Cache-Control: no-store }, remove: [X-Secret] }
                  - path: /static
                    upstream: static
                  - path: /static
                    header: "X-Canary: 1"
                    upstream: canary
                  - path: /static
                    method: POST
                    upstream: posts
                """.formatted(api.url(), v1.url(), web.url(), statics.url(), canary.url(), posts.url()));
        ProxyServer proxy = (start(config));

        // An exact host beats the wildcard and the catch-all, whatever the case and port the client wrote.
        assertEquals("api", body(get(proxy, "GET", "API.Example.com:8080", "/v1/users")));
        assertTrue(api.requestHeads().get(0).startsWith("GET /v1/users HTTP/1.1"), api.requestHeads().get(0));

        // The wildcard covers any name under it, and strips its prefix; its header changes go both ways.
        String response = get(proxy, "GET", "shop.eu.example.com", "/v1/users?page=2", "Cookie: session=1", "X-Route: client");
        assertEquals("v1", body(response));
        String sent = v1.requestHeads().get(0);
        assertTrue(sent.startsWith("GET /users?page=2 HTTP/1.1"), sent);
        assertTrue(sent.contains("X-Route: v1"), sent);
        assertFalse(sent.contains("X-Route: client"), sent);
        assertFalse(sent.toLowerCase().contains("cookie"), sent);
        assertTrue(head(response).contains("Cache-Control: no-store"), response);
        assertFalse(head(response).contains("max-age"), response);
        assertFalse(head(response).contains("X-Secret"), response);

        // Outside the wildcard's path, and for a host no route names, the catch-all; untouched both ways.
        response = get(proxy, "GET", "shop.example.com", "/v2/users", "Cookie: session=1");
        assertEquals("web", body(response));
        assertTrue(head(response).contains("X-Secret: s3cret"), response);
        assertTrue(web.requestHeads().get(0).contains("Cookie: session=1"), web.requestHeads().get(0));
        assertEquals("web", body(get(proxy, "GET", "example.com", "/v1/users"))); // *.example.com is not example.com itself

        // Longer path prefix beats /, by path segment: /staticx is not under /static.
        assertEquals("static", body(get(proxy, "GET", "other.test", "/static/app.js")));
        assertEquals("static", body(get(proxy, "GET", "other.test", "/static")));
        assertEquals("web", body(get(proxy, "GET", "other.test", "/staticx")));
        // Same prefix: a method or a header makes a route more specific than one without, whatever the file order.
        assertEquals("canary", body(get(proxy, "GET", "other.test", "/static/app.js", "X-Canary: 1")));
        assertEquals("static", body(get(proxy, "GET", "other.test", "/static/app.js", "X-Canary: 2")));
        assertEquals("posts", body(get(proxy, "POST", "other.test", "/static/form")));

        assertEquals(1, api.requestHeads().size());
        assertEquals(1, v1.requestHeads().size());
        assertEquals(3, web.requestHeads().size());
        assertEquals(3, statics.requestHeads().size());
        assertEquals(1, canary.requestHeads().size());
        assertEquals(1, posts.requestHeads().size());
    }

    @Test
    void aRequestNoRouteTakesGets404WithAShortBodyAndReachesNoBackend() throws Exception {
        RawBackend api = support.raw(RawBackend.answer(answering("api")));
        ProxyServer proxy = (start(config("""
                upstreams:
                  api: { backend: ["%s"] }
                routes:
                  - host: api.example.com
                    path: /api
                    upstream: api
                """.formatted(api.url()))));
        String response = get(proxy, "GET", "api.example.com", "/other");
        assertTrue(response.startsWith("HTTP/1.1 404 "), response);
        assertEquals("404 Not Found: no route for this host and path\n", body(response));
        assertTrue(head(response).contains("Content-Type: text/plain"), response);
        response = get(proxy, "GET", "www.example.com", "/api");
        assertTrue(response.startsWith("HTTP/1.1 404 "), response);
        assertEquals(0, api.requestHeads().size());
        assertEquals("api", body(get(proxy, "GET", "api.example.com", "/api/x")));
        assertEquals(1, api.requestHeads().size());
    }

    @Test
    void routeTableTiesGoInFileOrderAndALookupNeedsNoRequestViewWithoutHeaderRoutes() {
        GatewayConfig config = config("""
                upstreams:
                  a: { backend: ["http://127.0.0.1:9001"] }
                  b: { backend: ["http://127.0.0.1:9002"] }
                routes:
                  - path: /x
                    upstream: a
                  - path: /x
                    upstream: b
                  - host: "*.b.test"
                    upstream: b
                  - host: "*.a.b.test"
                    upstream: a
                """);
        RouteTable table = new RouteTable(config.routes());
        assertFalse(table.readsHeaders());
        assertEquals(0, table.match("any.test", "/x/y", "GET", null)); // same specificity: the first in the file
        assertEquals(3, table.match("z.a.b.test", "/", "GET", null)); // the longest wildcard first
        assertEquals(2, table.match("z.c.b.test", "/", "GET", null));
        assertEquals(-1, table.match("b.test", "/", "GET", null));
        assertEquals(-1, table.match(null, "/", "GET", null));
    }

    @Test
    void manyRoutesPerHostPickTheSameRouteAsTheRuleSaysWhateverTheirOrder() {
        // Past a handful of routes per host the table finds them by path prefix instead of scanning; this holds
        // it to the rule itself (exact host, longest wildcard, any host; longest prefix, method, header; file
        // order), checked here the slow way over every route, for random tables and requests from a fixed seed.
        java.util.Random random = new java.util.Random(21);
        List<String> hosts = List.of("api.test", "*.test", "*.b.test", "a.b.test");
        List<String> prefixes = List.of("/", "/a", "/a/", "/a/b", "/a/b/", "/ab", "/a/bc", "/c/d/e", "/a/b/c/d/e/f");
        List<String> paths = List.of("/", "/a", "/a/", "/ab", "/a/b", "/a/b/", "/a/bc", "/a/b/c", "/ab/c", "/c/d/e", "/c/d/e/", "/c/d/ef",
                "/a/b/c/d/e/f", "/a/b/c/d/e/f/g", "/x", "");
        List<String> requestHosts = List.of("api.test", "API.TEST:8080", "a.b.test", "x.a.b.test", "z.test", "other.example", "b.test.");
        for (int table = 0; table < 200; table++) {
            List<config.RouteConfig> routes = new ArrayList<>();
            int size = 1 + random.nextInt(30);
            for (int i = 0; i < size; i++) {
                String host = random.nextInt(3) == 0 ? null : hosts.get(random.nextInt(hosts.size()));
                String method = random.nextInt(4) == 0 ? "POST" : null;
                String header = random.nextInt(5) == 0 ? "X-Canary" : null;
                routes.add(new config.RouteConfig("r" + i, host, prefixes.get(random.nextInt(prefixes.size())), method, header, null, "app", null,
                        config.RouteConfig.HeaderChanges.NONE, config.RouteConfig.HeaderChanges.NONE, "test"));
            }
            RouteTable routeTable = new RouteTable(routes);
            for (int request = 0; request < 100; request++) {
                String host = requestHosts.get(random.nextInt(requestHosts.size()));
                String path = paths.get(random.nextInt(paths.size()));
                String method = random.nextBoolean() ? "GET" : "POST";
                model.RequestView view = model.RequestView.of("127.0.0.1", method, path,
                        random.nextBoolean() ? java.util.Map.of("X-Canary", "1") : java.util.Map.of(), java.util.Map.of());
                assertEquals(byTheRule(routes, host, path, method, view), routeTable.match(host, path, method, view),
                        host + " " + method + " " + path + " in " + routes.stream().map(config.RouteConfig::describeMatch).toList());
            }
        }
    }

    /** The route the rule picks, found by ranking every route that takes the request: the reference for RouteTable. */
    private static int byTheRule(List<config.RouteConfig> routes, String host, String path, String method, model.RequestView request) {
        String name = host.replaceFirst(":\\d+$", "").replaceFirst("\\.$", "").toLowerCase(java.util.Locale.ROOT);
        int best = -1;
        long bestRank = Long.MAX_VALUE;
        for (int i = 0; i < routes.size(); i++) {
            config.RouteConfig route = routes.get(i);
            long hostRank;
            if (route.host() == null) {
                hostRank = 1000;
            } else if (route.isWildcardHost()) {
                String parent = route.host().substring(1); // ".b.test"
                hostRank = name.endsWith(parent) ? 500 - parent.length() : -1;
            } else {
                hostRank = route.host().equals(name) ? 0 : -1;
            }
            String prefix = route.pathPrefix();
            boolean under = path.startsWith(prefix) && (prefix.endsWith("/") || path.length() == prefix.length() || path.charAt(prefix.length()) == '/');
            if (hostRank < 0 || !under || (route.method() != null && !route.method().equals(method))
                    || (route.headerName() != null && request.header(route.headerName()) == null)) {
                continue;
            }
            long rank = ((hostRank * 1000 + (999 - prefix.length())) * 2 + (route.method() == null ? 1 : 0)) * 2 + (route.headerName() == null ? 1 : 0);
            rank = rank * 1000 + i;
            if (rank < bestRank) {
                bestRank = rank;
                best = i;
            }
        }
        return best;
    }
}
