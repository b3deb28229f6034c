package config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import model.Backend;
import model.BackendSpec;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import strategies.Strategies;
import text.Units;

/**
 * A configuration file read as YAML 1.2 (snakeyaml-engine's node tree, so every value keeps its line and
 * column, and {@code no} stays a string): its global keys, handed back as text for the command line's
 * converters, and its {@code upstreams:} and {@code routes:}, built into a {@link GatewayConfig}. Every
 * problem is collected, not just the first, as nginx -t reports. Not thread-safe: one reader, one use.
 */
public final class ConfigFile {
    /** The keys an upstream takes: the flags' names for the same settings. */
    public static final List<String> UPSTREAM_KEYS = List.of("backend", "backup", "strategy", "hash-key", "hash-balance-factor", "seed",
            "health-path", "health-interval", "health-timeout", "rise", "fall", "max-fails", "fail-timeout", "panic", "slow-start",
            "retry-budget", "max-conns", "backend-ca", "backend-insecure");
    public static final List<String> ROUTE_KEYS = List.of("name", "host", "path", "method", "header", "upstream", "strip-prefix",
            "request-headers", "response-headers");
    private static final List<String> HEADER_CHANGE_KEYS = List.of("set", "remove");

    /**
     * One global key's value, as text for the flag of the same name.
     *
     * @param values one element for a scalar, each element for a list (repeatable flags such as backend)
     */
    public record Setting(String key, List<String> values, String where) {}

    private final String fileName;
    private final List<ConfigProblem> problems = new ArrayList<>();
    private final List<Setting> globals = new ArrayList<>();
    private Node upstreams;
    private Node routes;

    private ConfigFile(String fileName) {
        this.fileName = fileName;
    }

