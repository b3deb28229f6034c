///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION An HTTP load balancer in one command: Undertow's reverse proxy over a pool of backends, with pluggable strategies.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS info.picocli:picocli:4.7.7
//DEPS io.undertow:undertow-core:2.4.4.Final
//DEPS io.prometheus:prometheus-metrics-core:1.10.0
//DEPS io.prometheus:prometheus-metrics-exposition-textformats:1.10.0
//DEPS io.prometheus:prometheus-metrics-instrumentation-jvm:1.10.0
//DEPS org.hdrhistogram:HdrHistogram:2.2.2
//DEPS org.webjars.npm:uplot:1.6.30
// Bouncy Castle reads the PEM keys the JDK cannot (PKCS#1, SEC1, encrypted) and signs --tls self-signed's certificate.
//DEPS org.bouncycastle:bcpkix-jdk18on:1.87
//DEPS org.snakeyaml:snakeyaml-engine:3.2
// Listed one by one, not as proxy/*.java: a script run from a remote catalog alias cannot expand globs.
// The strategies' registry lists the strategies' files in turn, so a new strategy touches only its folder.
//SOURCES model/Backend.java model/BackendHealth.java model/BackendPool.java model/BackendSpec.java model/Candidates.java
//SOURCES model/FixedRequest.java model/HealthChecks.java model/HealthMonitor.java model/PoolEvent.java model/HealthSettings.java model/LatencyTracker.java model/PassiveEjection.java
//SOURCES model/Failure.java model/FailurePolicy.java model/RequestView.java model/RetryBudget.java model/Route.java model/Routing.java model/Strategy.java
//SOURCES strategies/Strategies.java
//SOURCES tls/CertificateFiles.java tls/CertificateProblem.java tls/KeyMatch.java tls/SelfSigned.java tls/ServerCertificate.java tls/ServerTls.java tls/SniKeyManager.java tls/TlsListenerOptions.java tls/BackendTls.java
//SOURCES text/Json.java text/Units.java text/UnitConverters.java
//SOURCES config/ConfigException.java config/ConfigFile.java config/ConfigProblem.java config/GatewayConfig.java config/RouteConfig.java
//SOURCES config/RouteTable.java config/UpstreamConfig.java
//SOURCES proxy/ProxyServer.java proxy/ProxySettings.java proxy/ConfigReloader.java proxy/ProcessSignals.java admin/OwnAddress.java
//SOURCES proxy/listen/ClientConnectionCap.java proxy/request/RequestFramingGuard.java proxy/upstream/Upstream.java
//SOURCES proxy/exchange/GatewayHandler.java proxy/observe/AccessLog.java
//SOURCES admin/AdminAccess.java admin/AdminServer.java admin/Dashboard.java admin/History.java admin/LatencyRecorder.java admin/PrometheusMetrics.java admin/StatsReport.java admin/TrafficStats.java
//SOURCES backends-demo/DemoBackends.java backends-demo/DemoControl.java backends-demo/DemoServer.java
//JAVAC_OPTIONS -XDignore.symbol.file
//RUNTIME_OPTIONS -XX:+UseSerialGC -Xmx64m -Xmn8m -XX:MaxDirectMemorySize=256m -Xss256k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m
// Smaller C2 inlining: the compiler's arena memory, which glibc keeps once freed, set the peak RSS (the proxy
// path's largest compilations took 25-29 MiB each). Peak RSS 84-88 MiB instead of 104-108, CPU per request
// within the noise (README, Performance).
//RUNTIME_OPTIONS -XX:FreqInlineSize=200 -XX:InlineSmallCode=1500
// SIGQUIT's thread dump goes to this log instead of stdout, where ProcessSignals sees it and drains (HotSpot keeps SIGQUIT from Java).
//RUNTIME_OPTIONS -XX:+UnlockDiagnosticVMOptions -XX:-DisplayVMOutput -XX:+LogVMOutput -XX:LogFile=/tmp/loadbalancer-vm-%p.log

// A named package, because `jbang export fatjar` writes the main class into the jar's manifest with the
// JDK's jar tool, which refuses a class in the unnamed package.
package loadbalancer;

import admin.AdminServer;
import config.ConfigException;
import config.ConfigFile;
import config.ConfigProblem;
import config.GatewayConfig;
import config.UpstreamConfig;
import demo.DemoBackends;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.random.RandomGenerator;
import model.Backend;
import model.BackendPool;
import model.BackendSpec;
import model.HealthChecks;
import model.HealthSettings;
import model.PassiveEjection;
import model.Strategy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import proxy.observe.AccessLog;
import proxy.ConfigReloader;
import proxy.request.ForwardedHeaders;
import proxy.ProcessSignals;
import proxy.ProxyServer;
import proxy.listen.HttpsRedirect;
import proxy.listen.ProtocolSettings;
import proxy.ProxySettings;
import proxy.observe.UndertowLogging;
import strategies.Strategies;
import strategies.StrategyOptions;
import text.UnitConverters;
import text.UnitConverters.DurationConverter;
import text.UnitConverters.SizeConverter;
import text.Units;
import tls.CertificateProblem;
import tls.BackendTls;
import tls.ServerCertificate;
import tls.ServerTls;
import tls.TlsListenerOptions;

/**
 * The front door: the command line's options, then {@link #call()}, which checks them, starts the demo
 * backends if no --backend is given, the proxy, the admin API, and waits for a stop signal to drain.
 * picocli converts each value as it reads it (the converters at the end); {@link #validate()} holds
 * the rules between options. Runs once, on the main thread.
 */
