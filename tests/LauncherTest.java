package tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./jbang} launcher, run by /bin/sh as a user runs it: it passes arguments and exit codes
 * through untouched from any folder, prefers an installed jbang, fetches JBang with Maven when it must,
 * and says clearly what is missing otherwise. Each case builds the PATH it needs in a temporary folder.
 */
class LauncherTest {
    private static Path project;
    private static Path launcher;

    @TempDir
    Path temp;

    @BeforeAll
    static void findLauncher() {
        project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path dir = project; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("jbang")) && Files.isRegularFile(dir.resolve("LoadBalancer.java"))) {
                project = dir;
                break;
            }
        }
        launcher = project.resolve("jbang");
        assertTrue(Files.isExecutable(launcher), "the launcher is committed executable: " + launcher);
    }

    @Test
    void argumentsAndExitCodePassThroughUntouchedFromAnotherFolder() throws Exception {
        Result result = run(temp, Map.of(), launcher.toString(), project.resolve("tests/fixtures/PrintArgs.java").toString(),
                "two words", "$HOME", "*", "", "quote'and\"double", "--help");

        assertEquals(6, result.exitCode, result.err);
        assertEquals(List.of("[two words]", "[$HOME]", "[*]", "[]", "[quote'and\"double]", "[--help]"), result.out.lines().toList());
    }

    @Test
    void aRememberedLaunchLineIsUsedOnlyWhileNothingChanged() throws Exception {
        Path app = Files.createDirectories(temp.resolve("app"));
        Files.writeString(app.resolve("Greet.java"), "//SOURCES lib/Greeting.java\n"
                + "public class Greet { public static void main(String[] args) {\n"
                + "  System.out.println(Greeting.WORD + \" \" + String.join(\"|\", args)); System.exit(args.length); } }\n");
        Path greeting = Files.createDirectories(app.resolve("lib")).resolve("Greeting.java");
        Files.writeString(greeting, "class Greeting { static final String WORD = \"hello\"; }\n");
        Path launches = temp.resolve("launches");
        // JBang's own JVM cannot start with this option, so a run that still succeeds did not go through JBang.
        Map<String, String> env = Map.of("JBANG_LAUNCH_CACHE", launches.toString(), "PATH", pathWithoutJbang());
        Map<String, String> noJbang = Map.of("JBANG_LAUNCH_CACHE", launches.toString(), "PATH", pathWithoutJbang(),
                "JBANG_JAVA_OPTIONS", "-XX:+NoSuchOptionForJbangsJvm");
        String[] command = {launcher.toString(), "Greet.java", "two words", "", "$HOME"};

        Result first = run(app, env, command);
        assertEquals(3, first.exitCode, first.err);
        assertEquals("hello two words||$HOME", first.out.trim());

        Result remembered = run(app, noJbang, command);
        assertEquals(3, remembered.exitCode, "the remembered line ran without JBang: " + remembered.err);
        assertEquals("hello two words||$HOME", remembered.out.trim());

        Files.writeString(greeting, "class Greeting { static final String WORD = \"bonjour\"; }\n");
        Result afterEdit = run(app, noJbang, command);
        assertTrue(afterEdit.exitCode != 3 && !afterEdit.out.contains("hello"), "an edited source sends the launch through JBang again: " + afterEdit.out);

        Result rebuilt = run(app, env, command);
        assertEquals(3, rebuilt.exitCode, rebuilt.err);
        assertEquals("bonjour two words||$HOME", rebuilt.out.trim());
        Result rememberedAgain = run(app, noJbang, launcher.toString(), "Greet.java", "other");
        assertEquals(1, rememberedAgain.exitCode, rememberedAgain.err);
        assertEquals("bonjour other", rememberedAgain.out.trim());
    }

    @Test
    void theProjectCatalogsAliasesRun() throws Exception {
        Result result = run(project, Map.of("PATH", pathWithoutJbang()), launcher.toString(), "loadbalancer", "--version");

        assertEquals(0, result.exitCode, result.err);
        assertTrue(result.out.startsWith("LoadBalancer "), result.out);
    }

    @Test
    void anInstalledJbangOnThePathIsUsedInstead() throws Exception {
        Path bin = toolbox("dirname", "basename", "sed", "head");
        script(bin.resolve("jbang"), "#!/bin/sh\necho \"installed jbang got: $*\"\nexit 7\n");

        Result result = run(temp, Map.of("PATH", bin.toString()), launcher.toString(), "run", "x y");

        assertEquals(7, result.exitCode);
        assertEquals("installed jbang got: run x y", result.out.trim());
    }

    @Test
    void withTheProjectItselfOnThePathItDoesNotCallItselfForever() throws Exception {
        String path = project + File.pathSeparator + System.getenv("PATH");

        Result result = run(temp, Map.of("PATH", path), launcher.toString(), "version");

        assertEquals(0, result.exitCode, result.err);
        assertTrue(result.out.trim().startsWith("0.132.1") || result.err.contains("0.132.1"), result.out + result.err);
    }

    @Test
    void fetchesJbangWithMavenIntoTheCacheFolderWhenNeeded() throws Exception {
        Path cache = temp.resolve("cache");

        Result result = run(temp, Map.of("JBANG_BOOTSTRAP_DIR", cache.toString(), "PATH", pathWithoutJbang()), launcher.toString(), "version");

        assertEquals(0, result.exitCode, result.err);
        assertTrue(result.err.contains("fetching JBang 0.132.1"), result.err);
        assertTrue(Files.isRegularFile(cache.resolve("0.132.1/lib/jbang-cli-0.132.1.jar")));
        try (var files = Files.list(cache.resolve("0.132.1"))) {
            assertEquals(List.of("lib"), files.map(p -> p.getFileName().toString()).toList(), "no half-finished fetch left behind");
        }
    }

    /**
     * From an empty cache the fetch says what it fetches and that it happens once, and shows progress
     * while Maven downloads (a stand-in mvn prints Maven's own "Downloaded from" lines and copies the real
     * jars, so no network is needed); Maven's log stays out of sight when it succeeds.
     */
    @Test
    void theFirstFetchShowsWhatItFetchesAndItsProgress() throws Exception {
        Path jars = Path.of(System.getProperty("user.home"), ".cache/jbang-bootstrap/0.132.1/lib");
        String bootstrap = System.getenv("JBANG_BOOTSTRAP_DIR");
        if (bootstrap != null) {
            jars = Path.of(bootstrap, "0.132.1/lib");
        }
        Assumptions.assumeTrue(Files.isDirectory(jars), "no fetched JBang to copy at " + jars);
        Path bin = Files.createDirectories(temp.resolve("fake-maven"));
        script(bin.resolve("mvn"), "#!/bin/sh\n"
                + "for arg do case \"$arg\" in -DoutputDirectory=*) out=${arg#-DoutputDirectory=} ;; esac; done\n"
                + "echo '[INFO] Scanning for projects...'\n"
                + "i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo \"[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/x/a$i/1/a$i-1.jar (2.1 kB at 9.8 kB/s)\"; done\n"
                + "mkdir -p \"$out\" && cp '" + jars + "'/*.jar \"$out\"\n");
        Path cache = temp.resolve("cache");

        Result result = run(temp, Map.of("JBANG_BOOTSTRAP_DIR", cache.toString(), "PATH", bin + File.pathSeparator + pathWithoutJbang()),
                launcher.toString(), "version");

        assertEquals(0, result.exitCode, result.err);
        assertTrue(result.err.contains("fetching JBang 0.132.1 with Maven from Maven Central into " + cache.resolve("0.132.1")), result.err);
        assertTrue(result.err.contains("this happens once"), result.err);
        List<String> progress = result.err.lines().filter(line -> line.contains("download")).toList();
        assertEquals(List.of("jbang launcher:   downloading: 1 so far, latest a1-1.jar", "jbang launcher:   downloading: 26 so far, latest a26-1.jar",
                "jbang launcher:   downloading: 51 so far, latest a51-1.jar", "jbang launcher:   downloaded 60 files into Maven's cache (~/.m2/repository)"),
                progress, result.err);
        assertTrue(!result.err.contains("[INFO]"), "Maven's own log stays in its file: " + result.err);
        assertTrue(Files.isRegularFile(cache.resolve("0.132.1/lib/jbang-cli-0.132.1.jar")));
    }

    @Test
    void noJavaAtAllIsOneClearMessage() throws Exception {
        Path bin = toolbox("dirname", "basename", "sed", "head");

        Result result = run(temp, Map.of("PATH", bin.toString()), launcher.toString(), "LoadBalancer.java");

        assertEquals(1, result.exitCode);
        assertTrue(result.err.contains("no Java found"), result.err);
    }

    @Test
    void anOldJavaIsNamedWithItsVersion() throws Exception {
        Path bin = toolbox("dirname", "basename", "sed", "head");
        script(bin.resolve("java"), "#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n");
        script(bin.resolve("javac"), "#!/bin/sh\nexit 0\n");

        Result result = run(temp, Map.of("PATH", bin.toString()), launcher.toString(), "LoadBalancer.java");

        assertEquals(1, result.exitCode);
        assertTrue(result.err.contains("Java 11") && result.err.contains("17 or newer"), result.err);
    }

    @Test
    void noJbangAndNoMavenIsOneClearMessage() throws Exception {
        Path bin = toolbox("dirname", "basename", "sed", "head", "java", "javac");

        Result result = run(temp, Map.of("PATH", bin.toString(), "JBANG_BOOTSTRAP_DIR", temp.resolve("empty").toString()),
                launcher.toString(), "LoadBalancer.java");

        assertEquals(1, result.exitCode);
        assertTrue(result.err.contains("neither jbang nor mvn"), result.err);
    }

    private record Result(int exitCode, String out, String err) {}

    private Result run(Path workingDir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(command)).directory(workingDir.toFile());
        builder.environment().remove("JAVA_HOME");
        builder.environment().putAll(env);
        Path out = temp.resolve("out.txt"), err = temp.resolve("err.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the launcher did not finish in 120 s");
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** A folder holding just these commands from the real PATH, each a one-line forwarder: a PATH without the rest. */
    private Path toolbox(String... commands) throws IOException {
        Path bin = Files.createDirectories(temp.resolve("bin"));
        for (String command : commands) {
            script(bin.resolve(command), "#!/bin/sh\nexec '" + which(command) + "' \"$@\"\n");
        }
        return bin;
    }

    private static Path which(String command) {
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate) && !candidate.toAbsolutePath().startsWith(project)) {
                return candidate.toAbsolutePath();
            }
        }
        throw new AssertionError(command + " is not on PATH");
    }

    /** The real PATH minus any folder that holds a jbang. */
    private static String pathWithoutJbang() {
        List<String> kept = new ArrayList<>();
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            if (!Files.exists(Path.of(dir, "jbang"))) {
                kept.add(dir);
            }
        }
        return String.join(File.pathSeparator, kept);
    }

    private static void script(Path path, String text) throws IOException {
        Files.writeString(path, text);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
