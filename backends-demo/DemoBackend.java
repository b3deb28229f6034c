///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION Demo backends for the load balancer: each says who it is and echoes what it received.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS io.undertow:undertow-core:2.4.4.Final
//SOURCES DemoServer.java ../text/Json.java ../admin/OwnAddress.java ../proxy/request/DroppedRequestHeaders.java ../text/Units.java ../text/UnitConverters.java ../proxy/observe/UndertowLogging.java

package demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import proxy.observe.UndertowLogging;
import sun.misc.Signal;
import text.UnitConverters.DurationConverter;

/**
 * Starts one or more demo backends on loopback: {@code ./jbang backends-demo/DemoBackend.java --port 9001 --port 9002}
 * or {@code --count 3}. Each answers every request with its name and an echo of the request (see
 * {@link DemoServer}), and can be made slow or flaky on purpose to show how a strategy reacts.
 */
@Command(name = "demo-backend", mixinStandardHelpOptions = true, version = "demo-backend 0.1",
        description = "Starts demo HTTP backends on 127.0.0.1 that answer with their name and an echo of the request.",
        footer = {"", "Endpoints: any path echoes the request as JSON; /health answers ok; /bytes?n=N streams N bytes;",
                "/_control shows the faults, and POST /_control?delay=200ms&error-rate=0.1&mode=reset|hang|ok or ?kill=5s",
                "changes them while it runs; both need the header 'X-LB-Demo-Token: TOKEN', TOKEN printed at start (new each run).",
                "Durations need a unit: 250ms, 30s, 1m30s, 1h.",
                "Example: ./jbang backends-demo/DemoBackend.java --port 9001 --port 9002 --delay 50ms"})
public class DemoBackend implements Callable<Integer> {
    @Option(names = "--port", paramLabel = "PORT", description = "Port to listen on (repeatable; 0 picks a free port).")
    List<Integer> ports = new ArrayList<>();

    @Option(names = "--count", paramLabel = "N", description = "Start N backends on free ports (default: 1 if no --port).")
    int count;

    @Option(names = "--name", paramLabel = "PREFIX", defaultValue = "demo", description = "Name prefix; backends are PREFIX-1, PREFIX-2... (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--delay", paramLabel = "DURATION", defaultValue = "0ms", converter = DurationConverter.class,
            description = "Wait this long before answering, e.g. 200ms or 2s (default: ${DEFAULT-VALUE}).")
    Duration delay;

    @Option(names = "--jitter", paramLabel = "DURATION", defaultValue = "0ms", converter = DurationConverter.class,
            description = "Wait up to this much longer, at random (default: ${DEFAULT-VALUE}).")
    Duration jitter;

    @Option(names = "--error-rate", paramLabel = "FRACTION", defaultValue = "0",
            description = "Answer this share of requests with 500, from 0 to 1 (default: ${DEFAULT-VALUE}).")
    double errorRate;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "ok",
            description = "ok, reset (reset the connection before answering), reset-mid-body, or hang (never answer) (default: ${DEFAULT-VALUE}).")
    String mode;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoBackend()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        UndertowLogging.quiet(); // no dated INFO banners from Undertow and XNIO above our own lines
        DemoServer.Faults faults;
        try {
            faults = new DemoServer.Faults(delay, jitter, errorRate, DemoServer.Mode.parse(mode));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--" + e.getMessage());
        }
        List<Integer> wanted = new ArrayList<>(ports);
        for (int i = wanted.isEmpty() ? Math.max(count, 1) : count; i > 0; i--) {
            wanted.add(0);
        }
        List<DemoServer> servers = new ArrayList<>();
        for (int port : wanted) {
            DemoServer server = DemoServer.start(name + "-" + (servers.size() + 1), port, faults);
            servers.add(server);
            System.out.println(server.name() + " listening on " + server.url());
        }
        // Only who runs it sees the token: a load balancer in front never forwards the header that carries it.
        System.out.println("control: curl -X POST -H '" + DemoServer.TOKEN_HEADER + ": " + DemoServer.controlToken() + "' '"
                + servers.get(0).url() + "/_control?mode=reset'");
        // SIGTERM and Ctrl-C are how a demo backend is meant to stop: stop serving and exit 0. Left to the
        // JVM, they would run the shutdown hooks and exit 143 or 130, which reads as a failure.
        CountDownLatch stopped = new CountDownLatch(1);
        for (String signal : List.of("TERM", "INT")) {
            Signal.handle(new Signal(signal), received -> stopped.countDown());
        }
        stopped.await();
        servers.forEach(DemoServer::stop);
        return 0;
    }
}
