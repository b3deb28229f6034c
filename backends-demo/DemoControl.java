package demo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Breaks and heals the demo backends this process started, by calling them directly: the admin
 * dashboard's break and heal buttons use it, so they can never be turned into requests to an
 * arbitrary host:port that someone added to the pool. Thread-safe: an immutable map of servers whose
 * faults are swapped atomically.
 */
public final class DemoControl {
    private final Map<String, DemoServer> byName;

    /** @param servers the demo backends this process started, named as the pool names them ("127.0.0.1:PORT") */
    public DemoControl(List<DemoServer> servers) {
        this.byName = servers.stream().collect(Collectors.toUnmodifiableMap(server -> "127.0.0.1:" + server.port(), Function.identity()));
    }

    /** None: break and heal refuse every backend. */
    public static DemoControl none() {
        return new DemoControl(List.of());
    }

    /** Makes the demo backend {@code name} ("127.0.0.1:PORT") reset every connection before answering. */
    public void breakBackend(String name) {
        demoNamed(name).setFaults(new DemoServer.Faults(Duration.ZERO, Duration.ZERO, 0, DemoServer.Mode.RESET));
    }

    /** Makes the demo backend {@code name} answer at once and without errors again. */
    public void heal(String name) {
        demoNamed(name).setFaults(DemoServer.Faults.NONE);
    }

    private DemoServer demoNamed(String name) {
        DemoServer server = byName.get(name);
        if (server == null) {
            throw new IllegalArgumentException(name + " is not a demo backend started by this load balancer; break and heal work only on those"
                    + (byName.isEmpty() ? " (none was started: they start when no --backend is given)" : " (" + String.join(", ", byName.keySet()) + ")"));
        }
        return server;
    }
}
