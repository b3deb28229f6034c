package tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What running the scripts through JBang's catalog needs: every alias points at a script that exists
 * and says how to use it, and LoadBalancer.java lists each of its source files by name (a script run
 * from a remote alias cannot expand a glob).
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
        Set<String> listed = new HashSet<>();
        for (String line : Files.readAllLines(project.resolve("LoadBalancer.java"))) {
            if (line.startsWith("//SOURCES ")) {
                listed.addAll(List.of(line.substring("//SOURCES ".length()).trim().split("\\s+")));
            }
        }
        for (String folder : List.of("proxy", "strategies", "admin")) {
            try (Stream<Path> files = Files.list(project.resolve(folder))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    String name = folder + "/" + file.getFileName();
                    assertTrue(listed.contains(name), name + " is missing from LoadBalancer.java's //SOURCES lines");
                }
            }
        }
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