@Command(name = "LoadBalancer", mixinStandardHelpOptions = true, version = "LoadBalancer 0.1 (Undertow 2.4.4.Final)",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Balances HTTP requests over a pool of backends. With no --backend, starts three demo backends to try it on.",
        footer = {"",
                "Backends are http://HOST:PORT or https://HOST:PORT, optionally with a weight from 1 to " + Backend.MAX_WEIGHT + ":",
                "  --backend http://127.0.0.1:9001 --backend http://127.0.0.1:9002,weight=3",
                "Durations need a unit: 250ms, 30s, 1m30s, 1h. Sizes: 64k, 10m, 1g.",
                "A file can say all this and more (named upstreams, host and path routes): --config lb.yaml;",
                "flags given beside it override its keys (docs/configuration.md).",
                "Signals: TERM, INT (Ctrl-C) and QUIT drain and exit 0; HUP reloads the --config file.",
                "",
                "The proxy answers these itself, with a short plain-text body:",
                "  502  a backend failed after it received the request",
                "  503  no backend could take the request",
                "  504  no answer within --timeout",
                "  413  a request body over --max-body-size",
                "",
                "Example: ${sys:loadbalancer.command:-./jbang LoadBalancer.java} --port 8080 --backend http://127.0.0.1:9001"})
public class LoadBalancer implements Callable<Integer> {
    /** The environment variable that may hold the admin token, out of sight of ps. */
    static final String ADMIN_TOKEN_VARIABLE = "LB_ADMIN_TOKEN";
    private static ProcessSignals signals;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read the configuration from this YAML file: the flags' settings by their long names, plus upstreams: and routes: (docs/configuration.md). Flags given beside it win.")
    Path configFile;

    @Option(names = "--check-config", description = "Check the configuration, print what it would run and exit 0; or print every problem, one a line, and exit 2.")
    boolean checkConfig;

