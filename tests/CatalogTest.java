package tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every alias in jbang-catalog.json points at a script that exists and says how to use it. */
class CatalogTest {
    @Test
    void everyAliasNamesAnExistingScriptAndGivesAnExample() throws Exception {
        Path project = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(project.resolve("jbang-catalog.json"))) {
            project = project.getParent();
        }
        JsonObject aliases = JsonParser.parseString(Files.readString(project.resolve("jbang-catalog.json")))
                .getAsJsonObject().getAsJsonObject("aliases");

        assertFalse(aliases.isEmpty());
        for (Map.Entry<String, com.google.gson.JsonElement> alias : aliases.entrySet()) {
            JsonObject entry = alias.getValue().getAsJsonObject();
            String script = entry.get("script-ref").getAsString();
            assertTrue(Files.isRegularFile(project.resolve(script)), alias.getKey() + " points at a missing " + script);
            assertTrue(entry.get("description").getAsString().contains("Example: jbang " + alias.getKey()),
                    alias.getKey() + " needs an 'Example: jbang " + alias.getKey() + " ...' in its description");
        }
    }
}
