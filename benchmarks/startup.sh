#!/usr/bin/env bash
# Start-up time of the README's command: from `./jbang LoadBalancer.java` (three built-in demo backends)
# to the first proxied 200, on warm caches (one untimed launch first compiles and remembers the launch
# line). Prints each launch and the median.
#
#   benchmarks/startup.sh          # median of 3 launches
#   benchmarks/startup.sh 5        # median of 5
#
# Environment: JAVA_HOME picks the JDK, as for ./jbang. Everything listens on 127.0.0.1 and is stopped
# by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
launches=${1:-3}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid=
stop() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
trap stop EXIT

# One launch: milliseconds from the command to the first 200 through the proxy.
launch() {
    local port started deadline
    port=$(free_port)
    started=$(date +%s%N)
    ./jbang LoadBalancer.java --bind 127.0.0.1 --port "$port" >/dev/null 2>&1 &
    pid=$!
    deadline=$((SECONDS + 60))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)" = 200 ]; do
        [ $SECONDS -lt $deadline ] || { echo "startup: no 200 within 60 s" >&2; exit 1; }
        kill -0 "$pid" 2>/dev/null || { echo "startup: the load balancer exited" >&2; exit 1; }
        sleep 0.01
    done
    local ms=$(( ($(date +%s%N) - started) / 1000000 ))
    # CPU time of the JVM so far (the launcher exec's it, so same PID): on a busy machine a steadier figure than the clock.
    set -- $(sed 's/^.*) //' "/proc/$pid/stat")
    echo "$ms $(( (${12} + ${13}) * 1000 / $(getconf CLK_TCK) ))"
    stop
}

launch >/dev/null # warms JBang's cache, the remembered launch line and its class-data archive
launch >/dev/null
times=()
for i in $(seq 1 "$launches"); do
    read -r ms cpu < <(launch)
    times+=("$ms")
    echo "launch $i: first proxied 200 after $ms ms (the JVM had used $cpu ms of CPU)" >&2
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "start-up (command to first proxied 200, median of $launches): $median ms"
