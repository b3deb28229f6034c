package demo;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo backends the load balancer starts when it is given no --backend: {@code count} of them on
 * free loopback ports, named demo-1, demo-2..., answering at once and without faults until the
 * dashboard breaks one through {@link #control()}. Thread-safe: the list is fixed at start.
 */
public final class DemoBackends {
    private final List<DemoServer> servers;

    private DemoBackends(List<DemoServer> servers) {
        this.servers = List.copyOf(servers);
    }

    /** Starts {@code count} demo backends; none for 0. */
    public static DemoBackends start(int count) {
        List<DemoServer> servers = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            servers.add(DemoServer.start("demo-" + i, 0, DemoServer.Faults.NONE));
        }
        return new DemoBackends(servers);
    }

    public boolean isEmpty() {
        return servers.isEmpty();
    }

    public List<DemoServer> servers() {
        return servers;
    }

    /** Their URLs, in start order: what the pool balances over. */
    public List<String> urls() {
        return servers.stream().map(DemoServer::url).toList();
    }

    /** Break and heal for these backends only, for the admin dashboard. */
    public DemoControl control() {
        return new DemoControl(servers);
    }

    public void stop() {
        servers.forEach(DemoServer::stop);
    }
}
