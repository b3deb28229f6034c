///usr/bin/env jbang "$0" "$@" ; exit $?
//DESCRIPTION Plain timing: simulated requests per second of the lab's simulator, per strategy, at 10 and 100 backends.
//JAVA 17+
// Sources are UTF-8 whatever the locale: Java 17's javac reads them in the platform charset, US-ASCII under LANG=C.
//JAVAC_OPTIONS -encoding UTF-8
// The model, the strategies and the simulator, listed one by one (a script run from a catalog alias cannot expand globs).
//SOURCES ../model/Backend.java ../model/BackendHealth.java ../model/BackendPool.java ../model/Candidates.java ../model/FixedRequest.java
//SOURCES ../model/Failure.java ../model/FailurePolicy.java ../model/HealthChecks.java ../model/HealthSettings.java ../model/LatencyTracker.java
//SOURCES ../model/PassiveEjection.java ../model/RequestView.java ../model/RetryBudget.java ../model/Route.java ../model/Routing.java ../model/Strategy.java
//SOURCES ../strategies/Strategies.java ../text/Units.java
//SOURCES ../lab/sim/BackendSpec.java ../lab/sim/EventHeap.java ../lab/sim/Service.java ../lab/sim/SimClock.java ../lab/sim/SimRequest.java
//SOURCES ../lab/sim/SimResult.java ../lab/sim/Simulation.java ../lab/sim/Station.java

package benchmarks;

import java.util.List;
import java.util.Locale;
import lab.sim.Service;
import lab.sim.Simulation;
import strategies.Strategies;

/**
 * How fast the lab's simulator runs: a million requests at 70% load through each of a few strategies,
 * after one unmeasured run to warm the JIT, on one thread. A timing, not JMH: the unit of work is a
 * whole run of seconds, which JIT noise does not swamp. Usage: ./jbang benchmarks/SimulatorBenchmark.java [requests]
 */
public final class SimulatorBenchmark {
    public static void main(String[] args) {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        List<String> names = List.of("round-robin", "random", "power-of-two", "least-connections", "least-latency", "hash");
        for (int backends : new int[] {10, 100}) {
            Simulation.Setup setup = Simulation.Setup.uniform(backends, Service.parse("exp:10ms"), 1, 0.7, requests, 1);
            Simulation.run(setup.withSeed(2), Strategies.byName("round-robin").orElseThrow()); // warm the JIT
            for (String name : names) {
                long start = System.nanoTime();
                Simulation.run(setup, Strategies.byName(name).orElseThrow());
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "%4d backends  %-20s %,12.0f requests/s  (%,d in %.2f s)%n",
                        backends, name, requests / seconds, requests, seconds);
            }
        }
    }
}