    /**
     * Reads {@code file}; problems found so far (YAML syntax, unknown or duplicate keys, wrong shapes) are
     * kept, not thrown: {@link #gateway} throws them all together.
     *
     * @param globalKeys the flags' long names a file may set at its top level
     */
    public static ConfigFile read(Path file, Set<String> globalKeys) {
        ConfigFile config = new ConfigFile(file.toString());
        Node root = null;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Compose(LoadSettings.builder().setLabel(file.toString()).build()).composeReader(in).orElse(null);
        } catch (MarkedYamlEngineException e) {
            config.problems.add(new ConfigProblem(config.where(e.getProblemMark().orElse(null)), "not valid YAML: " + e.getProblem()));
        } catch (YamlEngineException e) {
            config.problems.add(new ConfigProblem(file.toString(), "not valid YAML: " + e.getMessage()));
        } catch (IOException e) {
            config.problems.add(new ConfigProblem(file.toString(), "cannot read it: " + e.getMessage()));
        }
        if (root != null) {
            config.readTop(root, globalKeys);
        }
        return config;
    }

    public String fileName() {
        return fileName;
    }

    /** The top-level keys that are flags' names, in file order. */
    public List<Setting> globals() {
        return globals;
    }

    /** Adds a problem with a global setting found by whoever converts it. */
    public void problem(Setting setting, String message) {
        problems.add(new ConfigProblem(setting.where(), message));
    }

    private void readTop(Node root, Set<String> globalKeys) {
        List<String> known = new ArrayList<>(globalKeys);
        known.add("upstreams");
        known.add("routes");
        Map<String, NodeTuple> top = mapping(root, "the file", known);
        if (top == null) {
            return;
        }
        top.forEach((key, tuple) -> {
            Node value = tuple.getValueNode();
            switch (key) {
                case "upstreams" -> upstreams = value;
                case "routes" -> routes = value;
                default -> {
                    List<String> values = scalarOrList(key, value);
                    if (values != null) {
                        globals.add(new Setting(key, values, where(value)));
                    }
                }
            }
        });
    }

    /**
     * The upstreams and routes, each upstream's unset keys taken from {@code defaults} (the flags and the
     * file's global keys); without {@code upstreams:}, {@code defaults} itself is the one upstream.
     *
     * @throws ConfigException with every problem found in the file, if there is any
     */
    public GatewayConfig gateway(UpstreamConfig defaults) {
        List<UpstreamConfig> built = new ArrayList<>();
        if (upstreams == null) {
            if (defaults.backends().isEmpty()) {
                problems.add(new ConfigProblem(fileName, "no backend: add upstreams: with a backend list, or a backend: key"));
            } else {
                built.add(defaults);
                checkStrategy(defaults, fileName);
            }
        } else {
            if (globals.stream().anyMatch(setting -> setting.key().equals("backend") || setting.key().equals("backup"))) {
                problems.add(new ConfigProblem(where(upstreams), "backend: and backup: go inside each upstream when the file has upstreams:"));
            }
            Map<String, NodeTuple> named = mapping(upstreams, "upstreams:", null);
            if (named != null) {
                if (named.isEmpty()) {
                    problems.add(new ConfigProblem(where(upstreams), "upstreams: is empty; name at least one, like  api: { backend: [\"http://127.0.0.1:9001\"] }"));
                }
                named.forEach((name, tuple) -> {
                    UpstreamConfig upstream = upstream(name, tuple, defaults);
                    if (upstream != null) {
                        built.add(upstream);
                    }
                });
            }
        }
        List<RouteConfig> routeList = new ArrayList<>();
        if (routes == null) {
            if (built.size() == 1) {
                routeList.add(RouteConfig.catchAll(built.get(0).name()));
            } else if (built.size() > 1) {
                problems.add(new ConfigProblem(where(upstreams), "with more than one upstream, add routes: to say which requests go where"));
            }
        } else if (routes instanceof SequenceNode sequence) {
            Set<String> names = new java.util.HashSet<>();
            built.forEach(upstream -> names.add(upstream.name()));
            if (upstreams != null && named(upstreams) != null) {
                names.addAll(named(upstreams)); // a broken upstream is reported once, not again by each route to it
            } else if (upstreams == null) {
                names.add(defaults.name());
            }
            for (Node item : sequence.getValue()) {
                RouteConfig route = route(item, names, "route-" + (routeList.size() + 1));
                if (route != null) {
                    routeList.add(route);
                }
            }
        } else {
            problems.add(new ConfigProblem(where(routes), "routes: must be a list (each item starts with -), got " + kind(routes)));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new GatewayConfig(built, routeList, fileName);
    }

    private UpstreamConfig upstream(String name, NodeTuple tuple, UpstreamConfig defaults) {
        String at = where(tuple.getKeyNode());
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            problems.add(new ConfigProblem(at, "upstream name '" + name + "' may only hold letters, digits, '.', '_' and '-'"));
        }
        Map<String, NodeTuple> keys = mapping(tuple.getValueNode(), "upstream '" + name + "'", UPSTREAM_KEYS);
        if (keys == null) {
            return null;
        }
        int before = problems.size();
        List<UpstreamConfig.Address> backends = addresses(keys.get("backend"));
        List<UpstreamConfig.Address> backups = addresses(keys.get("backup"));
        if (backends.isEmpty() && keys.get("backend") != null || keys.get("backend") == null) {
            if (problems.size() == before) {
                problems.add(new ConfigProblem(at, "upstream '" + name + "' has no backend; add  backend: [\"http://127.0.0.1:9001\"]"));
            }
        }
        UpstreamConfig.Picking picking = defaults.picking();
        String strategy = text(keys.get("strategy"), picking.strategy());
        if (Strategies.byName(strategy).isEmpty()) {
            problems.add(new ConfigProblem(where(keys.get("strategy").getValueNode()),
                    "strategy: unknown strategy '" + strategy + "'; choose one of: " + Strategies.names()));
            strategy = picking.strategy();
        }
        picking = new UpstreamConfig.Picking(strategy, text(keys.get("hash-key"), picking.hashKey()),
                number(keys.get("hash-balance-factor"), picking.balanceFactor(), 1.0, 100.0, false),
                keys.containsKey("seed") ? Long.valueOf((long) number(keys.get("seed"), 0, Long.MIN_VALUE, Long.MAX_VALUE, true)) : picking.seed());

        HealthSettings health = defaults.health();
        HealthChecks checks = health.checks();
        String healthPath = text(keys.get("health-path"), checks.path());
        if (healthPath != null && !healthPath.startsWith("/")) {
            problems.add(new ConfigProblem(where(keys.get("health-path").getValueNode()), "health-path must start with /, like /health"));
        }
        checks = new HealthChecks(healthPath, duration(keys.get("health-interval"), checks.interval(), false),
                duration(keys.get("health-timeout"), checks.timeout(), false),
                (int) number(keys.get("rise"), checks.rise(), 1, 1000, true), (int) number(keys.get("fall"), checks.fall(), 1, 1000, true));
        PassiveEjection ejection = health.ejection();
        ejection = new PassiveEjection((int) number(keys.get("max-fails"), ejection.maxFails(), 0, 1_000_000, true),
                duration(keys.get("fail-timeout"), ejection.failTimeout(), false), ejection.maxEjectedPercent());
        health = new HealthSettings(checks, ejection, duration(keys.get("slow-start"), health.slowStart(), true),
                bool(keys.get("panic"), health.panic()));
        UpstreamConfig upstream = new UpstreamConfig(name, backends, backups, picking, health,
                (int) number(keys.get("max-conns"), defaults.maxConns(), 0, Integer.MAX_VALUE, true),
                (int) number(keys.get("retry-budget"), defaults.retryBudget(), 0, 100, true), backendTrust(keys, name, at));
        checkStrategy(upstream, at);
        return upstream;
    }

    /** The upstream's own backend-ca / backend-insecure; the CA file's contents are read (and judged) by the proxy. */
    private UpstreamConfig.BackendTrust backendTrust(Map<String, NodeTuple> keys, String name, String at) {
        String ca = text(keys.get("backend-ca"), null);
        Boolean insecure = keys.containsKey("backend-insecure") ? bool(keys.get("backend-insecure"), false) : null;
        if (ca != null && Boolean.TRUE.equals(insecure)) {
            problems.add(new ConfigProblem(at, "upstream '" + name + "': give backend-ca or backend-insecure, not both"));
            return UpstreamConfig.BackendTrust.FROM_FLAGS;
        }
        if (ca != null && !Files.isReadable(Path.of(ca))) {
            problems.add(new ConfigProblem(where(keys.get("backend-ca").getValueNode()), "backend-ca: cannot read " + ca + " (no such file?)"));
            return UpstreamConfig.BackendTrust.FROM_FLAGS;
        }
        return new UpstreamConfig.BackendTrust(ca == null ? null : Path.of(ca), insecure);
    }

    /** A strategy that cannot read its options (a hash key it does not understand) is this upstream's problem. */
    private void checkStrategy(UpstreamConfig upstream, String at) {
        try {
            upstream.picking().create();
        } catch (IllegalArgumentException e) {
            problems.add(new ConfigProblem(at, "upstream '" + upstream.name() + "': " + e.getMessage()));
        }
    }

    private RouteConfig route(Node item, Set<String> upstreamNames, String defaultName) {
        Map<String, NodeTuple> keys = mapping(item, "a route", ROUTE_KEYS);
        if (keys == null) {
            return null;
        }
        String at = where(item);
        String name = text(keys.get("name"), defaultName);
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            problems.add(new ConfigProblem(where(keys.get("name").getValueNode()), "name: '" + name + "' may only hold letters, digits, '.', '_' and '-'"));
        }
        String host = text(keys.get("host"), null);
        if (host != null) {
            host = host.toLowerCase(Locale.ROOT);
            String problem = RouteConfig.hostProblem(host);
            if (problem != null) {
                problems.add(new ConfigProblem(where(keys.get("host").getValueNode()), "host: " + problem));
            }
        }
        String path = text(keys.get("path"), "/");
        if (!path.startsWith("/")) {
            problems.add(new ConfigProblem(where(keys.get("path").getValueNode()), "path: '" + path + "' must start with /, like /api"));
        }
        String method = text(keys.get("method"), null);
        if (method != null) {
            method = method.toUpperCase(Locale.ROOT);
            if (!method.matches("[A-Z]+")) {
                problems.add(new ConfigProblem(where(keys.get("method").getValueNode()), "method: '" + method + "' is not a method, like GET"));
            }
        }
        String headerName = null;
        String headerValue = null;
        String header = text(keys.get("header"), null);
        if (header != null) {
            int colon = header.indexOf(':');
            headerName = (colon < 0 ? header : header.substring(0, colon)).trim();
            headerValue = colon < 0 ? null : header.substring(colon + 1).trim();
            if (!headerName.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                problems.add(new ConfigProblem(where(keys.get("header").getValueNode()),
                        "header: '" + header + "' is not a header; write NAME or NAME: VALUE, like X-Canary: 1"));
            }
        }
        String upstream = text(keys.get("upstream"), null);
        if (upstream == null) {
            if (keys.get("upstream") == null) {
                problems.add(new ConfigProblem(at, "a route needs upstream: NAME"));
            }
        } else if (!upstreamNames.contains(upstream)) {
            problems.add(new ConfigProblem(where(keys.get("upstream").getValueNode()), "upstream: no upstream is named '" + upstream + "'"
                    + (upstreamNames.isEmpty() ? "" : "; the upstreams are " + String.join(", ", upstreamNames.stream().sorted().toList()))));
        }
        String strip = text(keys.get("strip-prefix"), null);
        if (strip != null && (!strip.startsWith("/") || !path.startsWith(strip))) {
            problems.add(new ConfigProblem(where(keys.get("strip-prefix").getValueNode()),
                    "strip-prefix: '" + strip + "' must start with / and begin the route's path '" + path + "'"));
        }
        return new RouteConfig(name, host, path, method, headerName, headerValue, upstream, strip,
                headerChanges(keys.get("request-headers")), headerChanges(keys.get("response-headers")), at);
    }

    private RouteConfig.HeaderChanges headerChanges(NodeTuple tuple) {
        if (tuple == null) {
            return RouteConfig.HeaderChanges.NONE;
        }
        String key = scalarText(tuple.getKeyNode());
        Map<String, NodeTuple> keys = mapping(tuple.getValueNode(), key + ":", HEADER_CHANGE_KEYS);
        if (keys == null) {
            return RouteConfig.HeaderChanges.NONE;
        }
        Map<String, String> set = new LinkedHashMap<>();
        NodeTuple setTuple = keys.get("set");
        if (setTuple != null) {
            Map<String, NodeTuple> headers = mapping(setTuple.getValueNode(), key + ": set:", null);
            if (headers != null) {
                headers.forEach((name, header) -> {
                    String value = text(header, null);
                    if (value != null) {
                        set.put(name, value);
                    }
                });
            }
        }
        List<String> remove = keys.get("remove") == null ? List.of() : scalarOrList("remove", keys.get("remove").getValueNode());
        return new RouteConfig.HeaderChanges(set, remove == null ? List.of() : remove);
    }

    private List<UpstreamConfig.Address> addresses(NodeTuple tuple) {
        List<UpstreamConfig.Address> addresses = new ArrayList<>();
        if (tuple == null) {
            return addresses;
        }
        List<String> values = scalarOrList(scalarText(tuple.getKeyNode()), tuple.getValueNode());
        if (values == null) {
            return addresses;
        }
        for (String value : values) {
            try {
                Backend backend = BackendSpec.parse(value);
                addresses.add(new UpstreamConfig.Address(backend.uri(), backend.weight()));
            } catch (IllegalArgumentException e) {
                problems.add(new ConfigProblem(where(tuple.getValueNode()), scalarText(tuple.getKeyNode()) + ": " + e.getMessage()));
            }
        }
        return addresses;
    }

    // The value readers below report a problem and return the default, so one bad value never hides the next.

    private String text(NodeTuple tuple, String otherwise) {
        if (tuple == null) {
            return otherwise;
        }
        Node value = tuple.getValueNode();
        if (!(value instanceof ScalarNode scalar) || Tag.NULL.equals(value.getTag())) {
            problems.add(new ConfigProblem(where(value), scalarText(tuple.getKeyNode()) + ": expected a single value, got " + kind(value)));
            return otherwise;
        }
        return scalar.getValue().trim();
    }

    private double number(NodeTuple tuple, double otherwise, double min, double max, boolean whole) {
        String text = text(tuple, null);
        if (text == null) {
            return otherwise;
        }
        try {
            double value = whole ? Long.parseLong(text) : Double.parseDouble(text);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // below
        }
        problems.add(new ConfigProblem(where(tuple.getValueNode()), scalarText(tuple.getKeyNode()) + ": '" + text + "' is not "
                + (whole ? "a whole number" : "a number") + " from " + format(min) + " to " + format(max)));
        return otherwise;
    }

    private static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
    }

    private Duration duration(NodeTuple tuple, Duration otherwise, boolean zeroAllowed) {
        String text = text(tuple, null);
        if (text == null) {
            return otherwise;
        }
        try {
            Duration value = Units.parseDuration(text);
            if (!value.isZero() || zeroAllowed) {
                return value;
            }
            problems.add(new ConfigProblem(where(tuple.getValueNode()), scalarText(tuple.getKeyNode()) + ": must be more than 0"));
        } catch (IllegalArgumentException e) {
            problems.add(new ConfigProblem(where(tuple.getValueNode()), scalarText(tuple.getKeyNode()) + ": " + e.getMessage()));
        }
        return otherwise;
    }

    private boolean bool(NodeTuple tuple, boolean otherwise) {
        String text = text(tuple, null);
        if (text == null) {
            return otherwise;
        }
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        problems.add(new ConfigProblem(where(tuple.getValueNode()), scalarText(tuple.getKeyNode()) + ": '" + text + "' is not true or false"));
        return otherwise;
    }

    /** A scalar as a one-element list, or a list of scalars; null (and a problem) for anything else. */
    private List<String> scalarOrList(String key, Node value) {
        if (value instanceof ScalarNode scalar && !Tag.NULL.equals(value.getTag())) {
            return List.of(scalar.getValue().trim());
        }
        if (value instanceof SequenceNode sequence) {
            List<String> values = new ArrayList<>();
            for (Node item : sequence.getValue()) {
                if (item instanceof ScalarNode scalar && !Tag.NULL.equals(item.getTag())) {
                    values.add(scalar.getValue().trim());
                } else {
                    problems.add(new ConfigProblem(where(item), key + ": expected a single value in the list, got " + kind(item)));
                }
            }
            return values;
        }
        problems.add(new ConfigProblem(where(value), key + ": expected a value or a list of values, got " + kind(value)));
        return null;
    }

    /**
     * A mapping's entries by key in file order; unknown keys (when {@code known} is given) and duplicate keys
     * are problems, each unknown key with the nearest known one. Null (and a problem) when it is no mapping.
     */
    private Map<String, NodeTuple> mapping(Node node, String what, List<String> known) {
        if (!(node instanceof MappingNode mapping)) {
            if (Tag.NULL.equals(node.getTag()) && known != null) {
                return Map.of(); // "key:" with nothing after it: an empty section
            }
            problems.add(new ConfigProblem(where(node), what + " must be a mapping (KEY: VALUE lines), got " + kind(node)));
            return null;
        }
        Map<String, NodeTuple> entries = new LinkedHashMap<>();
        Map<String, Node> firstSeen = new HashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            String key = scalarText(tuple.getKeyNode());
            if (known != null && !known.contains(key)) {
                problems.add(new ConfigProblem(where(tuple.getKeyNode()), "unknown key '" + key + "' in " + what + "; did you mean '"
                        + nearest(key, known) + "'?"));
                continue;
            }
            Node first = firstSeen.putIfAbsent(key, tuple.getKeyNode());
            if (first != null) {
                String thing = what.equals("upstreams:") ? "upstream '" + key + "'" : "key '" + key + "'";
                problems.add(new ConfigProblem(where(tuple.getKeyNode()), "duplicate " + thing + " in " + what + " (first at line " + (first.getStartMark().map(mark -> mark.getLine() + 1).orElse(0)) + ")"));
                continue;
            }
            entries.put(key, tuple);
        }
        return entries;
    }

    /** The upstreams' names as written, or null when upstreams: is no mapping. */
    private static List<String> named(Node node) {
        if (!(node instanceof MappingNode mapping)) {
            return null;
        }
        List<String> names = new ArrayList<>();
        mapping.getValue().forEach(tuple -> names.add(scalarText(tuple.getKeyNode())));
        return names;
    }

    private static String scalarText(Node node) {
        return node instanceof ScalarNode scalar ? scalar.getValue() : "(" + kind(node) + ")";
    }

    private static String kind(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return Tag.NULL.equals(node.getTag()) ? "nothing" : "'" + ((ScalarNode) node).getValue() + "'";
    }

    private String where(Node node) {
        return where(node.getStartMark().orElse(null));
    }

    private String where(Mark mark) {
        return mark == null ? fileName : fileName + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
    }

    /** The known key closest to {@code key} by edit distance (Levenshtein), for "did you mean". */
    static String nearest(String key, List<String> known) {
        String best = known.get(0);
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = distance(key, candidate);
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
