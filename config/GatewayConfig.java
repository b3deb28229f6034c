package config;

import java.util.ArrayList;
import java.util.List;

/**
 * What the proxy routes: its named upstreams and its routes in file order, built and validated whole
 * before anything uses it (from a file, or the command line's one upstream and catch-all route). The
 * listener's settings stay with the flags. Immutable: a reload builds a new one.
 *
 * @param source the file it was read from, or "command line"
 */
public record GatewayConfig(List<UpstreamConfig> upstreams, List<RouteConfig> routes, String source) {
    /** The name of the command line's one upstream. */
    public static final String DEFAULT_UPSTREAM = "default";

    public GatewayConfig {
        upstreams = List.copyOf(upstreams);
        routes = List.copyOf(routes);
    }

    /** The command line alone: one upstream, every request to it. */
    public static GatewayConfig single(UpstreamConfig upstream) {
        return new GatewayConfig(List.of(upstream), List.of(RouteConfig.catchAll(upstream.name())), "command line");
    }

    public UpstreamConfig upstream(String name) {
        for (UpstreamConfig upstream : upstreams) {
            if (upstream.name().equals(name)) {
                return upstream;
            }
        }
        return null;
    }

    /** Routes → upstreams → backends, as --check-config prints them. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (RouteConfig route : routes) {
            StringBuilder line = new StringBuilder("route ").append(route.describeMatch()).append(" -> upstream ").append(route.upstream());
            if (route.stripPrefix() != null) {
                line.append(" (strip ").append(route.stripPrefix()).append(')');
            }
            lines.add(line.toString());
        }
        for (UpstreamConfig upstream : upstreams) {
            UpstreamConfig.BackendTrust trust = upstream.backendTrust();
            lines.add("upstream " + upstream.name() + " (" + upstream.picking().strategy() + ")"
                    + (Boolean.TRUE.equals(trust.insecure()) ? " https:// backends unchecked (backend-insecure)"
                    : trust.ca() != null ? " https:// backends checked against " + trust.ca() : ""));
            upstream.backends().forEach(backend -> lines.add("  backend " + backend));
            upstream.backups().forEach(backup -> lines.add("  backup  " + backup));
        }
        return lines;
    }
}
