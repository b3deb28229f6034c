///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION The strategy lab: races strategies on the same seeded open-loop workload over demo backends, and shows who wins.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS io.undertow:undertow-core:2.4.4.Final
//DEPS org.bouncycastle:bcpkix-jdk18on:1.87
//DEPS org.snakeyaml:snakeyaml-engine:3.2
//SOURCES Scenario.java Workload.java LabRun.java Report.java SimulatedLab.java Sweeps.java
//SOURCES sim/BackendSpec.java sim/EventHeap.java sim/Service.java sim/SimClock.java sim/SimRequest.java sim/SimResult.java sim/Simulation.java sim/Station.java
// Listed by name (a script run from a remote catalog alias cannot expand globs); the strategies' registry
// lists its own folder. Not ../LoadBalancer.java: the lab needs neither the admin port nor its JVM options.
//SOURCES ../model/Backend.java ../model/BackendHealth.java ../model/BackendPool.java ../model/BackendSpec.java ../model/Candidates.java
//SOURCES ../model/FixedRequest.java ../model/HealthChecks.java ../model/HealthMonitor.java ../model/PoolEvent.java ../model/HealthSettings.java ../model/LatencyTracker.java ../model/PassiveEjection.java
//SOURCES ../model/Failure.java ../model/FailurePolicy.java ../model/RequestView.java ../model/RetryBudget.java ../model/Route.java ../model/Routing.java ../model/Strategy.java
//SOURCES ../strategies/Strategies.java
//SOURCES ../proxy/ProxyServer.java ../proxy/ProxySettings.java ../proxy/ProcessSignals.java ../admin/OwnAddress.java
//SOURCES ../proxy/listen/ClientConnectionCap.java ../proxy/request/RequestFramingGuard.java ../proxy/upstream/Upstream.java
//SOURCES ../proxy/exchange/GatewayHandler.java ../proxy/observe/AccessLog.java
//SOURCES ../config/ConfigException.java ../config/ConfigFile.java ../config/ConfigProblem.java ../config/GatewayConfig.java ../config/RouteConfig.java
//SOURCES ../config/RouteTable.java ../config/UpstreamConfig.java
//SOURCES ../tls/CertificateFiles.java ../tls/CertificateProblem.java ../tls/KeyMatch.java ../tls/SelfSigned.java ../tls/ServerCertificate.java ../tls/ServerTls.java ../tls/SniKeyManager.java ../tls/TlsListenerOptions.java ../tls/BackendTls.java
//SOURCES ../text/Json.java ../text/Units.java
//SOURCES ../backends-demo/DemoServer.java

package lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import lab.sim.Service;
import lab.sim.Simulation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import proxy.observe.UndertowLogging;
import strategies.Strategies;

/**
 * Runs every selected strategy through the same scenario and the same seeded workload, with real HTTP
 * through the real load balancer, and prints one table per scenario plus an HTML report.
 */
@Command(name = "strategy-lab", mixinStandardHelpOptions = true, version = "strategy-lab 0.1",
        description = "Races load-balancing strategies on the same seeded, open-loop workload over demo backends.",
        footer = {"", "Scenarios live in lab/scenarios/*.properties; copy one to make your own and pass its path.",
                "Example: ./jbang lab/StrategyLab.java --scenario one-slow --scenario flaky --strategies round-robin,least-latency",
                "Example: ./jbang lab/StrategyLab.java --simulate --backends 10 --service exp:10ms --load 0.9 --strategies random,power-of-two,least-connections"})
