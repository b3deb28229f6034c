#!/bin/sh
# Mutation testing with PIT: changes the balancing model and the strategies one small step at a time
# (a flipped comparison, a removed call, a constant return) and runs the tests that need no server
# against each change; a change no test notices ("survived") is a behaviour nothing pins down.
# Not part of the default test run: it takes a few minutes of both cores.
#
#   tests/mutation.sh            # reports in target/pit/index.html and target/pit/mutations.xml
#
# Environment: PIT_THREADS  worker threads (default 2)
#              PIT_OUT      report folder (default target/pit), so two narrowed runs can go side by side
set -eu

# What is mutated, and which tests judge it: one list each, so a package move is a one-line change.
# PIT_CLASSES and PIT_TESTS narrow a run (e.g. to the model while working on it).
TARGET_CLASSES=${PIT_CLASSES:-'strategies.*,model.*'}
TARGET_TESTS=${PIT_TESTS:-'tests.StrategyConformanceTest,tests.StrategyPicksTest,tests.StrategyRegistryTest,tests.ModelTest,tests.RoutingTest,tests.BackendSpecTest'}

PIT_VERSION=1.30.1
PIT_JUNIT5_VERSION=1.2.3
cd "$(dirname "$0")/.."
out=${PIT_OUT:-target/pit}
classes=$out-classes
rm -rf "$classes" "$out"
mkdir -p "$classes" "$out"

# 1. The project's dependencies and PIT's (with the JUnit 5 plugin), resolved by JBang from Maven Central.
deps=$(./jbang info classpath --deps-only --deps "org.pitest:pitest-command-line:$PIT_VERSION" \
    --deps "org.pitest:pitest-junit5-plugin:$PIT_JUNIT5_VERSION" tests/RunTests.java 2>/dev/null)

# 2. The sources LoadBalancer.java lists, and the tests, compiled into a folder PIT can rewrite.
# (the registry lists the strategies' own files, relative to strategies/).
sources="$(sed -n 's#^//SOURCES ##p' LoadBalancer.java | tr ' ' '\n' | grep '\.java$')
$(sed -n 's#^//SOURCES ##p' strategies/Strategies.java | tr ' ' '\n' | grep '\.java$' | sed 's#^#strategies/#')"
sources=$(echo "$sources" | sort -u)
javac -nowarn -XDignore.symbol.file -d "$classes" -cp "$deps" $sources tests/*.java backends-demo/DemoBackend.java lab/Scenario.java lab/Workload.java lab/LabRun.java lab/Report.java 2>&1 \
    | grep -v '^Note:' || true
test -f "$classes/tests/ModelTest.class" || { echo "mutation: compiling failed" >&2; exit 1; }

# 3. PIT: mutate, run the targeted tests against each mutant, write HTML and XML.
java -cp "$classes:$deps" org.pitest.mutationtest.commandline.MutationCoverageReport \
    --reportDir "$out" --timestampedReports=false --outputFormats HTML,XML \
    --sourceDirs . --targetClasses "$TARGET_CLASSES" --targetTests "$TARGET_TESTS" \
    --threads "${PIT_THREADS:-2}" --timeoutConst 4000 --mutators DEFAULTS
echo "mutation: report in $out/index.html, every mutant in $out/mutations.xml"
