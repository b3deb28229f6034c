package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import admin.AdminServer;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import demo.DemoServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import model.HealthChecks;
import model.PassiveEjection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import model.HealthSettings;
import proxy.ProxyServer;
import proxy.ProxySettings;
import strategies.RoundRobin;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * The admin API's timeline and drain on a running proxy: {@code GET /events} lists what happened (an
 * ejection, a drain, its undoing) in order, and {@code POST /drain?...&off} puts a drained backend back
 * into rotation. State-changing calls carry {@code X-LB-Admin: 1}, as the dashboard's do.
 */
class EventsAndDrainTest {
    private final TestSupport support = new TestSupport();
    private AdminServer admin;

    @AfterEach
    void stopEverything() {
        if (admin != null) {
            admin.stop();
        }
        support.close();
    }

    private HttpResponse<String> call(String method, String pathAndQuery) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        if (!method.equals("GET")) {
            request.header("X-LB-Admin", "1");
        }
        return support.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<String> events() throws Exception {
        HttpResponse<String> response = call("GET", "/events");
        assertEquals(200, response.statusCode());
        JsonArray events = JsonParser.parseString(response.body()).getAsJsonArray();
        return events.asList().stream().map(JsonElement::getAsJsonObject).map(event -> event.get("text").getAsString()).toList();
    }

    private String backendOf(ProxyServer proxy) throws Exception {
        return TestSupport.json(support.get(proxy, "/")).get("backend").getAsString();
    }

    @Test
    void drainAndOffTakeABackendOutAndPutItBackAndEventsTellTheStory() throws Exception {
        DemoServer a = support.demo("a"), b = support.demo("b");
        String dead = "http://127.0.0.1:" + TestSupport.deadPort();
        HealthSettings ejectAtOnce = new HealthSettings(new HealthChecks(null, Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 2),
                new PassiveEjection(1, Duration.ofSeconds(30), 50), Duration.ZERO, false);
        ProxyServer proxy = support.proxy(new ProxySettings(ProxySettings.Listener.FOR_TESTS,
                ProxySettings.Timeouts.DEFAULTS, ProxySettings.Limits.DEFAULTS, ProxySettings.Backends.DEFAULTS, ejectAtOnce), new RoundRobin(), List.of(a.url(), b.url(), dead));
        admin = AdminServer.start(proxy, "round-robin", name -> Strategies.byName(name).orElseThrow().create(StrategyOptions.defaults()),
                "127.0.0.1", 0, null);
        for (int i = 0; i < 3; i++) {
            support.get(proxy, "/"); // the third goes to the dead backend first: refused, ejected, answered by a
        }
        String bName = "127.0.0.1:" + b.port();

        assertEquals(200, call("POST", "/drain?backend=" + bName).statusCode());
        for (int i = 0; i < 4; i++) {
            assertEquals("a", backendOf(proxy), "b is drained");
        }
        assertEquals(200, call("POST", "/drain?backend=" + bName + "&off").statusCode());
        List<String> served = List.of(backendOf(proxy), backendOf(proxy), backendOf(proxy), backendOf(proxy));
        assertEquals(2, served.stream().filter("b"::equals).count(), "drain off puts b back into rotation: " + served);

        List<String> events = events();
        assertEquals(3, events.size(), events.toString());
        assertTrue(events.get(0).startsWith("backend " + dead.substring(7) + " ejected for 30 s"), events.get(0));
        assertEquals("backend " + bName + " draining", events.get(1));
        assertEquals("backend " + bName + " back in rotation after draining", events.get(2));
    }
}
