package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import config.GatewayConfig;
import demo.DemoServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import model.Backend;
import model.BackendPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import proxy.ConfigReloader;
import proxy.ProxyServer;
import proxy.ProxySettings;

/**
 * Reloads applied as a difference, with real backends and traffic: nothing fails while twenty reloads
 * add and remove backends and change weights, strategies, health settings and routes; an ejected
 * backend a reload leaves alone stays ejected; a removed backend finishes the request it holds; a bad
 * configuration is refused with its problems and the old one keeps serving.
 */
class ConfigReloadTest {
    private final TestSupport support = new TestSupport();
    private final List<ProxyServer> proxies = new ArrayList<>();
    private final AtomicReference<String> yaml = new AtomicReference<>();

    @AfterEach
    void stop() {
        proxies.forEach(ProxyServer::stop);
        support.close();
    }

    /** A proxy serving {@link #yaml}, and a reloader that reads it again. */
    private ConfigReloader start(String first) {
        yaml.set(first);
        ProxyServer proxy = ProxyServer.start(ProxySettings.FOR_TESTS, RouteByHostAndPathTest.config(first), ProxyServer.Setup.NONE);
        proxies.add(proxy);
        return new ConfigReloader(proxy, () -> RouteByHostAndPathTest.config(yaml.get()), Path.of("lb.yaml"));
    }

    private static ProxyServer server(ConfigReloader reloader) throws Exception {
        var field = ConfigReloader.class.getDeclaredField("server");
        field.setAccessible(true);
        return (ProxyServer) field.get(reloader);
    }

    private static Backend backend(ProxyServer proxy, String upstream, String url) {
        BackendPool pool = proxy.pools().get(upstream);
        return pool.all().stream().filter(backend -> url.endsWith(":" + backend.uri().getPort())).findFirst().orElse(null);
    }

