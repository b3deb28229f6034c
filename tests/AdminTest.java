package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import admin.AdminServer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import demo.DemoControl;
import demo.DemoServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.Strategies;
import strategies.StrategyOptions;

/** The admin API over a real load balancer: statistics that match the traffic, and changes that take effect. */
class AdminTest {
    private static final Pattern SAMPLE = Pattern.compile("([a-z_]+)(\\{[^}]*\\})? (-?[0-9.]+(?:E-?[0-9]+)?)");
    private final TestSupport support = new TestSupport();
    private AdminServer admin;

    @AfterEach
    void stopEverything() {
        if (admin != null) {
            admin.stop();
        }
        support.close();
    }

    private ProxyServer withAdmin(String... backends) {
        ProxyServer proxy = support.proxy(backends);
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name)
                .orElseThrow(() -> new IllegalArgumentException("unknown strategy '" + name + "'"))
                .create(StrategyOptions.defaults()), "127.0.0.1", 0, null);
        return proxy;
    }

    @Test
    void statsCountWhatTheBackendsReallyServed() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        ProxyServer proxy = withAdmin(a.url(), b.url(), c.url());
        List<CompletedRequest> seen = TestSupport.observe(proxy); // told after the admin's statistics, in order
        for (int i = 0; i < 30; i++) {
            support.get(proxy, "/");
        }
        TestSupport.await(() -> seen.size() == 30, "the last completion is reported just after its response went out");

        JsonObject stats = TestSupport.json(call("GET", "/stats"));
        JsonArray backends = stats.getAsJsonArray("backends");
        assertEquals(3, backends.size());
        for (int i = 0; i < 3; i++) {
            JsonObject backend = backends.get(i).getAsJsonObject();
            long servedThere = new DemoServer[] {a, b, c}[i].requestCount();
            assertEquals(servedThere, backend.get("requests").getAsLong(), backend.toString());
            assertEquals(servedThere, backend.getAsJsonObject("status").get("2xx").getAsLong());
            assertEquals("up", backend.get("state").getAsString());
            assertEquals(1.0 / 3, backend.get("share").getAsDouble(), 0.001);
            assertTrue(backend.getAsJsonObject("latencyMs").get("p99").getAsDouble() > 0);
        }
        assertEquals(1.0, stats.get("fairness").getAsDouble(), 0.001);
        assertEquals("round-robin", stats.get("strategy").getAsString());
    }

    @Test
    void metricsAreValidPrometheusTextWithTheSameCounts() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        ProxyServer proxy = withAdmin(a.url(), b.url());
        List<CompletedRequest> seen = TestSupport.observe(proxy);
        getAndAwaitReports(proxy, seen, 10);

        HttpResponse<String> metrics = call("GET", "/metrics");
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        Map<String, Double> samples = new HashMap<>();
        for (String line : metrics.body().split("\n")) {
            if (line.startsWith("#")) {
                assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE "), line);
                continue;
            }
            if (!line.startsWith("lb_")) {
                continue; // the client library's JVM and process metrics: ObservabilityTest parses them all strictly
            }
            Matcher sample = SAMPLE.matcher(line);
            assertTrue(sample.matches(), "not a Prometheus sample line: " + line);
            samples.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)), Double.parseDouble(sample.group(3)));
        }
        String aName = "127.0.0.1:" + a.port();
        assertEquals((double) a.requestCount(), samples.get("lb_requests_total{address=\"" + aName + "\",backend=\"" + aName + "\",code=\"2xx\",upstream=\"default\"}"));
        assertEquals(1.0, samples.get("lb_backend_up{address=\"" + aName + "\",backend=\"" + aName + "\",upstream=\"default\"}"));
        assertEquals(0.0, samples.get("lb_backend_in_flight{address=\"" + aName + "\",backend=\"" + aName + "\",upstream=\"default\"}"));
    }

    @Test
    void aRemovedBackendsSeriesLeaveTheMetricsAndAReturningOneCountsAgain() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        ProxyServer proxy = withAdmin(a.url(), b.url());
        List<CompletedRequest> seen = TestSupport.observe(proxy);
        getAndAwaitReports(proxy, seen, 10);
        String aSeries = "lb_requests_total{address=\"127.0.0.1:" + a.port() + "\",backend=\"127.0.0.1:" + a.port() + "\",code=\"2xx\",upstream=\"default\"} ";
        String bSeries = "lb_requests_total{address=\"127.0.0.1:" + b.port() + "\",backend=\"127.0.0.1:" + b.port() + "\",code=\"2xx\",upstream=\"default\"} ";
        assertTrue(call("GET", "/metrics").body().contains(bSeries + "5.0"), "b served half");

        assertEquals(200, call("DELETE", "/backend?backend=127.0.0.1:" + b.port()).statusCode());
        getAndAwaitReports(proxy, seen, 4);
        String afterRemoval = call("GET", "/metrics").body();
        assertFalse(afterRemoval.contains(bSeries), "a removed backend's series leave: " + afterRemoval);
        assertTrue(afterRemoval.contains(aSeries + "9.0"), "the one that stays keeps counting: " + afterRemoval);

        // Back in the pool, it is a new backend: its series starts again, and the one that stayed still counts.
        assertEquals(200, call("POST", "/backend?url=" + b.url()).statusCode());
        getAndAwaitReports(proxy, seen, 4);
        String afterReturn = call("GET", "/metrics").body();
        assertTrue(afterReturn.contains(bSeries + "2.0"), afterReturn);
        assertTrue(afterReturn.contains(aSeries + "11.0"), afterReturn);
    }

    @Test
    void strategyAndDrainChangeTakeEffectAndBadChangesAre400() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        ProxyServer proxy = withAdmin(a.url(), b.url());

        assertEquals(200, call("POST", "/strategy?name=first").statusCode());
        for (int i = 0; i < 5; i++) {
            assertEquals("a", TestSupport.json(support.get(proxy, "/")).get("backend").getAsString());
        }
        assertEquals(200, call("POST", "/drain?backend=127.0.0.1:" + a.port()).statusCode());
        for (int i = 0; i < 5; i++) {
            assertEquals("b", TestSupport.json(support.get(proxy, "/")).get("backend").getAsString(), "a is draining");
        }

        HttpResponse<String> unknownStrategy = call("POST", "/strategy?name=fastest");
        assertEquals(400, unknownStrategy.statusCode());
        assertTrue(unknownStrategy.body().contains("unknown strategy 'fastest'"), unknownStrategy.body());
        HttpResponse<String> unknownBackend = call("POST", "/drain?backend=127.0.0.1:1");
        assertEquals(400, unknownBackend.statusCode());
        assertTrue(unknownBackend.body().contains("no backend 127.0.0.1:1"), unknownBackend.body());
        assertEquals(400, call("POST", "/drain").statusCode());
        DemoServer c = support.demo("c");
        assertEquals(200, call("POST", "/backend?url=" + c.url()).statusCode());
        assertEquals(400, call("POST", "/backend?url=" + c.url()).statusCode(), "already in the pool");
        assertEquals(400, call("POST", "/backend?url=127.0.0.1:9").statusCode(), "no scheme");
        assertEquals(200, call("POST", "/strategy?name=weighted-round-robin").statusCode());
        assertEquals(200, call("POST", "/weight?backend=127.0.0.1:" + c.port() + "&weight=3").statusCode());
        assertEquals(400, call("POST", "/weight?backend=127.0.0.1:" + c.port() + "&weight=0").statusCode());
        long cBefore = c.requestCount();
        for (int i = 0; i < 8; i++) {
            support.get(proxy, "/"); // a drains; b weight 1, c weight 3
        }
        assertEquals(6, c.requestCount() - cBefore, "c's new weight 3 against b's 1 gives it 6 of 8");
        assertEquals(200, call("DELETE", "/backend?backend=127.0.0.1:" + b.port()).statusCode());
        assertEquals(200, call("DELETE", "/backend?backend=127.0.0.1:" + c.port()).statusCode());
        assertEquals(400, call("DELETE", "/backend?backend=127.0.0.1:" + a.port()).statusCode(), "not the last backend");
    }

    @Test
    void backendsAreNamedAndAddressedAlikeInEveryCall() throws Exception {
        DemoServer a = support.demo("demo-1"), b = support.demo("demo-2"), c = support.demo("demo-3");
        ProxyServer proxy = withAdmin(a.url(), b.url());
        String aAddress = "127.0.0.1:" + a.port();
        admin.setLabels(Map.of(aAddress, "demo-1", "127.0.0.1:" + b.port(), "demo-2", "127.0.0.1:" + c.port(), "demo-3"));

        HttpResponse<String> drained = call("POST", "/drain?backend=demo-1");
        assertEquals(200, drained.statusCode(), drained.body());
        assertEquals("demo-1", TestSupport.json(drained).get("backend").getAsString());
        assertEquals(aAddress, TestSupport.json(drained).get("address").getAsString());
        long aBefore = a.requestCount();
        for (int i = 0; i < 4; i++) {
            assertEquals("demo-2", TestSupport.json(support.get(proxy, "/")).get("backend").getAsString(), "demo-1 drains, by its name");
        }
        assertEquals(aBefore, a.requestCount());
        assertEquals(200, call("POST", "/drain?backend=" + aAddress + "&off").statusCode(), "the address still works");

        // Adding and removing take the same parameter; ?url= still adds, as older scripts send it.
        assertEquals(200, call("POST", "/backend?backend=" + c.url()).statusCode());
        assertEquals(200, call("POST", "/weight?backend=demo-3&weight=2").statusCode());
        assertEquals(200, call("DELETE", "/backend?backend=demo-3").statusCode());
        assertEquals(200, call("POST", "/backend?url=" + c.url()).statusCode());
        HttpResponse<String> unknown = call("POST", "/drain?backend=demo-9");
        assertEquals(400, unknown.statusCode());
        assertTrue(unknown.body().contains("no backend demo-9; the pool has demo-1 (" + aAddress + ")"), unknown.body());

        JsonArray events = com.google.gson.JsonParser.parseString(call("GET", "/events").body()).getAsJsonArray();
        JsonObject drainEvent = events.get(0).getAsJsonObject();
        assertEquals("drained", drainEvent.get("kind").getAsString());
        assertEquals("demo-1", drainEvent.get("backend").getAsString());
        assertEquals(aAddress, drainEvent.get("address").getAsString());
        assertEquals("backend demo-1 draining", drainEvent.get("text").getAsString());
        String metrics = call("GET", "/metrics").body();
        assertTrue(metrics.contains("lb_backend_up{address=\"" + aAddress + "\",backend=\"demo-1\",upstream=\"default\"} 1"), metrics);
    }

    @Test
    void healEndsTheEjectionItsBreakCaused() throws Exception {
        DemoServer a = support.demo("demo-1"), b = support.demo("demo-2");
        ProxyServer proxy = support.proxy(a.url(), b.url());
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, null, new DemoControl(List.of(a, b)));
        admin.setLabels(Map.of("127.0.0.1:" + a.port(), "demo-1", "127.0.0.1:" + b.port(), "demo-2"));
        assertEquals(200, call("POST", "/break?backend=demo-2").statusCode());
        for (int i = 0; i < 20 && !stateOf("demo-2").equals("ejected"); i++) {
            assertEquals(200, support.get(proxy, "/").statusCode(), "retried on demo-1");
        }
        assertEquals("ejected", stateOf("demo-2"), "three resets in a row eject it");

        HttpResponse<String> healed = call("POST", "/heal?backend=demo-2");
        assertEquals(200, healed.statusCode(), healed.body());
        assertTrue(TestSupport.json(healed).get("readmitted").getAsBoolean(), healed.body());
        assertEquals("up", stateOf("demo-2"), "back at once, not when the ejection's timer ends");
        long bBefore = b.requestCount();
        for (int i = 0; i < 4; i++) {
            assertEquals(200, support.get(proxy, "/").statusCode());
        }
        assertEquals(2, b.requestCount() - bBefore, "round-robin sends it half the requests again");
        assertTrue(call("GET", "/events").body().contains("demo-2 back in rotation after its ejection (healed)"));
    }

    @Test
    void retriesAreCountedOncePerAttemptNotOncePerRequest() throws Exception {
        int deadA = TestSupport.deadPort(), deadB = TestSupport.deadPort();
        DemoServer c = support.demo("c");
        ProxyServer proxy = support.proxy(ProxySettings.FOR_TESTS, "first", Strategies.byName("first").orElseThrow().create(StrategyOptions.defaults()),
                List.of("http://127.0.0.1:" + deadA, "http://127.0.0.1:" + deadB, c.url()));
        admin = AdminServer.start(proxy, "first", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()), "127.0.0.1", 0, null);
        List<CompletedRequest> seen = TestSupport.observe(proxy);
        HttpResponse<String> answer = support.get(proxy, "/");
        assertEquals(200, answer.statusCode());
        assertEquals("c", TestSupport.json(answer).get("backend").getAsString(), "refused by both dead backends, answered by the third");
        TestSupport.await(() -> seen.size() == 1, "the completion is reported");
        assertEquals(2, seen.get(0).retries());

        String metrics = call("GET", "/metrics").body();
        assertTrue(metrics.contains("lb_retries_total{address=\"127.0.0.1:" + deadA + "\",backend=\"127.0.0.1:" + deadA + "\",upstream=\"default\"} 1.0"), metrics);
        assertTrue(metrics.contains("lb_retries_total{address=\"127.0.0.1:" + deadB + "\",backend=\"127.0.0.1:" + deadB + "\",upstream=\"default\"} 1.0"), metrics);
        assertEquals(2, TestSupport.json(call("GET", "/stats")).get("retries").getAsLong(), "one request, two retries");
    }

    @Test
    void recentLatencyAndHistoryKeepTheNewestSecondAndTheRealP99() throws Exception {
        // Three answers in four at once, one after 80 ms: p50 and p99 are far apart, so reporting one for the other shows.
        DemoServer slow = support.demo("slow");
        ProxyServer proxy = withAdmin(slow.url());
        List<CompletedRequest> seen = TestSupport.observe(proxy);
        for (int i = 0; i < 40; i++) {
            slow.setFaults(new DemoServer.Faults(Duration.ofMillis(i % 4 == 3 ? 80 : 0), 0));
            support.get(proxy, "/");
        }
        TestSupport.await(() -> seen.size() == 40, "every completion reported");
        JsonObject[] backend = new JsonObject[1];
        TestSupport.await(() -> {
            backend[0] = TestSupport.json(quietly("/stats")).getAsJsonArray("backends").get(0).getAsJsonObject();
            return !backend[0].getAsJsonObject("recentLatencyMs").get("p99").isJsonNull()
                    && historyRequests(TestSupport.json(quietly("/history"))) == 40;
        }, "the seconds with the requests closed");
        double recentP50 = backend[0].getAsJsonObject("recentLatencyMs").get("p50").getAsDouble();
        double recentP99 = backend[0].getAsJsonObject("recentLatencyMs").get("p99").getAsDouble();
        // Not compared with the since-start p99: on a loaded machine the first requests may be 10 s old already.
        assertTrue(recentP99 >= 80 && recentP50 < recentP99 / 2, "p50 " + recentP50 + " ms, p99 " + recentP99 + " ms");
    }

    @Test
    void eachUpstreamHasItsStatsHistoryAndStrategy() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b"), c = support.demo("c");
        Path file = Files.createTempFile("lb", ".yaml");
        Files.writeString(file, String.join("\n", "upstreams:", "  api:", "    backend: [\"" + a.url() + "\"]", "  web:",
                "    backend: [\"" + b.url() + "\", \"" + c.url() + "\"]", "routes:", "  - path: /api", "    upstream: api",
                "  - path: /", "    upstream: web", ""));
        try (LoadBalancerProcess lb = LoadBalancerProcess.start("--config", file.toString(), "--admin-port", "0")) {
            lb.awaitLine("Admin:", Duration.ofSeconds(10));
            Pattern banner = Pattern.compile("Admin: +http://[^:]+:(\\d+)/");
            int adminPort = lb.lines().stream().map(banner::matcher).filter(Matcher::find).mapToInt(found -> Integer.parseInt(found.group(1)))
                    .findFirst().orElseThrow();
            HttpResponse<String> switched = adminCall(adminPort, "POST", "/strategy?name=first&upstream=web");
            assertEquals(200, switched.statusCode(), switched.body());
            for (int i = 0; i < 4; i++) {
                assertEquals("b", TestSupport.json(support.http.send(HttpRequest.newBuilder(URI.create(lb.url() + "/page")).build(),
                        HttpResponse.BodyHandlers.ofString())).get("backend").getAsString(), "web picks the first of its backends now");
                assertEquals("a", TestSupport.json(support.http.send(HttpRequest.newBuilder(URI.create(lb.url() + "/api/x")).build(),
                        HttpResponse.BodyHandlers.ofString())).get("backend").getAsString());
            }
            JsonObject web = TestSupport.json(adminCall(adminPort, "GET", "/stats?upstream=web"));
            assertEquals("web", web.get("upstream").getAsString());
            assertEquals("first", web.get("strategy").getAsString());
            assertEquals(2, web.getAsJsonArray("backends").size());
            JsonObject api = TestSupport.json(adminCall(adminPort, "GET", "/stats"));
            assertEquals("api", api.get("upstream").getAsString(), "the first upstream without ?upstream=");
            assertEquals("round-robin", api.get("strategy").getAsString(), "the other upstream keeps its strategy");
            assertEquals(1, api.getAsJsonArray("backends").size());

            JsonObject history = TestSupport.json(adminCall(adminPort, "GET", "/history?upstream=web"));
            assertEquals("web", history.get("upstream").getAsString());
            assertEquals(List.of("127.0.0.1:" + b.port(), "127.0.0.1:" + c.port()),
                    history.getAsJsonArray("backends").asList().stream().map(e -> e.getAsJsonObject().get("backend").getAsString()).toList());
            HttpResponse<String> none = adminCall(adminPort, "GET", "/history?upstream=nope");
            assertEquals(400, none.statusCode());
            assertTrue(none.body().contains("no upstream nope; there are api, web"), none.body());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private HttpResponse<String> adminCall(int port, String method, String pathAndQuery) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).header("X-LB-Admin", "1")
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aFullHistoryRingDropsTheOldestSecondNotTheNewest() throws Exception {
        DemoServer a = support.demo("a");
        ProxyServer proxy = withAdmin(a.url());
        for (int i = 0; i < 300; i++) {
            admin.closeSecondNow(); // 300 empty seconds: the ring is full
        }
        List<CompletedRequest> seen = TestSupport.observe(proxy);
        for (int i = 0; i < 3; i++) {
            support.get(proxy, "/");
        }
        TestSupport.await(() -> seen.size() == 3, "every completion reported");
        admin.closeSecondNow();
        JsonObject history = TestSupport.json(call("GET", "/history"));
        assertEquals(300, history.getAsJsonArray("seconds").size(), "five minutes kept");
        assertEquals(3, historyRequests(history), "the second just closed, with the 3 requests, is kept");
    }

    /** The requests /history counted over every kept second; those of the newest closed second included. */
    private static long historyRequests(JsonObject history) {
        long sum = 0;
        for (var value : history.getAsJsonArray("backends").get(0).getAsJsonObject().getAsJsonArray("requests")) {
            sum += value.isJsonNull() ? 0 : value.getAsLong();
        }
        return sum;
    }

    private String stateOf(String label) throws Exception {
        for (var backend : TestSupport.json(call("GET", "/stats")).getAsJsonArray("backends")) {
            if (backend.getAsJsonObject().get("label").getAsString().equals(label)) {
                return backend.getAsJsonObject().get("state").getAsString();
            }
        }
        throw new AssertionError("no backend " + label + " in /stats");
    }

    private HttpResponse<String> quietly(String path) {
        try {
            return call("GET", path);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code count} GETs for / and waits until {@code seen} (TestSupport.observe) has heard of each completion. */
    private void getAndAwaitReports(ProxyServer proxy, List<CompletedRequest> seen, int count) throws Exception {
        int expected = seen.size() + count;
        for (int i = 0; i < count; i++) {
            support.get(proxy, "/");
        }
        TestSupport.await(() -> seen.size() == expected, "every completion reported");
    }

    private HttpResponse<String> call(String method, String pathAndQuery) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
                .header("X-LB-Admin", "1") // what the dashboard sends; AdminSecurityTest covers calls without it
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