    @Option(names = "--watch-config", description = "Reload the --config file whenever it changes (as SIGHUP and POST /reload do).")
    boolean watchConfig;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", defaultValue = "8080", converter = PortConverter.class,
            description = "Port to listen on, 0 for any free port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
            description = "Address to listen on; 127.0.0.1 keeps it private to this machine (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = {"-b", "--backend"}, paramLabel = "URL[,weight=N]", converter = BackendConverter.class,
            description = "A backend to balance over; repeat for each one.")
    List<Backend> backends = new ArrayList<>();

    @Option(names = "--backup", paramLabel = "URL[,weight=N]", converter = BackendConverter.class,
            description = "A backup backend: it gets requests only when no --backend can take them. Repeatable.")
    List<Backend> backups = new ArrayList<>();

    @Option(names = {"-s", "--strategy"}, paramLabel = "NAME", defaultValue = Strategies.DEFAULT, converter = StrategyConverter.class,
            completionCandidates = StrategyNames.class,
            description = "How to pick a backend: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, which follows weights; "
                    + "--list-strategies says what each does).")
    Strategies.Entry strategy;

    @Option(names = "--list-strategies", description = "List the strategies with a line on each, and exit.")
    boolean listStrategies;

    @Option(names = "--hash-key", paramLabel = "KEY",
            description = "What hash and consistent-hash hash on: client, path, header:NAME or cookie:NAME (default: client).")
    String hashKey;

    @Option(names = "--hash-balance-factor", paramLabel = "C", defaultValue = "1.25",
            description = "consistent-hash keeps every backend under C times its fair share of requests in flight (default: ${DEFAULT-VALUE}).")
    double balanceFactor;

    @Option(names = "--seed", paramLabel = "N", description = "Seed the random strategies, so a run can be repeated.")
    Long seed;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
            description = "Longest wait for a backend to start answering; 504 if it has not. An answer under way may take longer while data flows (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "A backend that has not accepted the connection by then is skipped for the next one (default: ${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
            description = "Close a client connection idle this long, or still sending its headers (default: ${DEFAULT-VALUE}).")
    Duration idleTimeout;

    @Option(names = "--body-timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
            description = "A request body that stops arriving this long gets 408 and its backend connection closed (default: ${DEFAULT-VALUE}).")
    Duration bodyTimeout;

    @Option(names = "--max-body-size", paramLabel = "SIZE", defaultValue = "1g", converter = SizeConverter.class,
            description = "Refuse larger request bodies with 413 (default: ${DEFAULT-VALUE}).")
    long maxBodySize;

    @Option(names = "--max-header-size", paramLabel = "SIZE", defaultValue = "64k", converter = SizeConverter.class,
            description = "Refuse requests whose headers are larger (default: ${DEFAULT-VALUE}).")
    long maxHeaderSize;

    @Option(names = "--max-response-header-size", paramLabel = "SIZE", defaultValue = "64k", converter = SizeConverter.class,
            description = "Answer 502 when a backend's response head (interim 1xx heads included) is larger (default: ${DEFAULT-VALUE}).")
    long maxResponseHeaderSize;

    @Option(names = "--max-client-conns", paramLabel = "N", defaultValue = "4096",
            description = "Client connections open at once, so a flood of connections cannot exhaust the proxy's memory; past it the one "
                    + "idle longest between requests is closed to make room, as nginx does (default: ${DEFAULT-VALUE}).")
    int maxClientConns;

    @Option(names = "--tunnel-idle-timeout", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
            description = "Close an upgraded connection (WebSocket) with no byte either way this long, as HAProxy's timeout tunnel; "
                    + "WebSocket libraries ping far more often (default: ${DEFAULT-VALUE}).")
    Duration tunnelIdleTimeout;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "On Ctrl-C or SIGTERM, how long in-flight requests may take to finish (default: ${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Option(names = "--health-path", paramLabel = "PATH",
            description = "Check every backend by asking for this path (e.g. /health); 2xx and 3xx are good. Off unless given.")
    String healthPath;

    @Option(names = "--health-interval", paramLabel = "DURATION", defaultValue = "2s", converter = DurationConverter.class,
            description = "How often to check each backend (default: ${DEFAULT-VALUE}).")
    Duration healthInterval;

    @Option(names = "--health-timeout", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "A check not answered within this fails (default: ${DEFAULT-VALUE}).")
    Duration healthTimeout;

    @Option(names = "--rise", paramLabel = "N", defaultValue = "2", description = "Good checks in a row that bring a backend back (default: ${DEFAULT-VALUE}).")
    int rise;

    @Option(names = "--fall", paramLabel = "N", defaultValue = "3", description = "Failed checks in a row that take a backend down (default: ${DEFAULT-VALUE}).")
    int fall;

    @Option(names = "--max-fails", paramLabel = "N", defaultValue = "3",
            description = "Requests failing in a row (refused, reset, timed out, or answered 502/503/504) that eject a backend; 0: never (default: ${DEFAULT-VALUE}).")
    int maxFails;

    @Option(names = "--fail-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "How long an ejected backend stays out, times the number of ejections in a row, up to 10x (default: ${DEFAULT-VALUE}).")
    Duration failTimeout;

    @Option(names = "--panic", description = "When every backend is down or ejected, try them all anyway instead of answering 503 (Envoy's panic mode).")
    boolean panic;

    @Option(names = "--slow-start", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "A backend that comes back gets its share of traffic ramped up over this long (default: at once).")
    Duration slowStart;

    @Option(names = "--retry-budget", paramLabel = "PERCENT", defaultValue = "20", converter = PercentConverter.class,
            description = "Retries allowed per 100 requests over the last 10 s (at least 10); 0 never retries (default: ${DEFAULT-VALUE}).")
    int retryBudget;

    @Option(names = "--max-conns", paramLabel = "N", defaultValue = "0",
            description = "Requests in flight a backend may have before others are chosen, or 503 when all are full; 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxConns;

    @Option(names = "--access-log", paramLabel = "FORMAT",
            description = "Log every request to standard output (everything else goes to standard error): combined (Apache/nginx combined, then backend=, attempts=, request_time=) or json (one object a line). Off by default.")
    AccessLog.Format accessLog;

    @Option(names = "--explain", description = "Add an X-LB-Explain response header: the strategy, the candidates, the pick, the attempt.")
    boolean explain;

    @Option(names = "--admin-port", paramLabel = "PORT", converter = PortConverter.class,
            description = "Serve the dashboard and admin API (/stats, /history, /metrics, run-time changes) on this port. Off by default, except with the demo backends: then on a free port.")
    Integer adminPort;

    @Option(names = "--admin-bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address of the admin API; anything but loopback needs --admin-token (default: ${DEFAULT-VALUE}).")
    String adminBind;

    @Option(names = "--admin-token", paramLabel = "TOKEN",
            description = "Require this token on the admin API: 'Authorization: Bearer TOKEN', or the dashboard's login. Visible in ps: prefer --admin-token-file or $"
                    + ADMIN_TOKEN_VARIABLE + ".")
    String adminToken;

    @Option(names = "--admin-token-file", paramLabel = "PATH", description = "Read the admin token from this file (its first line).")
    Path adminTokenFile;

    @Option(names = "--trust-forwarded", paramLabel = "CIDR[,CIDR...]",
            description = "Proxies in front whose X-Forwarded-For is appended to and X-Forwarded-Proto/-Host kept; from anyone else they are replaced (default: nobody).")
    String trustForwarded;

    @Option(names = "--forwarded", description = "Also send backends an RFC 7239 Forwarded header (for=CLIENT;proto=http;host=HOST).")
    boolean forwarded;

    @Option(names = "--tls", paramLabel = "self-signed",
            description = "Speak HTTPS on --port with a certificate for localhost made in memory at start (for demos; browsers warn, the banner prints its fingerprint).")
    String tlsMode;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Speak HTTPS on --port with this certificate: a PEM chain (leaf first) with its --tls-key, or a .p12/.pfx file. Repeat for more host names, chosen by SNI; the first is the default.")
    List<Path> tlsCerts = new ArrayList<>();

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The PEM private key (PKCS#8, PKCS#1 or SEC1) of each PEM --tls-cert, in the same order.")
    List<Path> tlsKeys = new ArrayList<>();

    @Option(names = "--tls-key-password-file", paramLabel = "PATH", description = "The password of encrypted keys and .p12 files: this file's first line.")
    Path tlsKeyPasswordFile;

    @Option(names = "--redirect-http", paramLabel = "PORT", converter = PortConverter.class,
            description = "With TLS, also listen for plain HTTP on this port and answer 308 to the same URL over https (0: any free port).")
    Integer redirectHttp;

    @Option(names = "--http2", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "With TLS, offer HTTP/2 to clients by ALPN, HTTP/1.1 the fallback; --no-http2 offers HTTP/1.1 alone (default: on).")
    boolean http2;

    @Option(names = "--h2c", description = "On a plain listener, also take cleartext HTTP/2 from clients that start with its preface (prior knowledge). Off by default.")
    boolean h2c;

    @Option(names = "--backend-ca", paramLabel = "FILE",
            description = "Trust https:// backends whose certificate chains to a CA in this PEM file (instead of the JDK's trust store); their host names are checked either way.")
    Path backendCa;

    @Option(names = "--backend-insecure", description = "Do not check https:// backends' certificates at all (for labs; says so at start).")
    boolean backendInsecure;
    @Option(names = "--allow-underscores-in-headers",
            description = "Pass on request header names with an underscore (X_Forwarded_For); by default they are dropped, as nginx does, "
                    + "since CGI, WSGI and PHP read them as their dashed twins.")
    boolean allowUnderscoresInHeaders;

    @Option(names = "--io-threads", paramLabel = "N", description = "IO threads; every request runs on one (default: one per core).")
    Integer ioThreads;

    @Option(names = "--demo-backends", paramLabel = "N", defaultValue = "3",
            description = "How many demo backends to start when no --backend is given (default: ${DEFAULT-VALUE}).")
    int demoBackends;

    public static void main(String[] args) {
        signals = ProcessSignals.claim();
        UndertowLogging.quiet();
        System.setProperty("loadbalancer.command", launchCommand()); // for --help's example
        System.exit(commandLine().execute(args));
    }

    /** The command with our error handling: one line naming the problem, exit 2 for bad input. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new LoadBalancer()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler(LoadBalancer::reportBadInput);
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof ConfigException refused) {
                // Every problem, one a line, as nginx -t prints them: bad input, so exit 2.
                refused.problems().forEach(problem -> command.getErr().println("error: " + problem));
                return command.getCommandSpec().exitCodeOnInvalidInput();
            }
            command.getErr().println("error: " + e.getMessage());
            return 1;
        });
        return cli;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (listStrategies) {
            Strategies.ALL.forEach(entry -> System.out.printf("  %-24s %s%n",
                    entry.name().equals(Strategies.DEFAULT) ? entry.name() + " (default)" : entry.name(), entry.description()));
            System.out.println("  (weighted-round-robin, its former name, still picks round-robin)");
            return 0;
        }
        GatewayConfig fromFile = configFile == null ? null : fileConfig();
        validate();
        checkUpstreamTrust(fromFile); // an upstream's backend-ca that is no CA is bad input, said before anything listens
        String token = adminToken();
        StrategyOptions strategyOptions = strategyOptions();
        create(strategy, strategyOptions); // a --hash-key the strategy cannot read is refused before anything listens
        ForwardedHeaders forwarded = forwardedHeaders(); // a bad --trust-forwarded is refused before anything listens
        ServerTls clientTls = serverTls(); // so is a bad certificate
        ProtocolSettings protocols = new ProtocolSettings(clientTls, http2, h2c, backendTls());
        if (checkConfig) {
            return printCheckedConfig(fromFile, protocols);
        }
        DemoBackends demo = DemoBackends.start(fromFile == null && backends.isEmpty() ? demoBackends : 0);
        demo.urls().forEach(url -> backends.add(Backend.of(url)));
        GatewayConfig gateway = fromFile != null ? fromFile : GatewayConfig.single(defaultUpstream());

        AccessLog log = accessLog == null ? null : new AccessLog(accessLog, System.out);
        ProxyServer server = ProxyServer.start(settings(), gateway,
                new ProxyServer.Setup(explain, forwarded, log == null ? List.of() : List.of(log), protocols));
        server.setAllowUnderscoresInHeaders(allowUnderscoresInHeaders);
        HttpsRedirect redirect = redirectHttp == null ? null : HttpsRedirect.start(bind, redirectHttp, server.port());
        String[] args = spec.commandLine().getParseResult().originalArgs().toArray(String[]::new);
        boolean servingTls = server.tls() != null;
        ConfigReloader reloader = ConfigReloader.withCertificates(server, () -> reread(args, servingTls), configFile);
        if (watchConfig) {
            try {
                reloader.watch();
            } catch (IOException e) {
                System.err.println("--watch-config: cannot watch " + configFile + ": " + e.getMessage() + "; reload with SIGHUP instead");
            }
        }
        AdminServer admin = startAdmin(server, strategyOptions, token, demo);
        if (admin != null) {
            admin.setReloader(reloader);
        }
        // The handlers are in place before the banner says we are up: a signal sent on seeing it must not kill us.
        CountDownLatch stopRequested = listenForSignals(reloader);
        printBanner(server, demo, admin);
        if (redirect != null) {
            System.err.printf("Redirect: http://%s:%d/ answers 308 to https://...:%d/%n", bind, redirect.port(), server.port());
        }

        stopRequested.await();
        reloader.stop();
        System.err.println("stopping: no new connections; waiting up to " + Units.formatDuration(drainTimeout.toMillis()) + " for requests in flight");
        if (admin != null) {
            admin.stop();
        }
        if (redirect != null) {
            redirect.stop();
        }
        boolean drained = server.stop();
        demo.stop();
        if (log != null) {
            log.close();
            if (log.dropped() > 0) {
                System.err.println("access log: " + log.dropped() + " lines dropped because standard output could not keep up");
            }
        }
        System.err.println(drained ? "stopped" : "stopped; some requests did not finish within --drain-timeout");
        return 0;
    }

    /**
     * The dashboard and admin API on --admin-port, or null without it; the demo shows itself: with the
     * built-in backends, the dashboard starts too, on a free loopback port, naming them as the banner does.
     */
    private AdminServer startAdmin(ProxyServer server, StrategyOptions strategyOptions, String token, DemoBackends demo) {
        if (adminPort == null && demo.isEmpty()) {
            return null;
        }
        AdminServer admin = AdminServer.start(server, server.config().upstreams().get(0).picking().strategy(),
                name -> Strategies.byName(name).orElseThrow(() -> new IllegalArgumentException(unknownStrategy(name))).create(strategyOptions),
                adminBind(), adminPort == null ? 0 : adminPort, token, demo.control());
        Map<String, String> labels = new HashMap<>();
        for (int i = 0; i < demo.servers().size(); i++) {
            labels.put(backends.get(i).name(), demo.servers().get(i).name());
        }
        admin.setLabels(labels);
        return admin;
    }

    /** Where the admin API listens: --admin-bind, or loopback when only the demo started it. */
    private String adminBind() {
        return adminPort == null ? "127.0.0.1" : adminBind;
    }

    /** The rules between options, and the ranges no converter knows: the one place bad input is refused after parsing. */
    private void validate() {
        if (watchConfig && configFile == null) {
            throw badInput("--watch-config needs --config FILE: it reloads that file when it changes");
        }
        if (ioThreads != null && (ioThreads < 1 || ioThreads > 256)) {
            throw badInput("--io-threads must be between 1 and 256, got " + ioThreads);
        }
        if (demoBackends < 1 || demoBackends > 32) {
            throw badInput("--demo-backends must be between 1 and 32, got " + demoBackends);
        }
        for (Duration positive : List.of(timeout, connectTimeout, idleTimeout, bodyTimeout, drainTimeout, healthInterval, healthTimeout, failTimeout,
                tunnelIdleTimeout)) {
            if (positive.isZero()) {
                throw badInput("--timeout, --connect-timeout, --idle-timeout, --body-timeout, --drain-timeout, --health-interval, "
                        + "--health-timeout, --fail-timeout and --tunnel-idle-timeout must be more than 0");
            }
        }
        if (healthPath != null && !healthPath.startsWith("/")) {
            throw badInput("--health-path must start with /, like /health");
        }
        if (maxClientConns < 1) {
            throw badInput("--max-client-conns must be 1 or more, got " + maxClientConns);
        }
        if (maxConns < 0 || maxFails < 0 || rise < 1 || fall < 1) {
            throw badInput("--max-conns and --max-fails must be 0 or more, --rise and --fall 1 or more");
        }
        if (maxHeaderSize > Integer.MAX_VALUE) {
            throw badInput("--max-header-size must be under 2g");
        }
        if (maxResponseHeaderSize < 1024 || maxResponseHeaderSize > Integer.MAX_VALUE) {
            throw badInput("--max-response-header-size must be between 1k and 2g");
        }
        if (hashKey != null && configFile == null && !List.of("hash", "consistent-hash").contains(strategy.name())) {
            throw badInput("--hash-key only applies to --strategy hash or consistent-hash (ip-hash always hashes the client address)");
        }
        if (adminToken != null && adminTokenFile != null) {
            throw badInput("give --admin-token or --admin-token-file, not both");
        }
        if (adminPort != null && adminToken == null && adminTokenFile == null && System.getenv(ADMIN_TOKEN_VARIABLE) == null && !isLoopback(adminBind)) {
            throw badInput("--admin-bind " + adminBind + " would expose the admin API beyond this machine; add --admin-token SECRET");
        }
    }

    /** Bad input, said in one line by {@link #reportBadInput}: every refusal after parsing comes through here. */
    private ParameterException badInput(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * The configuration file with this command line: its global keys where no flag of the same name was
     * given, then its upstreams (unset keys from the flags) and routes.
     *
     * @throws ConfigException with every problem in the file
     */
    private GatewayConfig fileConfig() {
        ConfigFile file = ConfigFile.read(configFile, fileKeys());
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        for (ConfigFile.Setting setting : file.globals()) {
            OptionSpec option = spec.findOption("--" + setting.key());
            if (!given.hasMatchedOption(option)) {
                String problem = applyFileSetting(option, setting);
                if (problem != null) {
                    file.problem(setting, setting.key() + ": " + problem);
                }
            }
        }
        return file.gateway(defaultUpstream());
    }

    /**
     * Flags that are no file key: those about the command itself and the file, and --demo-backends, which
     * only a command line without backends uses (a file must name its backends).
     */
    public static final List<String> NOT_FILE_KEYS = List.of("help", "version", "list-strategies", "config", "check-config", "watch-config",
            "demo-backends");

    /** The file's keys: every long flag name but {@link #NOT_FILE_KEYS}. */
    private Set<String> fileKeys() {
        Set<String> keys = new LinkedHashSet<>();
        for (OptionSpec option : spec.options()) {
            String name = option.longestName().substring(2);
            if (!NOT_FILE_KEYS.contains(name)) {
                keys.add(name);
            }
        }
        return keys;
    }

    /** Sets {@code option} from the file through the flag's own converter; what is wrong with the value, or null. */
    private static String applyFileSetting(OptionSpec option, ConfigFile.Setting setting) {
        List<String> args = new ArrayList<>();
        if (option.typeInfo().isBoolean()) {
            String value = setting.values().size() == 1 ? setting.values().get(0) : "";
            if (!value.equals("true") && !value.equals("false")) {
                return "'" + String.join(", ", setting.values()) + "' is not true or false";
            }
            if (value.equals("false") && !option.negatable()) {
                return null;
            }
            // A switch that is on by default (http2) is turned off by its negated flag, as on the command line.
            args.add(value.equals("false") ? "--no-" + option.longestName().substring(2) : option.longestName());
        } else {
            if (setting.values().size() != 1 && !option.isMultiValue()) {
                return "expected a single value, got a list";
            }
            setting.values().forEach(value -> {
                args.add(option.longestName());
                args.add(value);
            });
        }
        try {
            CommandLine scratch = commandLine();
            scratch.parseArgs(args.toArray(String[]::new));
            option.setValue(scratch.getCommandSpec().findOption(option.longestName()).getValue());
            return null;
        } catch (ParameterException e) {
            return e.getMessage();
        }
    }

    /** The flags' upstream: the command line's backends and settings, what a file's upstreams start from. */
    private UpstreamConfig defaultUpstream() {
        HealthChecks checks = new HealthChecks(healthPath, healthInterval, healthTimeout, rise, fall);
        PassiveEjection ejection = new PassiveEjection(maxFails, failTimeout, PassiveEjection.DEFAULTS.maxEjectedPercent());
        return new UpstreamConfig(GatewayConfig.DEFAULT_UPSTREAM, addresses(backends), addresses(backups),
                new UpstreamConfig.Picking(strategy.name(), hashKey, balanceFactor, seed),
                new HealthSettings(checks, ejection, slowStart == null ? Duration.ZERO : slowStart, panic), maxConns, retryBudget);
    }

    private static List<UpstreamConfig.Address> addresses(List<Backend> list) {
        return list.stream().map(backend -> new UpstreamConfig.Address(backend.uri(), backend.weight())).toList();
    }

    /** --check-config: what would run, on standard output, and 0. */
    private int printCheckedConfig(GatewayConfig fromFile, ProtocolSettings protocols) {
        GatewayConfig config = fromFile != null ? fromFile : GatewayConfig.single(defaultUpstream());
        System.out.println("configuration " + config.source() + " is good");
        listenerLines(protocols, Instant.now()).forEach(System.out::println);
        config.describe().forEach(System.out::println);
        if (fromFile == null && backends.isEmpty()) {
            System.out.println("  (no --backend: " + demoBackends + " demo backends would start)");
        }
        return 0;
    }

    /** The listeners as --check-config prints them: TLS with each certificate's names (SNI), subject and expiry, h2, the redirect. */
    private List<String> listenerLines(ProtocolSettings protocols, Instant now) {
        List<String> lines = new ArrayList<>();
        ServerTls tls = protocols.clientTls();
        if (tls == null) {
            lines.add("listen " + bind + ":" + port + (protocols.h2c() ? " (plain HTTP/1.1, and cleartext HTTP/2 by prior knowledge: --h2c)" : ""));
            return lines;
        }
        lines.add("listen " + bind + ":" + port + " https (" + String.join(", ", ServerTls.PROTOCOLS) + "; HTTP/2 by ALPN: "
                + (protocols.http2() ? "on" : "off, HTTP/1.1 only") + ")");
        List<ServerCertificate> certificates = tls.certificates();
        for (int i = 0; i < certificates.size(); i++) {
            ServerCertificate certificate = certificates.get(i);
            long days = Duration.between(now, certificate.notAfter()).toDays();
            lines.add("  certificate " + certificate.source() + ": SNI names " + String.join(", ", certificate.names())
                    + (i == 0 ? " (and the default for any other name)" : "") + "; subject " + certificate.chain().get(0).getSubjectX500Principal().getName()
                    + "; expires " + certificate.notAfter() + " (in " + days + " days" + (days < 14 ? ": renew it soon" : "") + ")"
                    + "; SHA-256 " + certificate.fingerprint());
        }
        if (redirectHttp != null) {
            lines.add("listen " + bind + ":" + redirectHttp + " plain HTTP: 308 to https on port " + port);
        }
        return lines;
    }

    /**
     * The configuration read again from the same command line and file, for a reload: every check a
     * start makes, the listener's certificate files read and checked again, nothing started.
     *
     * @param servingTls whether the running listener speaks TLS: a reload cannot switch that
     * @throws ConfigException with every problem, or one naming the flag or the certificate file
     */
    static ConfigReloader.Next reread(String[] args, boolean servingTls) {
        CommandLine cli = commandLine();
        LoadBalancer fresh = cli.getCommand();
        try {
            cli.parseArgs(args);
            GatewayConfig config = fresh.configFile == null ? null : fresh.fileConfig();
            fresh.validate();
            fresh.checkUpstreamTrust(config);
            return new ConfigReloader.Next(config, fresh.reloadedCertificates(servingTls));
        } catch (ParameterException e) {
            throw new ConfigException(List.of(new ConfigProblem(String.valueOf(fresh.configFile), e.getMessage())));
        }
    }

    /** The listener's certificates read afresh for a reload; null to keep those serving (plain HTTP, or --tls self-signed). */
    private List<ServerCertificate> reloadedCertificates(boolean servingTls) {
        TlsListenerOptions options = tlsOptions();
        if (options.enabled() != servingTls) {
            throw new ConfigException(List.of(new ConfigProblem("--tls-cert", servingTls
                    ? "the listener has spoken TLS since start and a reload cannot turn that off; restart without --tls/--tls-cert"
                    : "the listener has spoken plain HTTP since start and a reload cannot turn TLS on; restart with --tls-cert")));
        }
        if (!options.problems().isEmpty()) {
            throw new ConfigException(List.of(new ConfigProblem("--tls-cert", options.problems().get(0))));
        }
        if (!servingTls || TlsListenerOptions.SELF_SIGNED.equals(options.mode())) {
            return null;
        }
        try {
            return options.certificates(Instant.now());
        } catch (CertificateProblem e) {
            // Said as at start: "--tls-cert FILE: what is wrong with it".
            String message = e.getMessage();
            int colon = message.indexOf(": ");
            throw new ConfigException(List.of(colon < 0 ? new ConfigProblem("--tls-cert", message)
                    : new ConfigProblem("--tls-cert " + message.substring(0, colon), message.substring(colon + 2))));
        }
    }

    /** The options, grouped as the proxy reads them. */
    private ProxySettings settings() {
        int threads = ioThreads != null ? ioThreads : Runtime.getRuntime().availableProcessors();
        HealthChecks checks = new HealthChecks(healthPath, healthInterval, healthTimeout, rise, fall);
        PassiveEjection ejection = new PassiveEjection(maxFails, failTimeout, PassiveEjection.DEFAULTS.maxEjectedPercent());
        return new ProxySettings(
                new ProxySettings.Listener(bind, port, threads, idleTimeout, drainTimeout, tunnelIdleTimeout),
                new ProxySettings.Timeouts(connectTimeout, timeout, bodyTimeout),
                new ProxySettings.Limits(maxBodySize, (int) maxHeaderSize, (int) maxResponseHeaderSize, maxClientConns),
                new ProxySettings.Backends(maxConns, retryBudget),
                new HealthSettings(checks, ejection, slowStart == null ? Duration.ZERO : slowStart, panic));
    }

    private StrategyOptions strategyOptions() {
        RandomGenerator random = seed == null ? StrategyOptions.defaults().random() : StrategyOptions.seeded(seed);
        return new StrategyOptions(random, hashKey, balanceFactor);
    }

    /** The strategy, or bad input naming what is wrong with its options (a --hash-key it cannot read, say). */
    private Strategy create(Strategies.Entry entry, StrategyOptions options) {
        try {
            return entry.create(options);
        } catch (IllegalArgumentException e) {
            throw badInput(e.getMessage());
        }
    }

    /** How https:// backends are trusted: --backend-insecure, --backend-ca, or (null) the JDK's trust store. */
    private BackendTls backendTls() {
        if (redirectHttp != null && tlsMode == null && tlsCerts.isEmpty()) {
            throw badInput("--redirect-http redirects to the TLS listener: add --tls self-signed or --tls-cert FILE --tls-key FILE");
        }
        if (h2c && (tlsMode != null || !tlsCerts.isEmpty())) {
            throw badInput("--h2c is cleartext HTTP/2; with --tls or --tls-cert, HTTP/2 is offered by ALPN already (--http2)");
        }
        if (backendInsecure && backendCa != null) {
            throw badInput("give --backend-ca or --backend-insecure, not both");
        }
        if (backendInsecure) {
            return BackendTls.insecure();
        }
        try {
            return backendCa == null ? null : BackendTls.verifying(backendCa);
        } catch (CertificateProblem e) {
            throw badInput("--backend-ca " + e.getMessage());
        }
    }

    /** Each upstream's own backend-ca read as the proxy will read it; bad input naming the upstream and the file otherwise. */
    private void checkUpstreamTrust(GatewayConfig config) {
        if (config == null) {
            return;
        }
        for (UpstreamConfig upstream : config.upstreams()) {
            if (upstream.backendTrust().ca() != null) {
                try {
                    BackendTls.verifying(upstream.backendTrust().ca());
                } catch (CertificateProblem e) {
                    throw badInput("upstream '" + upstream.name() + "': backend-ca " + e.getMessage());
                }
            }
        }
    }

    /** The listener's TLS from --tls or --tls-cert, or null for plain HTTP; every file read and checked now. */
    private ServerTls serverTls() {
        TlsListenerOptions options = tlsOptions();
        if (!options.problems().isEmpty()) {
            throw badInput(options.problems().get(0));
        }
        try {
            return options.load(Instant.now());
        } catch (CertificateProblem e) {
            throw badInput("--tls-cert " + e.getMessage());
        }
    }

    private TlsListenerOptions tlsOptions() {
        return new TlsListenerOptions(tlsMode, tlsCerts, tlsKeys, tlsKeyPasswordFile);
    }

    private ForwardedHeaders forwardedHeaders() {
        try {
            return new ForwardedHeaders(trustForwarded == null ? List.of() : ForwardedHeaders.parseCidrs(trustForwarded), forwarded);
        } catch (IllegalArgumentException e) {
            throw badInput("--trust-forwarded: " + e.getMessage());
        }
    }

    /**
     * TERM, INT (Ctrl-C) and QUIT count the returned latch down, to start a drain, as nginx's graceful
     * quit does. HUP reloads the --config file, as nginx's does (without one it says there is nothing to reload).
     */
    private static CountDownLatch listenForSignals(ConfigReloader reloader) {
        CountDownLatch stopRequested = new CountDownLatch(1);
        ProcessSignals processSignals = signals != null ? signals : ProcessSignals.claim();
        processSignals.onStop(stopRequested::countDown);
        processSignals.onHangup(() -> reloader.reload("SIGHUP"));
        return stopRequested;
    }

    /**
     * What the user ran, so the banner and --help repeat it: {@code java -jar NAME.jar} from an exported
     * jar (the JVM names the jar first in sun.java.command), else the script.
     */
    static String launchCommand() {
        String first = System.getProperty("sun.java.command", "").split(" ", 2)[0];
        return first.endsWith(".jar") ? "java -jar " + first : "./jbang LoadBalancer.java";
    }

    private void printBanner(ProxyServer server, DemoBackends demo, AdminServer admin) {
        String shownHost = bind.equals("0.0.0.0") || bind.equals("::") ? "localhost" : bind;
        String scheme = server.tls() == null ? "http" : "https";
        if (configFile != null) {
            System.err.printf("LoadBalancer listening on %s://%s:%d (configuration: %s)%n", scheme, bind, server.port(), configFile);
            server.config().describe().forEach(line -> System.err.println("  " + line));
        } else {
            System.err.printf("LoadBalancer listening on %s://%s:%d (strategy: %s)%n", scheme, bind, server.port(), strategy.name());
        }
        if (server.tls() != null) {
            server.tls().certificates().forEach(certificate -> System.err.printf("  TLS      %s (%s), SHA-256 %s, until %s%n",
                    String.join(", ", certificate.names()), certificate.source(), certificate.fingerprint(), certificate.notAfter()));
        }
        for (int i = 0; i < backends.size(); i++) {
            String note = demo.isEmpty() ? "" : "  built-in demo backend " + demo.servers().get(i).name();
            System.err.println("  backend " + backends.get(i) + note);
        }
        backups.forEach(backup -> System.err.println("  backup  " + backup));
        if (backendInsecure) {
            System.err.println("  WARNING: --backend-insecure: https:// backends' certificates are not checked; anyone on the path can read and change the traffic");
        } else if (backendCa != null) {
            System.err.println("  https:// backends are trusted only if their certificate chains to a CA in " + backendCa);
        }
        System.err.printf("Try it:   curl %s%s://%s:%d/%n", "self-signed".equals(tlsMode) ? "--insecure " : "", scheme, shownHost, server.port());
        if (!demo.isEmpty()) {
            System.err.println("Your own backends: " + launchCommand() + " --backend http://127.0.0.1:9001 --backend http://127.0.0.1:9002");
        }
        System.err.println("Stop:     Ctrl-C (requests in flight finish first)");
        if (admin != null) {
            String bound = adminBind();
            String adminHost = bound.equals("0.0.0.0") || bound.equals("::") ? "127.0.0.1" : bound.contains(":") ? "[" + bound + "]" : bound;
            String adminScheme = admin.isHttps() ? "https" : "http";
            System.err.printf("Admin:    %s://%s:%d/ (live dashboard), /stats, /history, /metrics%n", adminScheme, adminHost, admin.port());
            if (admin.oneTimeLoginPath() != null) {
                System.err.printf("Log in:   %s://%s:%d%s (works once, for 10 min), or with the token at the dashboard's form%n", adminScheme, adminHost,
                        admin.port(), admin.oneTimeLoginPath());
            }
        }
        System.err.flush();
    }

    /** The admin token from --admin-token, --admin-token-file or $LB_ADMIN_TOKEN; null when none is set. */
    private String adminToken() {
        String token = adminToken;
        String source = "--admin-token";
        if (adminTokenFile != null) {
            source = "--admin-token-file " + adminTokenFile;
            try {
                token = Files.readAllLines(adminTokenFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            } catch (IOException e) {
                throw badInput("--admin-token-file: cannot read " + adminTokenFile + ": " + e.getMessage());
            }
        } else if (token == null && System.getenv(ADMIN_TOKEN_VARIABLE) != null) {
            source = "$" + ADMIN_TOKEN_VARIABLE;
            token = System.getenv(ADMIN_TOKEN_VARIABLE);
        }
        if (token != null && token.trim().isEmpty()) {
            throw badInput(source + " gives an empty admin token");
        }
        return token == null ? null : token.trim();
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String unknownStrategy(String name) {
        return "unknown strategy '" + name + "'; choose one of: " + Strategies.names();
    }

    private static int reportBadInput(ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        String hint = "";
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            hint = "; did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?";
        }
        cli.getErr().println("error: " + e.getMessage() + hint + " (see --help)");
        return cli.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** "http://host:port" with an optional ",weight=N": picocli's side of {@link BackendSpec}. */
    static final class BackendConverter implements ITypeConverter<Backend> {
        @Override
        public Backend convert(String text) {
            return UnitConverters.parsed(BackendSpec::parse, text);
        }
    }

    /** A TCP port, 0 to 65535 (0 picks a free one). */
    static final class PortConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            return wholeNumber(text, 0, 65535, "is not a port; use a number from 1 to 65535 (0 picks a free one)");
        }
    }

    /** A share of 100, 0 to 100. */
    static final class PercentConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String text) {
            return wholeNumber(text, 0, 100, "is not a percentage; use a number from 0 to 100");
        }
    }

    private static int wholeNumber(String text, int min, int max, String otherwise) {
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new TypeConversionException("'" + text + "' " + otherwise);
    }

    static final class StrategyConverter implements ITypeConverter<Strategies.Entry> {
        @Override
        public Strategies.Entry convert(String text) {
            return Strategies.byName(text.trim()).orElseThrow(() -> new TypeConversionException(unknownStrategy(text)));
        }
    }

    static final class StrategyNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Strategies.ALL.stream().map(Strategies.Entry::name).iterator();
        }
    }
}
