///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION The strategy lab: races strategies on the same seeded open-loop workload over demo backends, and shows who wins.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS io.undertow:undertow-core:2.4.4.Final
//DEPS org.snakeyaml:snakeyaml-engine:3.2
//SOURCES Scenario.java Workload.java LabRun.java Report.java
// Listed by name (a script run from a remote catalog alias cannot expand globs); the strategies' registry
// lists its own folder. Not ../LoadBalancer.java: the lab needs neither the admin port nor its JVM options.
//SOURCES ../model/Backend.java ../model/BackendHealth.java ../model/BackendPool.java ../model/BackendSpec.java ../model/Candidates.java
//SOURCES ../model/FixedRequest.java ../model/HealthChecks.java ../model/HealthMonitor.java ../model/HealthSettings.java ../model/LatencyTracker.java ../model/PassiveEjection.java
//SOURCES ../model/Failure.java ../model/FailurePolicy.java ../model/RequestView.java ../model/RetryBudget.java ../model/Route.java ../model/Routing.java ../model/Strategy.java
//SOURCES ../strategies/Strategies.java
//SOURCES ../proxy/AccessLog.java ../proxy/EventLog.java ../proxy/ForwardedHeaders.java ../proxy/OwnAddress.java ../proxy/ProcessSignals.java
//SOURCES ../proxy/Attempts.java ../proxy/BackendConnections.java ../proxy/BackendSettings.java ../proxy/BalancingProxyClient.java
//SOURCES ../proxy/CompletedRequest.java ../proxy/ErrorResponses.java ../proxy/ExchangeRequestView.java ../proxy/GatewayHandler.java
//SOURCES ../proxy/HopByHopHeaders.java ../proxy/ProxyServer.java ../proxy/ProxySettings.java ../proxy/Router.java ../proxy/Upstream.java
//SOURCES ../config/ConfigException.java ../config/ConfigFile.java ../config/ConfigProblem.java ../config/GatewayConfig.java ../config/RouteConfig.java
//SOURCES ../config/RouteTable.java ../config/UpstreamConfig.java
//SOURCES ../proxy/ThreadLocalBufferPool.java ../proxy/LazyReadSuspension.java
//SOURCES ../proxy/ClientFault.java ../proxy/RequestFramingGuard.java ../proxy/StrictChunkedDecoder.java ../proxy/RequestBodyWatch.java ../proxy/AbsoluteFormTarget.java ../proxy/BackendConnectionAbort.java ../proxy/ParseFailureAnswer.java
//SOURCES ../proxy/ResponseHeadGuard.java ../proxy/ResponseTimeout.java ../proxy/FailureHook.java ../proxy/TrafficObserver.java ../proxy/UndertowLogging.java
//SOURCES ../text/Json.java ../text/Units.java
//SOURCES ../backends-demo/DemoServer.java

package lab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import proxy.UndertowLogging;
import strategies.Strategies;

/**
 * Runs every selected strategy through the same scenario and the same seeded workload, with real HTTP
 * through the real load balancer, and prints one table per scenario plus an HTML report.
 */
@Command(name = "strategy-lab", mixinStandardHelpOptions = true, version = "strategy-lab 0.1",
        description = "Races load-balancing strategies on the same seeded, open-loop workload over demo backends.",
        footer = {"", "Scenarios live in lab/scenarios/*.properties; copy one to make your own and pass its path.",
                "Example: ./jbang lab/StrategyLab.java --scenario one-slow --scenario flaky --strategies round-robin,least-latency"})
public class StrategyLab implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "NAME|FILE", defaultValue = "one-slow",
            description = "A scenario from lab/scenarios, or a .properties file; repeatable (default: ${DEFAULT-VALUE}).")
    List<String> scenarios;

    @Option(names = "--strategies", paramLabel = "A,B,...", split = ",", description = "Strategies to race (default: all).")
    List<String> strategies;

    @Option(names = "--rate", paramLabel = "PER_SECOND", defaultValue = "200", description = "Requests per second, arriving at random (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "3", description = "Length of each run (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Runs per strategy, each with its own seed (seed, seed+1, ...): the report shows the spread and warns when runs disagree (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--seed", defaultValue = "42", description = "Same seed, same workload (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "target/strategy-lab.html", description = "Where to write the HTML report (default: ${DEFAULT-VALUE}).")
    Path report;

    public static void main(String[] args) {
        UndertowLogging.quiet();
        System.exit(new CommandLine(new StrategyLab()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<Strategies.Entry> entries = new ArrayList<>();
        for (String name : strategies == null ? Strategies.ALL.stream().map(Strategies.Entry::name).toList() : strategies) {
            entries.add(Strategies.byName(name.trim()).orElseThrow(() -> new CommandLine.ParameterException(new CommandLine(this),
                    "--strategies: unknown strategy '" + name + "'; choose from " + Strategies.names())));
        }
        if (repeat < 1 || repeat > 20) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--repeat must be 1 to 20, got " + repeat);
        }
        if (rate <= 0 || seconds <= 0 || rate * seconds > 100_000) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--rate and --seconds must be positive, and rate × seconds at most 100000");
        }
        System.err.println("warming up the JVM...");
        LabRun.run(Scenario.load(scenarioFolder().resolve("uniform.properties")), Strategies.ALL.get(0),
                Workload.of(seed, rate, Math.min(seconds, 1), 0), seed); // so the first strategy is not measured cold
        List<Scenario> loaded = new ArrayList<>();
        List<List<LabRun.Result>> results = new ArrayList<>();
        for (String name : scenarios) {
            Path file = name.endsWith(".properties") ? Path.of(name) : scenarioFolder().resolve(name + ".properties");
            if (!Files.isRegularFile(file)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--scenario: no " + file + "; the built-in ones are in " + scenarioFolder());
            }
            Scenario scenario = Scenario.load(file);
            List<LabRun.Result> scenarioResults = new ArrayList<>();
            for (int run = 0; run < repeat; run++) {
                Workload workload = Workload.of(seed + run, rate, seconds, scenario.zipf());
                for (Strategies.Entry entry : entries) {
                    System.err.println("running " + entry.name() + " on " + scenario.name() + " (run " + (run + 1) + " of " + repeat + ")...");
                    scenarioResults.add(LabRun.run(scenario, entry, workload, seed + run));
                }
            }
            loaded.add(scenario);
            results.add(scenarioResults);
            System.out.print(Report.table(scenario, scenarioResults));
        }
        Path absolute = report.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Files.writeString(absolute, Report.html(loaded, results, seed));
        System.out.println("\nreport: " + absolute);
        return 0;
    }

    /** lab/scenarios beside this script, found from the working folder or the project root. */
    static Path scenarioFolder() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("lab/scenarios");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return Path.of("lab/scenarios");
    }
}