public class StrategyLab implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "NAME|FILE",
            description = "A scenario from lab/scenarios, or a .properties file; repeatable (default: one-slow; with --simulate, --backends equal ones).")
    List<String> scenarios;

    @Option(names = "--simulate", description = "Simulate in simulated time instead of racing real HTTP: the same strategy classes, seconds for a million requests.")
    boolean simulate;

    @Option(names = "--backends", paramLabel = "N", defaultValue = "10", description = "With --simulate and no --scenario: N equal backends, 1 to 10000 (default: ${DEFAULT-VALUE}).")
    int backends;

    @Option(names = "--service", paramLabel = "DIST", defaultValue = "exp:10ms",
            description = "With --simulate: service time, const:10ms, exp:10ms or lognormal:10ms,1.5; a scenario's delays set the means (default: ${DEFAULT-VALUE}).")
    String service;

    @Option(names = "--slots", paramLabel = "K", defaultValue = "1", description = "With --simulate: requests a backend serves at once; the rest wait in its FIFO queue (default: ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--load", paramLabel = "RHO", defaultValue = "0.7", description = "With --simulate: offered load as a share of total capacity, above 0 and below 1 (default: ${DEFAULT-VALUE}).")
    double load;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "100000", description = "With --simulate: requests to simulate, 1000 to 50000000 (default: ${DEFAULT-VALUE}).")
    int requests;

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
        CommandLine cli = new CommandLine(new StrategyLab());
        cli.setParameterExceptionHandler((e, arguments) -> { // one line naming the flag, as LoadBalancer.java does
            e.getCommandLine().getErr().println("error: " + e.getMessage() + " (see --help)");
            return e.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
        });
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<Strategies.Entry> entries = new ArrayList<>();
        for (String name : strategies == null ? Strategies.ALL.stream().map(Strategies.Entry::name).toList() : strategies) {
            entries.add(Strategies.byName(name.trim()).orElseThrow(() -> new CommandLine.ParameterException(new CommandLine(this),
                    "--strategies: unknown strategy '" + name + "'; choose from " + Strategies.names())));
        }
        if (simulate) {
            System.out.print(simulate(entries));
            return 0;
        }
        if (scenarios == null) {
            scenarios = List.of("one-slow");
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
        List<SimulatedLab> simulated = new ArrayList<>();
        for (String name : scenarios) {
            Scenario scenario = Scenario.load(scenarioFile(name));
            List<LabRun.Result> scenarioResults = new ArrayList<>();
            for (int run = 0; run < repeat; run++) {
                Workload workload = Workload.forRun(seed, run, rate, seconds, scenario.zipf());
                for (Strategies.Entry entry : entries) {
                    System.err.println("running " + entry.name() + " on " + scenario.name() + " (run " + (run + 1) + " of " + repeat + ")...");
                    scenarioResults.add(LabRun.run(scenario, entry, workload, Workload.seedOfRun(seed, run)));
                }
            }
            System.err.println("simulating " + scenario.name() + "...");
            SimulatedLab sim = SimulatedLab.of(scenario, entries, seed);
            loaded.add(scenario);
            results.add(scenarioResults);
            simulated.add(sim);
            System.out.print(Report.table(scenario, scenarioResults, sim));
        }
        Path absolute = report.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Files.writeString(absolute, Report.html(loaded, results, simulated, seed));
        System.out.println("\nreport: " + absolute);
        return 0;
    }

    /** The --simulate output: per setup, a header line, then one line per strategy. Same flags and seed, same text. */
    String simulate(List<Strategies.Entry> entries) throws IOException {
        Service shape;
        try {
            shape = Service.parse(service);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
        if (!(load > 0 && load < 1)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--load must be above 0 and below 1 (a share of capacity, 0.7 is 70%), got " + load);
        }
        if (slots < 1 || slots > 10_000) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--slots must be 1 to 10000, got " + slots);
        }
        if (requests < 1_000 || requests > 50_000_000) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--requests must be 1000 to 50000000, got " + requests);
        }
        if (backends < 1 || backends > 10_000) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--backends must be 1 to 10000, got " + backends);
        }
        StringBuilder out = new StringBuilder();
        List<String> names = scenarios == null ? List.of() : scenarios;
        List<Simulation.Setup> setups = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (String name : names) {
            Scenario scenario = Scenario.load(scenarioFile(name));
            setups.add(scenario.simulated(shape, slots, load, requests, seed));
            titles.add("scenario " + scenario.name() + " (" + scenario.description() + ")");
        }
        if (names.isEmpty()) {
            setups.add(Simulation.Setup.uniform(backends, shape, slots, load, requests, seed));
            titles.add(backends + " equal backends");
        }
        for (int i = 0; i < setups.size(); i++) {
            String served = names.isEmpty() ? "service " + shape : "service " + shape.kind() + " around each backend's delay";
            out.append(String.format(Locale.ROOT, "# %s; %s, %d slot(s), load %.2f, %d requests (first tenth not measured), seed %d%n",
                    titles.get(i), served, slots, load, requests, seed));
            for (Strategies.Entry entry : entries) {
                out.append(Simulation.run(setups.get(i), entry).line()).append('\n');
            }
        }
        return out.toString();
    }

    private Path scenarioFile(String name) {
        Path file = name.endsWith(".properties") ? Path.of(name) : scenarioFolder().resolve(name + ".properties");
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--scenario: no " + file + "; the built-in ones are in " + scenarioFolder());
        }
        return file;
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
