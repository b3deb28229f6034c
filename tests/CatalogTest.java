package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What running the scripts through JBang's catalog needs: every alias points at a script that exists,
 * says how to use it and builds with {@code ./jbang build} from the project folder; LoadBalancer.java,
 * the lab and the benchmark list each of their source files by name (a script run from a remote alias
 * cannot expand a glob). Builds run one at a time, each bounded to five minutes.
 */
class CatalogTest {
    private static Path project() {
        Path project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(project.resolve("jbang-catalog.json"))) {
            project = project.getParent();
        }
        return project;
    }

    @Test
    void loadBalancerListsEverySourceFileByName() throws Exception {
        Path project = project();
        Set<Path> listed = new HashSet<>();
        List<String> globs = new ArrayList<>();
        listSources(project.resolve("LoadBalancer.java"), listed, globs);
        assertEquals(List.of(), globs, "LoadBalancer.java must name its sources, not glob them");
        for (String folder : List.of("model", "strategies", "proxy", "admin")) {
            try (Stream<Path> files = Files.list(project.resolve(folder))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    assertTrue(listed.contains(file.toAbsolutePath().normalize()), folder + "/" + file.getFileName()
                            + " is missing from LoadBalancer.java's //SOURCES lines" + (folder.equals("strategies") ? " (strategies/Strategies.java lists its folder)" : ""));
                }
            }
        }
    }

    /**
     * Every file the scripts list exists, and none is a glob, following //SOURCES into listed files as
     * JBang does; the test runner alone globs its own *Test.java, as it runs from a checkout.
     */
    @Test
    void aliasScriptsListTheirSourcesByName() throws Exception {
        Path project = project();
        for (String script : aliasScripts(project)) {
            Set<Path> listed = new HashSet<>();
            List<String> globs = new ArrayList<>();
            listSources(project.resolve(script), listed, globs);
            if (script.equals("tests/RunTests.java")) {
                globs.remove("tests/*Test.java");
            }
            assertEquals(List.of(), globs, script + " lists globs, which a remote alias ignores");
            for (Path source : listed) {
                assertTrue(Files.isRegularFile(source), script + " lists a missing " + project.relativize(source));
            }
        }
    }

    /** The files {@code script}'s //SOURCES lines name, and theirs in turn, into {@code listed}; globs into {@code globs}. */
    private static void listSources(Path script, Set<Path> listed, List<String> globs) throws Exception {
        for (String line : Files.readAllLines(script)) {
            if (!line.startsWith("//SOURCES ")) {
                continue;
            }
            for (String source : line.substring("//SOURCES ".length()).trim().split("\\s+")) {
                Path file = script.getParent().resolve(source).toAbsolutePath().normalize();
                if (source.contains("*")) {
                    globs.add(project().relativize(file).toString());
                } else if (listed.add(file) && Files.isRegularFile(file)) {
                    listSources(file, listed, globs);
                }
            }
        }
    }

    @Test
    void everyAliasScriptBuilds() throws Exception {
        Path project = project();
        for (String script : aliasScripts(project)) {
            assertEquals("", run(project, project.resolve("jbang").toString(), "build", script));
        }
    }

    /**
     * The commands of the README and the manual (docs/*.md) that run a script no alias names (the JMH
     * benchmark of the hot path) must build too: a refactoring broke that one once, and nothing ran it.
     */
    @Test
    void everyScriptTheReadmeRunsBuilds() throws Exception {
        Path project = project();
        Set<String> aliases = new HashSet<>(aliasScripts(project));
        Matcher command = Pattern.compile("\\./jbang ([\\w./-]+\\.java)").matcher(readmeAndManual(project));
        List<String> others = new ArrayList<>();
        while (command.find()) {
            String script = command.group(1);
            if (Files.isRegularFile(project.resolve(script)) && !aliases.contains(script) && !others.contains(script)) {
                others.add(script);
            }
        }
        assertTrue(others.containsAll(List.of("benchmarks/ProxyHotPathBenchmarks.java", "benchmarks/load/UndertowFloor.java")),
                "the README's scripts beyond the aliases: " + others);
        for (String script : others) {
            assertEquals("", run(project, project.resolve("jbang").toString(), "build", script), script);
        }
    }

    /**
     * {@code strategy-bench --help} prints its usage and exits, instead of starting the twenty-minute
     * benchmark; JMH never starts (it would print "# JMH version"). Bounded by the build, not by JMH.
     */
    @Test
    void strategyBenchHelpPrintsUsageAndExitsAtOnce() throws Exception {
        Path project = project();
        assertEquals("", run(project, project.resolve("jbang").toString(), "build", "benchmarks/StrategyBenchmarks.java"));
        Path log = Files.createTempFile("bench-help", ".log");
        try {
            long started = System.nanoTime();
            Process bench = new ProcessBuilder(project.resolve("jbang").toString(), "strategy-bench", "--help").directory(project.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = bench.waitFor(2, TimeUnit.MINUTES);
            if (!exited) {
                bench.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String output = Files.readString(log);
            assertTrue(exited, "strategy-bench --help still running after 2 minutes:\n" + output);
            assertEquals(0, bench.exitValue(), output);
            assertTrue(output.contains("Usage: ./jbang benchmarks/StrategyBenchmarks.java [--quick]") && output.contains("--quick"), output);
            assertFalse(output.contains("# JMH"), "the benchmark started:\n" + output);
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(60), "built already, it took " + (System.nanoTime() - started) / 1_000_000 + " ms");
        } finally {
            Files.delete(log);
        }
    }

    /** The README and every page of the manual it links to (docs/*.md), one after the other. */
    static String readmeAndManual(Path project) throws Exception {
        StringBuilder text = new StringBuilder(Files.readString(project.resolve("README.md")));
        try (Stream<Path> pages = Files.list(project.resolve("docs"))) {
            for (Path page : pages.filter(page -> page.toString().endsWith(".md")).sorted().toList()) {
                text.append('\n').append(Files.readString(page));
            }
        }
        return text.toString();
    }

    /**
     * The README is a front page: its set-up block holds exactly the two commands a newcomer needs, and
     * every relative link in it and in the manual leads to a file that exists.
     */
    @Test
    void readmeIsAFrontPageWhoseLinksLead() throws Exception {
        Path project = project();
        String readme = Files.readString(project.resolve("README.md"));
        Matcher setUp = Pattern.compile("## Set up\\n.*?```sh\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(setUp.find(), "the README has no set-up block");
        assertEquals(List.of("./jbang LoadBalancer.java", "./jbang tests/RunTests.java"),
                setUp.group(1).lines().map(line -> line.replaceFirst("\\s*#.*", "")).toList());
        List<Path> pages = new ArrayList<>(List.of(project.resolve("README.md")));
        try (Stream<Path> docs = Files.list(project.resolve("docs"))) {
            docs.filter(page -> page.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (Path page : pages) {
            Matcher link = Pattern.compile("\\]\\(([^)#:]+)(#[^)]*)?\\)").matcher(Files.readString(page));
            while (link.find()) {
                assertTrue(Files.exists(page.getParent().resolve(link.group(1))), project.relativize(page) + " links to a missing " + link.group(1));
            }
        }
        assertTrue(pages.size() >= 9, "the manual's pages: " + pages);
    }

    /**
     * {@code jbang export fatjar} and {@code export portable} give a jar that {@code java -jar} runs (the
     * JDK's jar tool refuses a main class in the unnamed package, hence LoadBalancer's package).
     */
    /**
     * What {@code zip -qd JAR 'META-INF/*.SF' 'META-INF/*.RSA'} does, without needing zip: a fat jar carries Bouncy
     * Castle's signature files, whose digest of the manifest no longer matches the merged jar's, and java refuses
     * to load any class from it.
     */
    private static void stripSignatures(Path jar) throws IOException {
        try (java.nio.file.FileSystem zip = java.nio.file.FileSystems.newFileSystem(jar)) {
            try (Stream<Path> entries = Files.list(zip.getPath("/META-INF"))) {
                for (Path entry : entries.toList()) {
                    String name = entry.getFileName().toString();
                    if (name.endsWith(".SF") || name.endsWith(".RSA") || name.endsWith(".DSA") || name.endsWith(".EC")) {
                        Files.delete(entry);
                    }
                }
            }
        }
    }

    @Test
    void loadBalancerExportsAsJarsThatJavaRuns() throws Exception {
        Path project = project();
        Path out = Files.createTempDirectory("lb-export");
        try {
            for (String kind : List.of("fatjar", "portable")) {
                Path jar = out.resolve(kind).resolve("loadbalancer.jar");
                assertEquals("", run(project, project.resolve("jbang").toString(), "export", kind, "--force", "-O", jar.toString(), "LoadBalancer.java"));
                if (kind.equals("fatjar")) {
                    stripSignatures(jar); // the manual's second step: Bouncy Castle's signature no longer matches the merged jar
                }
                String version = String.join(" ", ProcessHandle.current().info().command().orElse("java"), "-jar", jar.toString(), "--version");
                Path log = Files.createTempFile("lb-version", ".log");
                Process java = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-jar", jar.toString(), "--version")
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                assertTrue(java.waitFor(1, TimeUnit.MINUTES), version + " hangs");
                String output = Files.readString(log);
                Files.delete(log);
                assertTrue(output.startsWith("LoadBalancer "), version + " printed: " + output);
            }
        } finally {
            deleteTree(out);
        }
    }

    /**
     * The README's command works in a container with no locale: Java 17's javac reads sources in the
     * platform charset, US-ASCII under LANG=C, and our sources are UTF-8 (×, →, µ in comments and pages).
     * Built from a copy of the files its //SOURCES name, with a JBang cache of its own, so no cached jar can answer instead.
     */
    @Test
    void loadBalancerBuildsUnderTheCLocale() throws Exception {
        Path project = project();
        Path copy = Files.createTempDirectory("lb-c-locale");
        try {
            copyLoadBalancerSources(project, copy);
            // LC_ALL outranks LANG and every other LC_ variable.
            assertEquals("", run(copy, Map.of("LC_ALL", "C", "JBANG_CACHE_DIR", copy.resolve("jbang-cache").toString()),
                    project.resolve("jbang").toString(), "build", copy.resolve("LoadBalancer.java").toString()), "under LC_ALL=C");
        } finally {
            deleteTree(copy);
        }
    }

    /** LoadBalancer.java and the files its //SOURCES name, into {@code copy} under the same relative paths. */
    private static void copyLoadBalancerSources(Path project, Path copy) throws Exception {
        Set<Path> sources = new HashSet<>(List.of(project.resolve("LoadBalancer.java").toAbsolutePath().normalize()));
        listSources(project.resolve("LoadBalancer.java"), sources, new ArrayList<>());
        for (Path source : sources) {
            Path target = copy.resolve(project.toAbsolutePath().normalize().relativize(source));
            Files.createDirectories(target.getParent());
            Files.copy(source, target);
        }
    }

    /**
     * The manual's jar commands, as written: {@code ./jbang export fatjar LoadBalancer.java} in a copy of
     * the sources writes the jar the next command runs with {@code -jar}; started that way over its demo
     * backends it proxies a request, its banner names the command that was run (not the script), and
     * SIGTERM drains it to exit 0.
     */
    @Test
    void theManualsJarCommandsWriteAndRunTheJarTheyName() throws Exception {
        Path project = project();
        String usage = Files.readString(project.resolve("docs/usage.md"));
        assertTrue(usage.contains("\n./jbang export fatjar LoadBalancer.java\n"), "docs/usage.md's export command");
        Matcher jarName = Pattern.compile("\\s-jar (\\S+\\.jar) ").matcher(usage);
        assertTrue(jarName.find(), "docs/usage.md runs no jar");
        Path copy = Files.createTempDirectory("lb-jar");
        Process java = null;
        try {
            copyLoadBalancerSources(project, copy);
            assertEquals("", run(copy, project.resolve("jbang").toString(), "export", "fatjar", "LoadBalancer.java"));
            assertTrue(Files.isRegularFile(copy.resolve(jarName.group(1))), "the export wrote no " + jarName.group(1) + " but: " + Files.list(copy).toList());
            assertTrue(usage.contains("\nzip -qd " + jarName.group(1) + " 'META-INF/*.SF' 'META-INF/*.RSA'\n"), "docs/usage.md strips the signature");
            stripSignatures(copy.resolve(jarName.group(1)));

            Path log = copy.resolve("banner.log");
            java = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx64m", "-jar", jarName.group(1),
                    "--port", "0", "--bind", "127.0.0.1").directory(copy.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            Matcher port;
            while (!(port = listening.matcher(Files.readString(log))).find() || !Files.readString(log).contains("Stop:")) {
                assertTrue(java.isAlive() && System.nanoTime() < deadline, "the jar did not start:\n" + Files.readString(log));
                Thread.sleep(50);
            }
            String banner = Files.readString(log);
            assertTrue(banner.contains("Your own backends: java -jar " + jarName.group(1) + " --backend "), banner);
            assertFalse(banner.contains("./jbang"), "the banner names a command that was not run:\n" + banner);
            HttpResponse<String> answer = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.group(1) + "/")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            assertTrue(answer.body().contains("\"backend\":\"demo-"), answer.body());
            java.destroy();
            assertTrue(java.waitFor(30, TimeUnit.SECONDS), "SIGTERM did not stop it");
            assertEquals(0, java.exitValue(), Files.readString(log));
        } finally {
            if (java != null) {
                java.destroyForcibly();
            }
            deleteTree(copy);
        }
    }

    /** Every script reads its sources as UTF-8, for the reason above; a fixture script without //JAVA is exempt. */
    @Test
    void everyScriptReadsItsSourcesAsUtf8() throws Exception {
        Path project = project();
        List<String> scripts = new ArrayList<>();
        try (Stream<Path> files = Files.walk(project)) {
            for (Path file : files.filter(file -> file.toString().endsWith(".java") && !file.toString().contains("/.")).toList()) {
                String text = Files.readString(file);
                if (text.startsWith("///usr/bin/env jbang") && text.contains("\n//JAVA ")) {
                    scripts.add(project.relativize(file).toString());
                    assertTrue(text.contains("\n//JAVAC_OPTIONS -encoding UTF-8\n"), file + " needs //JAVAC_OPTIONS -encoding UTF-8");
                }
            }
        }
        assertTrue(scripts.containsAll(List.of("LoadBalancer.java", "tests/RunTests.java", "backends-demo/DemoBackend.java", "lab/StrategyLab.java")), "scripts found: " + scripts);
    }

    /** Runs a command in {@code project} for up to 5 minutes; returns "" when it exits 0, else what it printed. */
    private static String run(Path project, String... command) throws Exception {
        return run(project, Map.of(), command);
    }

    /** As above, with these variables added to the environment. */
    private static String run(Path project, Map<String, String> environment, String... command) throws Exception {
        Path log = Files.createTempFile("jbang", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return String.join(" ", command) + " took over 5 minutes:\n" + Files.readString(log);
            }
            return process.exitValue() == 0 ? "" : String.join(" ", command) + " exited " + process.exitValue() + ":\n" + Files.readString(log);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static List<String> aliasScripts(Path project) throws Exception {
        JsonObject aliases = JsonParser.parseString(Files.readString(project.resolve("jbang-catalog.json")))
                .getAsJsonObject().getAsJsonObject("aliases");
        return aliases.entrySet().stream().map(alias -> alias.getValue().getAsJsonObject().get("script-ref").getAsString()).toList();
    }

    @Test
    void everyAliasNamesAnExistingScriptAndGivesAnExample() throws Exception {
        Path project = project();
        JsonObject aliases = JsonParser.parseString(Files.readString(project.resolve("jbang-catalog.json")))
                .getAsJsonObject().getAsJsonObject("aliases");

        assertFalse(aliases.isEmpty());
        for (Map.Entry<String, JsonElement> alias : aliases.entrySet()) {
            JsonObject entry = alias.getValue().getAsJsonObject();
            String script = entry.get("script-ref").getAsString();
            assertTrue(Files.isRegularFile(project.resolve(script)), alias.getKey() + " points at a missing " + script);
            assertTrue(entry.get("description").getAsString().contains("Example: jbang " + alias.getKey()),
                    alias.getKey() + " needs an 'Example: jbang " + alias.getKey() + " ...' in its description");
        }
    }
}
