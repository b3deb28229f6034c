package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import admin.AdminServer;
import com.google.gson.JsonObject;
import demo.DemoControl;
import demo.DemoServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import proxy.ProxyServer;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * The admin port and the demo backends' {@code /_control} attacked as a web page in the operator's
 * browser would: a foreign Origin, a foreign Host (DNS rebinding, sent over loopback with a raw
 * socket), a simple cross-site form. Each is refused with 403 and changes nothing; the token works
 * for scripts (Bearer) and browsers (login form, one-time link), and comes from a file or the
 * environment; backend URLs are validated; break and heal touch only our own demo backends.
 */
class AdminSecurityTest {
    private static final String TOKEN = "correct-horse-battery-staple";
    private static final Pattern ADMIN_LINE = Pattern.compile("Admin:\\s+http://127\\.0\\.0\\.1:(\\d+)/");
    private final TestSupport support = new TestSupport();
    private final List<Process> processes = new ArrayList<>();
    private AdminServer admin;

    @TempDir
    Path temp;

    @AfterEach
    void stopEverything() {
        processes.forEach(Process::destroyForcibly);
        if (admin != null) {
            admin.stop();
        }
        support.close();
    }

    private ProxyServer withAdmin(String token, DemoControl demos, String... backends) {
        ProxyServer proxy = support.proxy(backends);
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name)
                .orElseThrow(() -> new IllegalArgumentException("unknown strategy '" + name + "'"))
                .create(StrategyOptions.defaults()), "127.0.0.1", 0, token, demos);
        return proxy;
    }

    @Test
    void foreignOriginForeignHostAndCrossSiteFormsAre403AndChangeNothing() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = withAdmin(null, DemoControl.none(), a.url(), b.url());
        int port = admin.port();
        String own = "127.0.0.1:" + port;

        List<String> attacks = List.of(
                // a page on another site, fetch() with the custom header (a real browser would preflight; we send it anyway)
                "POST /strategy?name=first HTTP/1.1\r\nHost: " + own + "\r\nOrigin: http://evil.example\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n",
                // DNS rebinding: evil.example now resolves to 127.0.0.1, so the browser sends its name as Host
                "POST /strategy?name=first HTTP/1.1\r\nHost: evil.example:" + port + "\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n",
                "GET /stats HTTP/1.1\r\nHost: evil.example:" + port + "\r\n",
                // a simple cross-site form: no custom header possible, the attacker's Origin
                "POST /backend?url=" + URLEncoder.encode(c.url(), StandardCharsets.UTF_8) + " HTTP/1.1\r\nHost: " + own
                        + "\r\nOrigin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n",
                // the same form from a browser that sends no Origin
                "POST /strategy?name=first HTTP/1.1\r\nHost: " + own + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n",
                "DELETE /backend?backend=127.0.0.1:" + b.port() + " HTTP/1.1\r\nHost: " + own + "\r\nContent-Length: 0\r\n",
                // another port on this machine is another origin
                "POST /drain?backend=127.0.0.1:" + a.port() + " HTTP/1.1\r\nHost: " + own + "\r\nOrigin: http://127.0.0.1:" + proxy.port()
                        + "\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n",
                "POST /strategy?name=first HTTP/1.1\r\nHost: " + own + "\r\nOrigin: null\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n",
                "POST /strategy?name=first HTTP/1.1\r\nHost: " + own + "\r\nSec-Fetch-Site: cross-site\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n",
                // HTTP/1.0 needs no Host: none is not ours either (Undertow itself answers 400 to HTTP/1.1 without one)
                "POST /strategy?name=first HTTP/1.0\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\n");
        for (String attack : attacks) {
            String request = attack + "Connection: close\r\n\r\n" + (attack.contains("Content-Length: 3") ? "a=1" : "");
            String response = TestSupport.rawExchange(port, request);
            assertTrue(response.matches("(?s)HTTP/1\\.[01] 403 .*"), attack + "\n=> " + response);
            assertTrue(response.contains("403 Forbidden: "), "a short plain-text reason: " + response);
        }

        JsonObject stats = TestSupport.json(call("GET", "/stats", Map.of()));
        assertEquals("round-robin", stats.get("strategy").getAsString());
        assertEquals(2, stats.getAsJsonArray("backends").size(), "no backend added or removed");
        assertEquals("up", stats.getAsJsonArray("backends").get(0).getAsJsonObject().get("state").getAsString(), "a not drained");
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            served.add(TestSupport.json(support.get(proxy, "/")).get("backend").getAsString());
        }
        assertEquals(List.of("a", "b", "a", "b"), served, "still round-robin over a and b");
        assertEquals(0, c.requestCount(), "the attacker's backend never got traffic");

        // The legitimate calls: the dashboard's, from its own origin, by any of its own names.
        assertEquals(200, call("POST", "/strategy?name=first", Map.of("X-LB-Admin", "1", "Origin", "http://" + own)).statusCode());
        assertTrue(TestSupport.rawExchange(port, "POST /strategy?name=round-robin HTTP/1.1\r\nHost: localhost:" + port
                + "\r\nX-LB-Admin: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200 "));
        assertTrue(TestSupport.rawExchange(port, "GET /stats HTTP/1.1\r\nHost: [::1]:" + port + "\r\nConnection: close\r\n\r\n")
                .startsWith("HTTP/1.1 200 "));
        assertEquals("round-robin", TestSupport.json(call("GET", "/stats", Map.of())).get("strategy").getAsString());
        assertTrue(call("GET", "/", Map.of()).body().contains("'X-LB-Admin': '1'"), "the dashboard sends the header on its changes");
    }

    @Test
    void aTokenWorksAsBearerForScriptsAndAsALoginCookieForBrowsers() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        withAdmin(TOKEN, DemoControl.none(), a.url(), b.url());
        String origin = "http://127.0.0.1:" + admin.port();

        assertEquals(401, call("GET", "/stats", Map.of()).statusCode());
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer wrong")).statusCode());
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN.substring(1))).statusCode());
        assertEquals(200, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN)).statusCode());
        assertEquals(403, call("POST", "/strategy?name=first", Map.of("Authorization", "Bearer " + TOKEN)).statusCode(),
                "the token does not replace the header: a change still needs X-LB-Admin");
        HttpResponse<String> loginPage = call("GET", "/", Map.of());
        assertEquals(401, loginPage.statusCode());
        assertTrue(loginPage.body().contains("<form method=\"post\" action=\"/login\""), loginPage.body());

        HttpResponse<String> wrong = login("token=nope", origin);
        assertEquals(403, wrong.statusCode());
        assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());
        assertEquals(403, login("token=" + TOKEN, "http://evil.example").statusCode(), "a login form on another site");

        HttpResponse<String> right = login("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8), origin);
        assertEquals(303, right.statusCode(), right.body());
        assertEquals("/", right.headers().firstValue("Location").orElse(""));
        String setCookie = right.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie);
        assertFalse(setCookie.contains(TOKEN), "the cookie is a session, not the token itself");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        assertEquals(200, call("GET", "/", Map.of("Cookie", cookie)).statusCode());
        assertTrue(call("GET", "/", Map.of("Cookie", cookie)).body().contains("id=\"strategy\""), "the dashboard itself");
        assertEquals(200, call("POST", "/strategy?name=first", Map.of("Cookie", cookie, "X-LB-Admin", "1", "Origin", origin)).statusCode());
        assertEquals(401, call("GET", "/stats", Map.of("Cookie", "lb_admin=forged")).statusCode());

        String once = admin.oneTimeLoginPath();
        assertNotNull(once);
        HttpResponse<String> first = call("GET", once, Map.of());
        assertEquals(303, first.statusCode());
        String linkCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertEquals(200, call("GET", "/stats", Map.of("Cookie", linkCookie.substring(0, linkCookie.indexOf(';')))).statusCode());
        assertEquals(403, call("GET", once, Map.of()).statusCode(), "the link works once");
        assertEquals(null, admin.oneTimeLoginPath());
    }

    /** Issue 20: neither a prefix of the token nor the token with more after it gets in, by header or by form. */
    @Test
    void onlyTheWholeTokenGetsInNeverAPrefixOrAnExtension() throws Exception {
        DemoServer a = support.demo("a");
        withAdmin(TOKEN, DemoControl.none(), a.url());
        String origin = "http://127.0.0.1:" + admin.port();
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN.substring(0, TOKEN.length() - 1))).statusCode(), "a prefix");
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN.charAt(0))).statusCode(), "its first character");
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN + "x")).statusCode(), "the token and more");
        HttpResponse<String> prefixForm = login("token=" + URLEncoder.encode(TOKEN.substring(0, TOKEN.length() / 2), StandardCharsets.UTF_8), origin);
        assertEquals(403, prefixForm.statusCode());
        assertTrue(prefixForm.headers().firstValue("Set-Cookie").isEmpty(), "no session for half the token");
        assertEquals(200, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN)).statusCode());
    }

    /** Issue 20: every login gets its own random session, which expires, and a logout ends that one only. */
    @Test
    void eachLoginIsItsOwnSessionThatExpiresAndEndsAtLogout() throws Exception {
        DemoServer a = support.demo("a");
        withAdmin(TOKEN, DemoControl.none(), a.url());
        admin.setLoginLifetimes(Duration.ofMinutes(10), Duration.ofSeconds(3));
        String origin = "http://127.0.0.1:" + admin.port();
        HttpResponse<String> first = login("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8), origin);
        HttpResponse<String> second = login("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8), origin);
        long loggedIn = System.nanoTime();
        String setFirst = first.headers().firstValue("Set-Cookie").orElseThrow(), setSecond = second.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setFirst.contains("Max-Age=3;"), "the cookie expires with its session: " + setFirst);
        String cookieA = setFirst.substring(0, setFirst.indexOf(';')), cookieB = setSecond.substring(0, setSecond.indexOf(';'));
        assertNotEquals(cookieA, cookieB, "each login its own session");
        assertEquals(200, call("GET", "/stats", Map.of("Cookie", cookieA)).statusCode());
        assertEquals(200, call("GET", "/stats", Map.of("Cookie", cookieB)).statusCode());

        assertEquals(403, call("POST", "/logout", Map.of("Cookie", cookieA)).statusCode(), "a logout is a change: it needs X-LB-Admin too");
        HttpResponse<String> out = call("POST", "/logout", Map.of("Cookie", cookieA, "X-LB-Admin", "1", "Origin", origin));
        assertEquals(303, out.statusCode(), out.body());
        assertTrue(out.headers().firstValue("Set-Cookie").orElseThrow().contains("Max-Age=0"), "the browser drops the cookie");
        assertEquals(401, call("GET", "/stats", Map.of("Cookie", cookieA)).statusCode(), "the session that logged out is over");
        assertEquals(200, call("GET", "/stats", Map.of("Cookie", cookieB)).statusCode(), "the other browser's is not");

        TestSupport.await(() -> {
            try {
                return call("GET", "/stats", Map.of("Cookie", cookieB)).statusCode() == 401;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, Duration.ofSeconds(10), "the session expires");
        assertTrue(System.nanoTime() - loggedIn >= Duration.ofMillis(2_900).toNanos(), "not before its 3 s lifetime");
    }

    /** Issue 20: the banner's one-time link works only for a while after start. */
    @Test
    void theOneTimeLoginLinkExpires() throws Exception {
        DemoServer a = support.demo("a");
        withAdmin(TOKEN, DemoControl.none(), a.url());
        String once = admin.oneTimeLoginPath();
        admin.setLoginLifetimes(Duration.ofMillis(300), Duration.ofHours(12));
        Thread.sleep(400);
        assertNull(admin.oneTimeLoginPath(), "no expired link to show");
        HttpResponse<String> late = call("GET", once, Map.of());
        assertEquals(403, late.statusCode());
        assertTrue(late.body().contains("expired"), late.body());
        assertTrue(late.headers().firstValue("Set-Cookie").isEmpty(), "no session from an expired link");
    }

    /** Issue 20: after five wrong tokens from one address, its tries wait (429 with Retry-After), the right token too, then work again. */
    @Test
    void repeatedWrongTokensFromOneAddressAreSlowedDown() throws Exception {
        DemoServer a = support.demo("a");
        withAdmin(TOKEN, DemoControl.none(), a.url());
        String origin = "http://127.0.0.1:" + admin.port();
        for (int i = 0; i < 5; i++) {
            assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer wrong-" + i)).statusCode(), "typo " + i + " is answered at once");
        }
        HttpResponse<String> slowed = call("GET", "/stats", Map.of("Authorization", "Bearer wrong-5"));
        long slowedAt = System.nanoTime();
        assertEquals(429, slowed.statusCode(), slowed.body());
        assertEquals("1", slowed.headers().firstValue("Retry-After").orElse(""));
        assertEquals(429, call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN)).statusCode(), "not even the right token is compared while it waits");
        assertEquals(429, login("token=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8), origin).statusCode(), "nor the login form's");

        TestSupport.await(() -> {
            try {
                return call("GET", "/stats", Map.of("Authorization", "Bearer " + TOKEN)).statusCode() == 200;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, Duration.ofSeconds(10), "the right token works after the wait");
        assertTrue(System.nanoTime() - slowedAt >= Duration.ofMillis(700).toNanos(), "not before the wait");
        assertEquals(401, call("GET", "/stats", Map.of("Authorization", "Bearer wrong-again")).statusCode(), "a right token forgets the failures");
    }

    @Test
    void theTokenComesFromAFileOrTheEnvironmentOutOfSightOfPs() throws Exception {
        Path file = temp.resolve("admin-token");
        Files.writeString(file, TOKEN + "\n");
        for (Map<String, String> environment : List.of(Map.<String, String>of(), Map.of("LB_ADMIN_TOKEN", TOKEN))) {
            List<String> args = new ArrayList<>(List.of("--port", "0", "--bind", "127.0.0.1", "--admin-port", "0", "--demo-backends", "1"));
            if (environment.isEmpty()) {
                args.addAll(List.of("--admin-token-file", file.toString()));
            }
            Process process = startLoadBalancer(environment, args);
            int port = awaitAdminPort(process);
            assertFalse(process.info().arguments().map(List::of).orElse(List.of()).stream().anyMatch(arg -> arg.contains(TOKEN)),
                    "the token is not on the command line");
            HttpResponse<String> with = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, with.statusCode(), environment.isEmpty() ? "from the file" : "from the environment");
            HttpResponse<String> without = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, without.statusCode());
            process.destroy();
            assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void backendUrlsNeedARealPortAndAHostThatResolves() throws Exception {
        DemoServer a = support.demo("a");
        withAdmin(null, DemoControl.none(), a.url());
        Map<String, String> refusals = Map.of(
                "http://127.0.0.1:0", "port 0",
                "http://127.0.0.1:99999", "port 99999",
                "http://no-such-host.invalid:9001", "does not resolve");
        for (Map.Entry<String, String> refusal : refusals.entrySet()) {
            HttpResponse<String> response = call("POST", "/backend?url=" + URLEncoder.encode(refusal.getKey(), StandardCharsets.UTF_8),
                    Map.of("X-LB-Admin", "1"));
            assertEquals(400, response.statusCode(), refusal.getKey());
            assertTrue(response.body().startsWith("400 Bad Request: ") && response.body().contains(refusal.getValue()), response.body());
        }
        assertEquals(1, TestSupport.json(call("GET", "/stats", Map.of())).getAsJsonArray("backends").size());
    }

    @Test
    void breakAndHealTouchOnlyTheDemoBackendsThisProcessStarted() throws Exception {
        DemoServer ours = support.demo("ours"), foreign = support.demo("foreign");
        try (ServerSocket elsewhere = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            withAdmin(null, new DemoControl(List.of(ours)), ours.url(), foreign.url(), "http://127.0.0.1:" + elsewhere.getLocalPort());

            for (String backend : List.of("127.0.0.1:" + foreign.port(), "127.0.0.1:" + elsewhere.getLocalPort())) {
                HttpResponse<String> refused = call("POST", "/break?backend=" + backend, Map.of("X-LB-Admin", "1"));
                assertEquals(400, refused.statusCode(), refused.body());
                assertTrue(refused.body().contains("is not a demo backend started by this load balancer"), refused.body());
            }
            assertEquals(DemoServer.Faults.NONE, foreign.faults());
            assertEquals(0, foreign.requestCount(), "nothing was sent to it");
            elsewhere.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, elsewhere::accept, "no connection to an arbitrary host:port");

            assertEquals(200, call("POST", "/break?backend=127.0.0.1:" + ours.port(), Map.of("X-LB-Admin", "1")).statusCode());
            assertEquals(DemoServer.Mode.RESET, ours.faults().mode());
            assertEquals(200, call("POST", "/heal?backend=127.0.0.1:" + ours.port(), Map.of("X-LB-Admin", "1")).statusCode());
            assertEquals(DemoServer.Faults.NONE, ours.faults());
        }
    }

    @Test
    void demoControlRefusesForeignHostsOriginsAndClientsOfTheProxy() throws Exception {
        DemoServer demo = support.demo("demo");
        String own = "127.0.0.1:" + demo.port(), token = DemoServer.TOKEN_HEADER + ": " + DemoServer.controlToken() + "\r\n";
        List<String> attacks = List.of(
                "POST /_control?mode=hang HTTP/1.1\r\nHost: evil.example:" + demo.port() + "\r\n" + token,
                "POST /_control?mode=hang HTTP/1.1\r\nHost: " + own + "\r\nOrigin: http://evil.example\r\n" + token,
                "POST /_control?mode=hang HTTP/1.1\r\nHost: " + own + "\r\nX-LB-Admin: 1\r\n",
                "POST /_control?mode=hang HTTP/1.1\r\nHost: " + own + "\r\n" + DemoServer.TOKEN_HEADER + ": "
                        + DemoServer.controlToken().substring(0, 16) + "\r\n",
                "POST /_control?mode=hang HTTP/1.1\r\nHost: " + own + "\r\nContent-Type: application/x-www-form-urlencoded\r\n");
        for (String attack : attacks) {
            String response = TestSupport.rawExchange(demo.port(), attack + "Content-Length: 0\r\nConnection: close\r\n\r\n");
            assertTrue(response.startsWith("HTTP/1.1 403 "), attack + "\n=> " + response);
            assertFalse(response.contains(String.valueOf(demo.port())), "a refusal names no port: " + response);
        }
        assertEquals(DemoServer.Faults.NONE, demo.faults(), "the faults did not change");

        HttpResponse<String> legitimate = support.http.send(HttpRequest.newBuilder(URI.create(demo.url() + "/_control?delay=250ms"))
                .header(DemoServer.TOKEN_HEADER, DemoServer.controlToken()).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, legitimate.statusCode(), legitimate.body());
        assertEquals(250, demo.faults().delay().toMillis());
    }

    /**
     * Issue 20: a client of the load balancer that names a demo backend's own address in Host, with the
     * old header, and even with the token (as if it had leaked), changes nothing on any of three demos:
     * the proxy never forwards the token header, and no 403 names a port.
     */
    @Test
    void aClientOfTheProxyCannotReachTheDemoControls() throws Exception {
        List<DemoServer> demos = List.of(support.demo("a"), support.demo("b"), support.demo("c"));
        ProxyServer proxy = support.proxy(demos.stream().map(DemoServer::url).toArray(String[]::new));
        for (int i = 0; i < 9; i++) {
            DemoServer target = demos.get(i % 3);
            String response = TestSupport.rawExchange(proxy.port(), "POST /_control?delay=1500ms&mode=hang HTTP/1.1\r\nHost: 127.0.0.1:" + target.port()
                    + "\r\nX-LB-Admin: 1\r\n" + DemoServer.TOKEN_HEADER + ": " + DemoServer.controlToken()
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            assertTrue(response.startsWith("HTTP/1.1 403 "), response);
            for (DemoServer demo : demos) {
                assertFalse(response.contains(String.valueOf(demo.port())), "the 403 names no demo's port: " + response);
            }
        }
        for (DemoServer demo : demos) {
            assertEquals(DemoServer.Faults.NONE, demo.faults(), demo.name() + "'s faults did not change");
        }
    }

    private HttpResponse<String> login(String form, String origin) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Origin", origin)
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> call(String method, String pathAndQuery, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(request::header);
        return support.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Process startLoadBalancer(Map<String, String> environment, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LB_ADMIN_TOKEN");
        builder.environment().putAll(environment);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Reads the banner (stdout and stderr merged) until the admin line; gives up after 30 s. */
    private static int awaitAdminPort(Process process) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            StringBuilder seen = new StringBuilder();
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    Matcher matcher = ADMIN_LINE.matcher(line);
                    if (matcher.find()) {
                        return Integer.parseInt(matcher.group(1));
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("no admin line in:\n" + seen);
        }).get(30, TimeUnit.SECONDS);
    }
}