    @Test
    void twentyReloadsUnderLoadFailNoRequest() throws Exception {
        List<DemoServer> demos = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            demos.add(support.demo("d" + i));
        }
        List<String> strategies = List.of("round-robin", "least-connections", "weighted-round-robin", "random", "power-of-two");
        List<String> configs = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            StringBuilder app = new StringBuilder();
            for (int d = 0; d < 4; d++) {
                if (d != i % 4 || i % 5 == 0) { // one of the four left out, in turn; now and then all four
                    app.append(app.length() == 0 ? "" : ", ").append('"').append(demos.get(d).url()).append(",weight=").append(1 + (i + d) % 3).append('"');
                }
            }
            configs.add("""
                    upstreams:
                      app:
                        backend: [%s]
                        strategy: %s
                        max-fails: %d
                      other:
                        backend: ["%s"]
                    routes:
                      - path: /a
                        upstream: app
                      - path: /b
                        upstream: %s
                    %s  - path: /
                        upstream: %s
                    """.formatted(app, strategies.get(i % strategies.size()), 3 + i % 2, demos.get(i % 4).url(),
                    i % 2 == 0 ? "other" : "app",
                    i % 2 == 1 ? "  - path: /c\n    upstream: other\n" : "", // a route that comes and goes
                    i % 3 == 0 ? "app" : "other"));
        }
        ConfigReloader reloader = start(configs.get(0));
        ProxyServer proxy = server(reloader);

        AtomicInteger sent = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            String path = List.of("/a/x", "/b/y", "/c", "/a").get(t);
            Thread client = new Thread(() -> {
                while (System.nanoTime() < until && sent.get() < 200_000) {
                    try {
                        HttpResponse<String> response = support.get(proxy, path);
                        if (response.statusCode() != 200) {
                            failures.add(path + " -> " + response.statusCode() + " " + response.body());
                        }
                    } catch (Exception e) {
                        failures.add(path + " -> " + e);
                    }
                    sent.incrementAndGet();
                }
            }, "reload-client-" + t);
            client.start();
            clients.add(client);
        }
        List<String> refused = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            Thread.sleep(450);
            yaml.set(configs.get(i));
            ConfigReloader.Result result = reloader.reload("test reload " + i);
            if (!result.applied()) {
                refused.addAll(result.lines());
            }
        }
        for (Thread client : clients) {
            client.join(30_000);
        }
        assertEquals(List.of(), refused);
        assertEquals(List.of(), List.copyOf(failures), "every request during the reloads succeeded");
        assertTrue(sent.get() > 200, "traffic flowed: " + sent.get());
        // The last configuration is the one serving, backends and strategy as it says.
        GatewayConfig last = RouteByHostAndPathTest.config(configs.get(20));
        assertEquals(last.upstream("app").backends().size(), proxy.pools().get("app").primaries().size());
        for (int i = 0; i < last.upstream("app").backends().size(); i++) {
            assertEquals(last.upstream("app").backends().get(i).weight(), proxy.pools().get("app").primaries().get(i).weight());
        }
        assertEquals(strategies.get(20 % strategies.size()), proxy.config().upstream("app").picking().strategy());
        assertEquals(last.routes().stream().map(route -> route.describeMatch() + " -> " + route.upstream()).toList(),
                proxy.config().routes().stream().map(route -> route.describeMatch() + " -> " + route.upstream()).toList(), "and its routes");
    }

    @Test
    void anEjectedBackendStaysEjectedThroughReloadsThatLeaveItAlone() throws Exception {
        RawBackend broken = support.raw(RawBackend.RESET);
        DemoServer good = support.demo("good");
        DemoServer web = support.demo("web");
        String flaky = """
                upstreams:
                  flaky:
                    backend: ["%s", "%s"]
                    strategy: %s
                    max-fails: 1
                    fail-timeout: 60s
                  web:
                    backend: ["%s,weight=%d"]
                routes:
                  - path: /flaky
                    upstream: flaky
                  - path: /
                    upstream: web
                """;
        ConfigReloader reloader = start(flaky.formatted(broken.url(), good.url(), "round-robin", web.url(), 1));
        ProxyServer proxy = server(reloader);
        Backend ejected = backend(proxy, "flaky", broken.url());
        for (int i = 0; i < 4 && !ejected.health().isEjected(); i++) {
            assertEquals(200, support.get(proxy, "/flaky").statusCode(), "retried on the good one");
        }
        assertTrue(ejected.health().isEjected(), "one reset ejects it (max-fails: 1)");
        int headsBefore = broken.requestHeads().size();

        // Another upstream's weight and the routes change; then this upstream's strategy: the backend is untouched.
        assertTrue(reloader.reload("weight").applied());
        yaml.set(flaky.formatted(broken.url(), good.url(), "round-robin", web.url(), 5) + "  - path: /more\n    upstream: web\n");
        assertTrue(reloader.reload("weight and a route").applied());
        yaml.set(flaky.formatted(broken.url(), good.url(), "least-connections", web.url(), 5));
        assertTrue(reloader.reload("strategy").applied());

        assertSame(ejected, backend(proxy, "flaky", broken.url()), "the same backend, state and all");
        assertTrue(ejected.health().isEjected(), "still ejected");
        for (int i = 0; i < 10; i++) {
            assertEquals(200, support.get(proxy, "/flaky").statusCode());
        }
        assertEquals(headsBefore, broken.requestHeads().size(), "the ejected backend got no request");
        assertEquals(5, backend(proxy, "web", web.url()).weight());
    }

    @Test
    void aRemovedBackendFinishesTheRequestItHoldsAndGetsNoNewOne() throws Exception {
        DemoServer slow = support.demo("slow", new DemoServer.Faults(Duration.ofMillis(1500), 0));
        DemoServer fast = support.demo("fast");
        String config = """
                upstreams:
                  app:
                    backend: [%s]
                """;
        ConfigReloader reloader = start(config.formatted("\"" + slow.url() + "\""));
        ProxyServer proxy = server(reloader);
        Backend removed = backend(proxy, "app", slow.url());
        CompletableFuture<HttpResponse<String>> inFlight = support.http.sendAsync(TestSupport.request(proxy, "/slow").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        TestSupport.await(() -> removed.inFlight() == 1, "the request reached the slow backend");

        yaml.set(config.formatted("\"" + fast.url() + "\""));
        ConfigReloader.Result result = reloader.reload("remove slow");
        assertTrue(result.applied(), result.lines().toString());
        assertTrue(result.lines().toString().contains("backend 127.0.0.1:" + slow.port() + " removed"), result.lines().toString());
        for (int i = 0; i < 5; i++) {
            assertEquals("fast", support.get(proxy, "/").headers().firstValue("Server").orElse(""));
        }

        HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode());
        assertEquals("slow", finished.headers().firstValue("Server").orElse(""));
        assertEquals(1, slow.requestCount(), "nothing new reached the removed backend");
        TestSupport.await(() -> removed.inFlight() == 0, "the removed backend's count back to 0 as its request completes");
    }

    @Test
    void aBadConfigurationIsRefusedWithItsProblemsAndTheOldOneKeepsServing() throws Exception {
        DemoServer first = support.demo("first");
        DemoServer second = support.demo("second");
        ConfigReloader reloader = start("upstreams:\n  app:\n    backend: [\"" + first.url() + "\"]\n");
        ProxyServer proxy = server(reloader);
        assertEquals("first", support.get(proxy, "/").headers().firstValue("Server").orElse(""));

        yaml.set("upstreams:\n  app:\n    backend: [\"" + second.url() + "\"]\n    strategi: random\nroutes:\n  - path: /\n    upstream: api\n");
        ConfigReloader.Result result = reloader.reload("bad");
        assertFalse(result.applied());
        assertEquals(2, result.lines().size(), result.lines().toString());
        assertTrue(result.lines().get(0).endsWith(":4:5: unknown key 'strategi' in upstream 'app'; did you mean 'strategy'?"), result.lines().toString());
        assertTrue(result.lines().get(1).contains(":7:15: upstream: no upstream is named 'api'"), result.lines().toString());
        for (int i = 0; i < 5; i++) {
            assertEquals("first", support.get(proxy, "/").headers().firstValue("Server").orElse(""), "the old configuration serves");
        }
        assertEquals(0, second.requestCount());
        assertTrue(proxy.events().recent().stream().anyMatch(event -> event.text().contains("refused")), "logged");
    }
}
