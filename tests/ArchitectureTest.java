package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The layers hold: the balancing model ({@code model/}) and the strategies ({@code strategies/}) are
 * plain Java. They compile with the JDK's compiler and nothing on the class path, and no file in them
 * imports Undertow, XNIO, picocli or Prometheus, or a layer above its own (the model imports no
 * strategy; neither imports the configuration, the proxy, the admin server, the lab or the demo
 * backends). The configuration ({@code config/}) sits between them and the proxy.
 */
class ArchitectureTest {
    private static final List<String> FOREIGN = List.of("io.undertow.", "org.xnio.", "picocli.", "io.prometheus.");

    private static Path project() {
        Path project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(project.resolve("jbang-catalog.json"))) {
            project = project.getParent();
        }
        return project;
    }

    private static List<Path> sources(String... folders) throws Exception {
        List<Path> files = new ArrayList<>();
        for (String folder : folders) {
            try (Stream<Path> listed = Files.list(project().resolve(folder))) {
                listed.filter(file -> file.toString().endsWith(".java")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    @Test
    void modelAndStrategiesCompileWithAnEmptyClassPath() throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path emptyClassPath = Files.createTempDirectory("empty-classpath");
        Path out = Files.createTempDirectory("model-classes");
        StringWriter errors = new StringWriter();
        // UTF-8 whatever the locale, as the scripts' //JAVAC_OPTIONS say: under LANG=C Java 17 reads US-ASCII.
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            List<Path> sources = sources("model", "strategies");
            boolean compiled = javac.getTask(errors, files, null,
                    List.of("-encoding", "UTF-8", "-classpath", emptyClassPath.toString(), "-proc:none", "-d", out.toString()),
                    null, files.getJavaFileObjectsFromPaths(sources)).call();
            assertTrue(compiled, "model/ and strategies/ need something beyond the JDK:\n" + errors);
            try (Stream<Path> classes = Files.walk(out)) {
                assertTrue(classes.anyMatch(file -> file.endsWith("Routing.class")), "the model's classes were written");
            }
        } finally {
            deleteAll(out);
            deleteAll(emptyClassPath);
        }
    }

    @Test
    void modelAndStrategiesImportNoFrameworkAndNoLayerAbove() throws Exception {
        List<String> offences = new ArrayList<>();
        for (Path file : sources("model", "strategies")) {
            String folder = file.getParent().getFileName().toString();
            for (String line : Files.readAllLines(file)) {
                if (!line.startsWith("import ")) {
                    continue;
                }
                String imported = line.substring("import ".length()).replace("static ", "").trim();
                boolean foreign = FOREIGN.stream().anyMatch(imported::startsWith);
                boolean upward = Stream.of("proxy.", "admin.", "lab.", "demo.", "benchmarks.", "config.").anyMatch(imported::startsWith)
                        || folder.equals("model") && imported.startsWith("strategies.");
                if (foreign || upward) {
                    offences.add(folder + "/" + file.getFileName() + ": " + line.trim());
                }
            }
        }
        assertEquals(List.of(), offences, "the model and the strategies must stay plain Java, below the proxy");
    }

    /**
     * The configuration sits between the model and the proxy: it reads YAML (snakeyaml-engine) and
     * builds plain values from the model and the strategies, so it imports no Undertow, XNIO, picocli or
     * Prometheus, and nothing above it (the proxy runs it, the front door reads it).
     */
    @Test
    void configImportsNoFrameworkAndNoLayerAbove() throws Exception {
        List<String> offences = new ArrayList<>();
        for (Path file : sources("config")) {
            for (String line : Files.readAllLines(file)) {
                if (!line.startsWith("import ")) {
                    continue;
                }
                String imported = line.substring("import ".length()).replace("static ", "").trim();
                boolean foreign = FOREIGN.stream().anyMatch(imported::startsWith);
                boolean upward = Stream.of("proxy.", "admin.", "lab.", "demo.", "benchmarks.", "loadbalancer.").anyMatch(imported::startsWith);
                if (foreign || upward) {
                    offences.add("config/" + file.getFileName() + ": " + line.trim());
                }
            }
        }
        assertEquals(List.of(), offences, "the configuration must stay below the proxy, free of Undertow and picocli");
        assertTrue(sources("config").size() >= 5, "the configuration's files were found");
    }

    /**
     * Whether a strategy pins clients is asked through the contract ({@code Strategy.pinsClients}), never
     * found out by testing its class: no file outside {@code strategies/} uses {@code instanceof} on a
     * strategy, and the proxy imports nothing of {@code strategies/} (its random source comes in from the
     * configuration), so a new strategy needs no change above it.
     */
    @Test
    void noStrategyIsTestedByItsClassOutsideStrategies() throws Exception {
        List<String> strategyTypes = new ArrayList<>(List.of("Strategy"));
        for (Path file : sources("strategies")) {
            strategyTypes.add(file.getFileName().toString().replace(".java", ""));
        }
        List<String> offences = new ArrayList<>();
        List<Path> checked = new ArrayList<>();
        for (String folder : List.of("proxy", "admin", "config", "model", "lab", "backends-demo")) {
            try (Stream<Path> walked = Files.walk(project().resolve(folder))) {
                walked.filter(file -> file.toString().endsWith(".java")).sorted().forEach(checked::add);
            }
        }
        checked.add(project().resolve("LoadBalancer.java"));
        for (Path file : checked) {
            String name = project().relativize(file).toString();
            for (String line : Files.readAllLines(file)) {
                for (String type : strategyTypes) {
                    if (line.matches(".*\\binstanceof\\s+(strategies\\.|model\\.)?" + type + "\\b.*")) {
                        offences.add(name + ": " + line.trim());
                    }
                }
                if (name.startsWith("proxy") && line.startsWith("import strategies.")) {
                    offences.add(name + ": " + line.trim());
                }
            }
        }
        assertTrue(checked.size() > 40, "the sources above the strategies were found");
        assertEquals(List.of(), offences, "ask the strategy contract (model/Strategy) instead of testing a strategy's class");
    }

    /**
     * The proxy's folders ({@code proxy/listen}, {@code request}, {@code upstream}, {@code exchange},
     * {@code observe}) import nothing above the proxy (admin, lab, demo, front door), and the two at its
     * edges stay free of the request's pipeline: {@code listen/} (sockets, TLS, connection cap) and
     * {@code observe/} (logs, observers) import none of {@code request}, {@code upstream} or {@code exchange}.
     */
    @Test
    void proxyFoldersImportNothingAboveThemAndTheEdgesStayOutOfThePipeline() throws Exception {
        List<String> offences = new ArrayList<>();
        List<String> folders = List.of("listen", "request", "upstream", "exchange", "observe");
        for (String folder : folders) {
            for (Path file : sources("proxy/" + folder)) {
                for (String line : Files.readAllLines(file)) {
                    if (!line.startsWith("import ")) {
                        continue;
                    }
                    String imported = line.substring("import ".length()).replace("static ", "").trim();
                    boolean upward = Stream.of("admin.", "lab.", "demo.", "benchmarks.", "loadbalancer.").anyMatch(imported::startsWith);
                    boolean intoPipeline = (folder.equals("listen") || folder.equals("observe"))
                            && Stream.of("proxy.request.", "proxy.upstream.", "proxy.exchange.").anyMatch(imported::startsWith);
                    if (upward || intoPipeline) {
                        offences.add("proxy/" + folder + "/" + file.getFileName() + ": " + line.trim());
                    }
                }
            }
        }
        assertEquals(List.of(), offences, "the proxy's folders must stay below admin and the front door, the edges outside the pipeline");
    }

    /** Each proxy folder names its files in one {@code //SOURCES} index, so every script that lists the index compiles them all. */
    @Test
    void eachProxyFolderListsEveryOneOfItsFiles() throws Exception {
        for (String folder : List.of("listen", "request", "upstream", "exchange", "observe")) {
            List<String> names = sources("proxy/" + folder).stream().map(file -> file.getFileName().toString()).toList();
            List<String> indexes = new ArrayList<>();
            List<String> listed = new ArrayList<>();
            for (Path file : sources("proxy/" + folder)) {
                for (String line : Files.readAllLines(file)) {
                    if (line.startsWith("//SOURCES ")) {
                        indexes.add(file.getFileName().toString());
                        listed.addAll(List.of(line.substring("//SOURCES ".length()).trim().split("\\s+")));
                    }
                }
            }
            assertEquals(1, indexes.stream().distinct().count(), "proxy/" + folder + " has one //SOURCES index: " + indexes);
            List<String> expected = new ArrayList<>(names);
            expected.remove(indexes.get(0));
            assertEquals(expected, listed.stream().sorted().toList(), "proxy/" + folder + "/" + indexes.get(0) + " lists every other file of its folder");
            assertTrue(Files.readString(project().resolve("LoadBalancer.java")).contains("proxy/" + folder + "/" + indexes.get(0)),
                    "LoadBalancer.java lists proxy/" + folder + "/" + indexes.get(0));
        }
    }

    private static void deleteAll(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
