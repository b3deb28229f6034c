package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import admin.AdminServer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import demo.DemoServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.observe.CompletedRequest;
import proxy.ProxyServer;
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
        for (int i = 0; i < 10; i++) {
            support.get(proxy, "/");
        }
        TestSupport.await(() -> seen.size() == 10, "every completion reported");

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
        assertEquals((double) a.requestCount(), samples.get("lb_requests_total{backend=\"" + aName + "\",code=\"2xx\",upstream=\"default\"}"));
        assertEquals(1.0, samples.get("lb_backend_up{backend=\"" + aName + "\",upstream=\"default\"}"));
        assertEquals(0.0, samples.get("lb_backend_in_flight{backend=\"" + aName + "\",upstream=\"default\"}"));
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

    private HttpResponse<String> call(String method, String pathAndQuery) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
                .header("X-LB-Admin", "1") // what the dashboard sends; AdminSecurityTest covers calls without it
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
