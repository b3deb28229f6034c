package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.DemoServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The configuration file as a user runs it, in a real process: each kind of mistake is one line naming
 * the file, line and column, with exit 2 (as nginx -t); --check-config prints what would run; a running
 * load balancer reloads on SIGHUP, on POST /reload and with --watch-config, and refuses a bad file while
 * the old one keeps serving; flags beside the file override its keys.
 */
class ConfigFileTest {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("Admin: +http://[^:]+:(\\d+)/");
    private final TestSupport support = new TestSupport();
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    @AfterEach
    void stopEverything() throws IOException {
        processes.forEach(Process::destroyForcibly);
        support.close();
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
    }

    private Path file(String yaml) throws IOException {
        Path file = Files.createTempFile("lb", ".yaml");
        files.add(file);
        Files.writeString(file, yaml.replace("|", "\n"), StandardCharsets.UTF_8);
        return file;
    }

    /** The finished run: exit code, standard output and standard error. */
    private record Run(int exit, String out, String err) {}

    private Run run(String... args) throws Exception {
        Process process = process(args);
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private Process process(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m", "-cp", System.getProperty("java.class.path"), "loadbalancer.LoadBalancer"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        processes.add(process);
        return process;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '`', value = {
            "unknown key;       port: 0|helth-path: /health|backend: http://127.0.0.1:9001;     2:1: unknown key 'helth-path' in the file; did you mean 'health-path'?",
            "unknown nested key; upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|    stratgy: random;  4:5: unknown key 'stratgy' in upstream 'api'; did you mean 'strategy'?",
            "wrong type;        upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|    rise: [1, 2];    4:11: rise: expected a single value, got a list",
            "wrong global type;  port: [80, 81]|backend: http://127.0.0.1:9001;                    1:7: port: expected a single value, got a list",
            "bare duration;     upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|    health-interval: 5; 4:22: health-interval: '5' has no unit; write it like 250ms, 30s, 1.5s, 1m30s or 1h",
            "bare global duration; timeout: 30|backend: http://127.0.0.1:9001;                   1:10: timeout: Invalid value for option '--timeout': '30' has no unit",
            "duplicate upstream; upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|  api:|    backend: [\"http://127.0.0.1:9002\"]; 4:3: duplicate upstream 'api' in upstreams: (first at line 2)",
            "missing upstream;  upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|routes:|  - path: /|    upstream: apu; 6:15: upstream: no upstream is named 'apu'; the upstreams are api",
            "empty upstream;    upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|  web: {}|routes:|  - path: /|    upstream: api; 4:3: upstream 'web' has no backend",
            "bad host pattern;  upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|routes:|  - host: \"api.*.com\"|    upstream: api; 5:11: host: 'api.*.com' is not a host name or pattern",
            "no demo in a file;  demo-backends: 2|backend: http://127.0.0.1:9001;               1:1: unknown key 'demo-backends' in the file",
            "no is a string;    upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|    panic: no; 4:12: panic: 'no' is not true or false"})
    void eachMistakeIsOneLineWithFileLineAndColumnAndExit2(String name, String yaml, String expected) throws Exception {
        Path file = file(yaml.trim());
        Run run = run("--config", file.toString(), "--check-config");
        assertEquals(2, run.exit(), run.err());
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), "one line per problem:\n" + run.err());
        assertTrue(lines.get(0).startsWith("error: " + file + ":" + expected.trim()), lines.get(0));
        assertFalse(run.err().contains("Exception"), run.err());
    }

    /** Each of docs/coming-from.md's YAML files is good as it stands: --check-config exits 0 and routes to every upstream it names. */
    @Test
    void everyConfigOnTheComingFromPageChecksGood() throws Exception {
        String page = Files.readString(Path.of("docs", "coming-from.md"), StandardCharsets.UTF_8);
        java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("```yaml\n(.*?)```", java.util.regex.Pattern.DOTALL).matcher(page);
        int checked = 0;
        while (blocks.find()) {
            String yaml = blocks.group(1);
            Path file = file("");
            Files.writeString(file, yaml, StandardCharsets.UTF_8); // as written: file() would read '|' as a line break
            Run run = run("--config", file.toString(), "--check-config");
            assertEquals(0, run.exit(), yaml + "\n" + run.err());
            assertTrue(run.out().contains(" is good"), run.out());
            java.util.regex.Matcher upstreams = java.util.regex.Pattern.compile("(?m)^  ([a-z]+):$").matcher(yaml);
            while (upstreams.find()) {
                assertTrue(run.out().contains(upstreams.group(1)), "upstream " + upstreams.group(1) + " in what would run:\n" + run.out());
            }
            checked++;
        }
        assertEquals(3, checked, "one config each for nginx, HAProxy and Caddy");
    }

    @Test
    void checkConfigPrintsWhatWouldRunOrEveryProblem() throws Exception {
        Path good = file("""
                port: 8080
                bind: 127.0.0.1
                upstreams:
                  api:
                    backend: ["http://127.0.0.1:9001", "http://127.0.0.1:9002,weight=3"]
                    strategy: least-connections
                  web:
                    backend: ["http://127.0.0.1:9003"]
                routes:
                  - host: "*.example.com"
                    path: /v1/
                    strip-prefix: /v1
                    upstream: api
                  - path: /
                    upstream: web
                """);
        Run run = run("--config", good.toString(), "--check-config");
        assertEquals(0, run.exit(), run.err());
        assertEquals(List.of("configuration " + good + " is good", "listen 127.0.0.1:8080",
                "route host *.example.com path /v1/ -> upstream api (strip /v1)", "route host * path / -> upstream web",
                "upstream api (least-connections)", "  backend http://127.0.0.1:9001", "  backend http://127.0.0.1:9002,weight=3",
                "upstream web (round-robin)", "  backend http://127.0.0.1:9003"), run.out().lines().toList());
        // A flag beside the file wins over its key.
        assertTrue(run("--config", good.toString(), "--check-config", "--port", "9090").out().contains("listen 127.0.0.1:9090"));

        Path bad = file("port: 0|helth-path: /x|upstreams:|  api:|    backend: [\"http://127.0.0.1:9001\"]|  api:|    backend: []|routes:|  - host: \"*\"|    upstream: nope");
        run = run("--config", bad.toString(), "--check-config");
        assertEquals(2, run.exit());
        List<String> lines = run.err().lines().toList();
        assertEquals(4, lines.size(), run.err());
        assertTrue(lines.get(0).contains(bad + ":2:1: unknown key 'helth-path'"), run.err());
        assertTrue(lines.get(1).contains(bad + ":6:3: duplicate upstream 'api'"), run.err());
        assertTrue(lines.get(2).contains(bad + ":9:11: host: '*' is not a host name or pattern"), run.err());
        assertTrue(lines.get(3).contains(bad + ":10:15: upstream: no upstream is named 'nope'"), run.err());
    }

    @Test
    void watchConfigWithoutAFileIsOneLineAndExit2() throws Exception {
        Run run = run("--watch-config", "--backend", "http://127.0.0.1:9001");
        assertEquals(2, run.exit(), run.err());
        assertEquals(List.of("error: --watch-config needs --config FILE: it reloads that file when it changes (see --help)"), run.err().lines().toList());
    }

    /** A started load balancer, its output collected as it comes. */
    private static final class Started {
        final Process process;
        final StringBuffer output = new StringBuffer();

        Started(Process process) {
            this.process = process;
            collect(process.getErrorStream());
            collect(process.getInputStream()); // the access log
        }

        private void collect(InputStream stream) {
            Thread reader = new Thread(() -> {
                try (InputStream in = stream) {
                    byte[] buffer = new byte[8192];
                    for (int n; (n = in.read(buffer)) != -1; ) {
                        output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // ended
                }
            }, "config-test-output");
            reader.setDaemon(true);
            reader.start();
        }

        int port(Pattern pattern) throws InterruptedException {
            TestSupport.await(() -> pattern.matcher(output).find() || !process.isAlive(), "the banner");
            Matcher matcher = pattern.matcher(output);
            assertTrue(matcher.find(), output.toString());
            return Integer.parseInt(matcher.group(1));
        }

        long count(String text) {
            return output.toString().split(Pattern.quote(text), -1).length - 1L;
        }
    }

    private HttpResponse<String> get(int port) throws Exception {
        return get(port, "/");
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsStatsAndTheAccessLogNameEachUpstreamAndRoute() throws Exception {
        DemoServer shared = support.demo("shared");
        DemoServer other = support.demo("other");
        Path file = file("upstreams:|  api:|    backend: [\"" + shared.url() + "\"]|    strategy: least-connections|  web:|    backend: [\""
                + shared.url() + "\", \"" + other.url() + "\"]|routes:|  - name: api-v1|    path: /api|    upstream: api|  - path: /|    upstream: web");
        Started lb = new Started(process("--config", file.toString(), "--port", "0", "--bind", "127.0.0.1", "--admin-port", "0", "--access-log", "json"));
        int port = lb.port(LISTENING);
        int admin = lb.port(ADMIN);
        assertEquals(200, get(port, "/api/x").statusCode());
        assertEquals(200, get(port, "/api/y").statusCode());
        assertEquals(200, get(port, "/page").statusCode());
        TestSupport.await(() -> lb.count("\"route\":") >= 3, "three access log lines");
        assertEquals(2, lb.count("\"route\":\"api-v1\",\"upstream\":\"api\""), lb.output.toString());
        assertEquals(1, lb.count("\"route\":\"route-2\",\"upstream\":\"web\""), lb.output.toString());

        String shared127 = "127.0.0.1:" + shared.port();
        String metrics = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("lb_requests_total{address=\"" + shared127 + "\",backend=\"" + shared127 + "\",code=\"2xx\",upstream=\"api\"} 2.0"), metrics);
        assertTrue(metrics.contains("lb_backend_up{address=\"" + shared127 + "\",backend=\"" + shared127 + "\",upstream=\"api\"} 1"), metrics);
        assertTrue(metrics.contains("lb_backend_up{address=\"" + shared127 + "\",backend=\"" + shared127 + "\",upstream=\"web\"} 1"), metrics);
        assertTrue(metrics.contains("lb_backend_up{address=\"127.0.0.1:" + other.port() + "\",backend=\"127.0.0.1:" + other.port() + "\",upstream=\"web\"} 1"), metrics);

        String stats = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/stats")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        var upstreams = com.google.gson.JsonParser.parseString(stats).getAsJsonObject().getAsJsonArray("upstreams");
        assertEquals(2, upstreams.size(), stats);
        assertEquals("api", upstreams.get(0).getAsJsonObject().get("upstream").getAsString());
        assertEquals("least-connections", upstreams.get(0).getAsJsonObject().get("strategy").getAsString());
        assertEquals(2, upstreams.get(0).getAsJsonObject().getAsJsonArray("backends").get(0).getAsJsonObject().get("requests").getAsInt());
        assertEquals("web", upstreams.get(1).getAsJsonObject().get("upstream").getAsString());
        assertEquals(2, upstreams.get(1).getAsJsonObject().getAsJsonArray("backends").size());
    }

    private static String server(HttpResponse<String> response) {
        return response.headers().firstValue("Server").orElse("");
    }

    @Test
    void sighupPostReloadAndWatchingTheFileReloadItAndABadFileChangesNothing() throws Exception {
        DemoServer first = support.demo("first");
        DemoServer second = support.demo("second");
        DemoServer third = support.demo("third");
        Path file = file("explain: true|port: 1|upstreams:|  app:|    backend: [\"" + first.url() + "\"]");
        Started lb = new Started(process("--config", file.toString(), "--port", "0", "--bind", "127.0.0.1", "--admin-port", "0", "--watch-config"));
        int port = lb.port(LISTENING); // --port 0 beside the file's port: 1
        int admin = lb.port(ADMIN);
        HttpResponse<String> response = get(port);
        assertEquals("first", server(response));
        assertTrue(response.headers().firstValue("X-LB-Explain").isPresent(), "the file's explain: true took effect");

        Files.writeString(file, "explain: true\nupstreams:\n  app:\n    backend: [\"" + second.url() + "\"]\n");
        new ProcessBuilder("kill", "-HUP", String.valueOf(lb.process.pid())).start().waitFor(10, TimeUnit.SECONDS);
        TestSupport.await(() -> {
            try {
                return server(get(port)).equals("second");
            } catch (Exception e) {
                return false;
            }
        }, "SIGHUP (or the watcher) moved traffic to the second backend");

        long refusedBefore = lb.count("refused");
        Files.writeString(file, "upstreams:\n  app:\n    backend: [\"" + third.url() + "\"]\n    max-fail: 3\n");
        TestSupport.await(() -> lb.count("refused") > refusedBefore, "the watcher refused the bad file");
        assertTrue(lb.output.toString().contains(file + ":4:5: unknown key 'max-fail' in upstream 'app'; did you mean 'max-fails'?"), lb.output.toString());
        HttpResponse<String> reload = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/reload"))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(409, reload.statusCode(), reload.body());
        assertTrue(reload.body().contains(":4:5: unknown key 'max-fail'"), reload.body());
        for (int i = 0; i < 5; i++) {
            assertEquals("second", server(get(port)), "the old configuration still serves");
        }
        assertEquals(0, third.requestCount());

        Files.writeString(file, "upstreams:\n  app:\n    backend: [\"" + third.url() + "\"]\n    max-fails: 3\n");
        reload = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/reload"))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, reload.statusCode(), reload.body());
        assertEquals("third", server(get(port)));
        assertTrue(lb.process.isAlive(), lb.output.toString());

        // A run-time change through the admin API says the next reload replaces it, in its answer and in the log.
        HttpResponse<String> switched = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/strategy?name=first"))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, switched.statusCode(), switched.body());
        assertTrue(switched.body().contains("\"note\":\"the next reload of " + file + " replaces this change\""), switched.body());
        TestSupport.await(() -> lb.output.toString().contains("strategy changed to first (until the next reload of " + file + ")"), "the event line");
        // So do adding and removing a backend.
        String extra = "127.0.0.1:" + second.port();
        HttpResponse<String> added = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/backend?url=http://" + extra))
                .header("X-LB-Admin", "1").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, added.statusCode(), added.body());
        assertTrue(added.body().contains("\"note\":\"the next reload of " + file + " replaces this change\""), added.body());
        TestSupport.await(() -> lb.output.toString().contains("backend " + extra + " added (until the next reload of " + file + ")"), "the added line");
        HttpResponse<String> removed = support.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/backend?backend=" + extra))
                .header("X-LB-Admin", "1").DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, removed.statusCode(), removed.body());
        assertTrue(removed.body().contains("\"note\":\"the next reload of " + file + " replaces this change\""), removed.body());
        TestSupport.await(() -> lb.output.toString().contains("backend " + extra + " removed (until the next reload of " + file + ")"), "the removed line");
    }
}
