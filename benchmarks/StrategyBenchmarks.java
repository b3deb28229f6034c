///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION JMH: how long each strategy's pick takes, at 3, 100 and 1,000 backends, on 1 and 2 threads.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
//DEPS org.openjdk.jmh:jmh-core:1.37
//DEPS org.openjdk.jmh:jmh-generator-annprocess:1.37
// The balancing model and the strategies, listed one by one (a script run from a catalog alias cannot
// expand globs); plain Java, so no Undertow here.
//SOURCES ../model/Backend.java ../model/BackendHealth.java ../model/Candidates.java ../model/FixedRequest.java
//SOURCES ../model/LatencyTracker.java ../model/RequestView.java ../model/Strategy.java
//SOURCES ../strategies/Strategies.java

package benchmarks;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import model.Backend;
import model.Candidates;
import model.RequestView;
import model.Strategy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import strategies.Strategies;
import strategies.StrategyOptions;

/**
 * The cost of one {@code pick}, per strategy and pool size, next to a bare atomic increment (the floor
 * for anything that counts). Every strategy in the registry ({@link Strategies#ALL}) is measured; a new
 * one needs no line here. The pool is one version of candidates, as in the proxy between changes, with
 * weights 1 to 4, a little load in flight and measured latencies; {@code pickAvoidingOne} picks with one
 * backend avoided, as under --max-conns pressure or on a retry. The request cycles through 1,024 client
 * addresses so hash strategies do not hit one cached path.
 *
 * <pre>./jbang benchmarks/StrategyBenchmarks.java            # the full table (about 20 minutes)
 * ./jbang benchmarks/StrategyBenchmarks.java --quick    # one short iteration each, to try it</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
@State(Scope.Benchmark)
public class StrategyBenchmarks {
    @Param(Strategies.DEFAULT) // main() passes every name in Strategies.ALL; JMH wants a default to compile
    public String strategy;

    @Param({"3", "100", "1000"})
    public int backends;

    private Strategy picker;
    private Candidates pool;
    private Candidates poolWithOneFull;
    private RequestView[] requests;
    private final AtomicLong counter = new AtomicLong();

    @Setup(Level.Trial)
    public void setUp() {
        picker = Strategies.byName(strategy).orElseThrow().create(StrategyOptions.defaults().withHashKey("header:X-User"));
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < backends; i++) {
            Backend backend = new Backend(URI.create("http://10.0." + (i / 250) + "." + (i % 250 + 1) + ":8080"), 1 + i % 4);
            for (int load = 0; load < i % 3; load++) {
                backend.requestStarted();
            }
            backend.requestStarted();
            backend.requestFinished(1_000_000L + 1_000L * (i % 7));
            list.add(backend);
        }
        pool = Candidates.of(list);
        poolWithOneFull = pool.avoiding(List.of(list.get(backends / 2)));
        requests = new RequestView[1024];
        for (int i = 0; i < requests.length; i++) {
            requests[i] = RequestView.of("192.0." + (i / 256) + "." + (i % 256), "GET", "/item/" + i, Map.of("X-User", "user-" + i), Map.of());
        }
        picker.pick(pool, requests[0]); // builds whatever the strategy caches for this pool
    }

    @Benchmark
    public Backend pick() {
        return picker.pick(pool, requests[(int) (counter.getAndIncrement() & 1023)]);
    }

    @Benchmark
    public Backend pickAvoidingOne() {
        return picker.pick(poolWithOneFull, requests[(int) (counter.getAndIncrement() & 1023)]);
    }

    /** The floor: what the request cycling above costs by itself, an atomic increment and an array read. */
    @Benchmark
    public RequestView baselineAtomicIncrement() {
        return requests[(int) (counter.getAndIncrement() & 1023)];
    }

    static final String USAGE = """
            Usage: ./jbang benchmarks/StrategyBenchmarks.java [--quick]   (alias: strategy-bench)
            JMH: the time of one pick for every strategy in the registry, at 3, 100 and 1,000 backends,
            with and without one backend avoided, on 1 and 2 threads, beside a baseline (an atomic increment).
              --quick     one 300 ms warm-up and one 300 ms measured iteration per row, baseline included
                          (a few minutes; rough figures)
              -h, --help  print this and exit
            Without --quick: 2 x 1 s of warm-up and 3 x 1 s measured per row (about twenty minutes).""";

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        for (String arg : args) {
            switch (arg) {
                case "--quick" -> quick = true;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("error: unknown option '" + arg + "'; the only option is --quick (--help says more)");
                    System.exit(2);
                }
            }
        }
        for (int threads : new int[] {1, 2}) {
            new Runner(timed(new OptionsBuilder()
                    .include(StrategyBenchmarks.class.getName() + ".pick")
                    .param("strategy", Strategies.ALL.stream().map(Strategies.Entry::name).toArray(String[]::new))
                    .threads(threads), quick)).run();
            new Runner(timed(new OptionsBuilder().include(StrategyBenchmarks.class.getName() + ".baseline").threads(threads)
                    .param("strategy", Strategies.DEFAULT).param("backends", "3"), quick)).run();
        }
    }

    /** The options as given, or, with --quick, shortened to one 300 ms warm-up and one 300 ms measured iteration. */
    private static Options timed(ChainedOptionsBuilder options, boolean quick) {
        if (quick) {
            options.warmupIterations(1).warmupTime(TimeValue.milliseconds(300))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(300));
        }
        return options.build();
    }
}
