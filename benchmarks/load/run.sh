#!/usr/bin/env bash
# The end-to-end benchmark: our load balancer beside nginx and HAProxy, each balancing round robin
# with keep-alive over the same two nginx backends, driven by wrk on loopback, targets interleaved over
# several rounds. Prints one table of medians per rig: requests/s, p50/p99, errors, CPU per request,
# peak RSS, and each target's throughput as a share of nginx's and of the backend served directly; then
# system calls per request, and a flame graph of ours.
#
#   benchmarks/load/run.sh                        # everything below, about 16 minutes
#   benchmarks/load/run.sh --quick                # the same, short: a smoke run, about 4 minutes
#   benchmarks/load/run.sh --backend-workers 1    # one rig: backends in a 1-worker nginx, 20 s warm-up (3 rounds of 5 s)
#   benchmarks/load/run.sh --backend-workers 2    # the other: a 2-worker nginx, and 4 s of warm-up before each cell
#   benchmarks/load/run.sh --syscalls             # system calls per proxied request, ours and nginx's workers (strace -c)
#   benchmarks/load/run.sh --profile              # a CPU flame graph of ours under 64 connections (async-profiler, itimer)
#   benchmarks/load/run.sh --floor                # not part of "everything": Undertow's and nginx's servers answering
#                                                 #   by themselves beside both proxies, Undertow's own ProxyHandler and
#                                                 #   forwarding with no checks on Undertow's server; CPU per request
#
# --quick combines with each. Installs nginx, haproxy, wrk and strace from Debian if they are missing (as
# root); async-profiler comes from Maven Central. Everything it starts listens on 127.0.0.1, runs in a
# temporary folder, and is stopped by PID when the script ends. Output files land in benchmarks/load/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."

quick= mode=all workers=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=--quick ;;
        --backend-workers) mode=table workers=${2:?--backend-workers needs 1 or 2}; shift ;;
        --syscalls) mode=syscalls ;;
        --profile) mode=profile ;;
        --floor) mode=floor ;;
        *) echo "usage: $0 [--quick] [--backend-workers 1|2 | --syscalls | --profile | --floor]" >&2; exit 2 ;;
    esac
    shift
done
if [ "$mode" = all ]; then
    "$0" $quick --backend-workers 1
    "$0" $quick --backend-workers 2
    "$0" $quick --syscalls
    exec "$0" $quick --profile
fi

rounds=3 seconds=5 warmup=20 cell_warmup=0
[ "$workers" = 2 ] && cell_warmup=4
if [ -n "$quick" ]; then rounds=1 seconds=2 warmup=8; [ "$workers" = 2 ] && cell_warmup=2; fi
out_dir="$PWD/benchmarks/load/out"
mkdir -p "$out_dir"

need=()
for tool in nginx haproxy wrk python3 curl strace; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "benchmark: missing ${need[*]}; install them (e.g. sudo apt-get install nginx-light haproxy wrk) and run again" >&2
        exit 1
    fi
    packages=$(printf '%s\n' "${need[@]}" | sed 's/^nginx$/nginx-light/' | tr '\n' ' ')
    echo "benchmark: installing $packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages >/dev/null 2>&1 \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages >/dev/null; }
fi
PATH="$PATH:/usr/sbin"

work=$(mktemp -d)
pids=()
# Stops what this run started, by PID, quietly: each is disowned first, so the shell prints no "Killed"
# or "Terminated" line for it; then TERM, up to 10 s for each to finish (a JVM writes its class-data
# archive on the way out), and KILL only for what is still running after that.
stop_all() {
    for pid in "${pids[@]}"; do disown "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop_all EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_200() { # url, deadline in seconds
    local deadline=$((SECONDS + $2))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; do
        [ $SECONDS -lt $deadline ] || { echo "benchmark: $1 did not answer 200 within $2 s" >&2; exit 1; }
        sleep 0.1
    done
}

backend1=$(free_port) backend2=$(free_port) ours=$(free_port) nginx_proxy=$(free_port) haproxy_proxy=$(free_port)
kib=$(head -c 1024 /dev/zero | tr '\0' 'x')

# Two backends in one nginx of $workers worker(s): /small answers "ok", /1k answers 1 KiB.
mkdir -p "$work/backends" "$work/nginx"
cat > "$work/backends/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $work/backends/nginx.pid;
error_log $work/backends/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$backend1; location /small { return 200 "ok\n"; } location /1k { return 200 "$kib"; } }
    server { listen 127.0.0.1:$backend2; location /small { return 200 "ok\n"; } location /1k { return 200 "$kib"; } }
}
CONF
nginx -p "$work/backends" -c "$work/backends/nginx.conf" -e "$work/backends/error.log" &
pids+=($!)

# nginx as a proxy: round robin over both, keep-alive to them.
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    upstream backends { server 127.0.0.1:$backend1; server 127.0.0.1:$backend2; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_proxy;
        location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

# HAProxy: round robin, connections to the backends reused across requests.
cat > "$work/haproxy.cfg" <<CONF
global
    nbthread $(nproc)
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend lb
    bind 127.0.0.1:$haproxy_proxy
    default_backend backends
backend backends
    balance roundrobin
    server b1 127.0.0.1:$backend1
    server b2 127.0.0.1:$backend2
CONF
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 &
pids+=($!)

# Ours, with the options a user gets from the README; start-up timed to the first proxied 200.
./jbang LoadBalancer.java --help >/dev/null 2>&1 # compiles once, so start-up below is a warm start
profiler_options=
if [ "$mode" = profile ]; then
    # async-profiler's agent from its jar on Maven Central; itimer needs no perf_events permission.
    jar="$HOME/.m2/repository/tools/profiler/async-profiler/4.2/async-profiler-4.2.jar"
    [ -f "$jar" ] || mvn -q dependency:get -Dartifact=tools.profiler:async-profiler:4.2 >/dev/null
    (cd "$work" && unzip -q -o "$jar" linux-x64/libasyncProfiler.so)
    profiler_options="-agentpath:$work/linux-x64/libasyncProfiler.so=start,event=itimer,file=$work/flame-%p.html"
fi
started=$(date +%s%N)
JAVA_TOOL_OPTIONS="$profiler_options" ./jbang LoadBalancer.java --bind 127.0.0.1 --port "$ours" \
    --backend "http://127.0.0.1:$backend1" --backend "http://127.0.0.1:$backend2" > "$work/ours.log" 2>&1 &
pids+=($!)
ours_pid=$!
wait_for_200 "http://127.0.0.1:$ours/small" 60
startup_ms=$(( ($(date +%s%N) - started) / 1000000 ))

wait_for_200 "http://127.0.0.1:$backend1/small" 10
wait_for_200 "http://127.0.0.1:$nginx_proxy/small" 10
wait_for_200 "http://127.0.0.1:$haproxy_proxy/small" 10

# The processes whose CPU and memory count for a target: the proxy and its children (nginx workers).
tree_of() {
    local pid=$1
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do tree_of "$child"; done
}
cpu_ticks() { # utime + stime of the process tree
    local total=0
    for pid in $(tree_of "$1"); do
        [ -r "/proc/$pid/stat" ] || continue
        set -- $(sed 's/^.*) //' "/proc/$pid/stat")
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
peak_rss_kib() {
    local total=0
    for pid in $(tree_of "$1"); do
        local hwm
        hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${hwm:-0}))
    done
    echo "$total"
}

declare -A port pid
port[direct]=$backend1;     pid[direct]=${pids[0]}
port[nginx]=$nginx_proxy;   pid[nginx]=${pids[1]}
port[haproxy]=$haproxy_proxy; pid[haproxy]=${pids[2]}
port[ours]=$ours;           pid[ours]=$ours_pid

if [ "$mode" = floor ]; then
    # The floors: nginx and Undertow answering "ok" themselves, one worker or IO thread per core each.
    nginx_server=$(free_port) undertow_server=$(free_port)
    mkdir -p "$work/server"
    cat > "$work/server/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/server/nginx.pid;
error_log $work/server/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:$nginx_server; location /small { return 200 "ok\n"; } } }
CONF
    nginx -p "$work/server" -c "$work/server/nginx.conf" -e "$work/server/error.log" &
    pids+=($!); port[nginx-server]=$nginx_server; pid[nginx-server]=$!
    ./jbang benchmarks/load/UndertowFloor.java "$undertow_server" > "$work/undertow.log" 2>&1 &
    pids+=($!); port[undertow-server]=$undertow_server; pid[undertow-server]=$!
    # And two forwarders on Undertow's server over the same backends: Undertow's own ProxyHandler, and
    # forwarding with no checks at all (one write, one read; see UndertowFloor.java).
    undertow_proxy=$(free_port) bare_forward=$(free_port)
    ./jbang benchmarks/load/UndertowFloor.java "$undertow_proxy" --undertow-proxy "$backend1" "$backend2" > "$work/undertow-proxy.log" 2>&1 &
    pids+=($!); port[undertow-proxy]=$undertow_proxy; pid[undertow-proxy]=$!
    ./jbang benchmarks/load/UndertowFloor.java "$bare_forward" --bare-forward "$backend1" "$backend2" > "$work/bare-forward.log" 2>&1 &
    pids+=($!); port[bare-forward]=$bare_forward; pid[bare-forward]=$!
    wait_for_200 "http://127.0.0.1:$nginx_server/small" 10
    for target in undertow-server undertow-proxy bare-forward; do
        wait_for_200 "http://127.0.0.1:${port[$target]}/small" 60
        wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:${port[$target]}/small" >/dev/null
    done
fi

echo "warming up ($warmup s on our load balancer, 2 s on the others)..." >&2
wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:$ours/small" >/dev/null
wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:$ours/1k" >/dev/null
for target in direct nginx haproxy; do wrk -t1 -c64 -d2s "http://127.0.0.1:${port[$target]}/small" >/dev/null; done

if [ "$mode" = syscalls ]; then
    # System calls per proxied request: strace counts every call of the proxy's processes (ours: all
    # threads; nginx: its workers) over a wrk run of 16 keep-alive connections, divided by the requests
    # wrk counted. futex is left out: it is the JVM's idle and GC hand-off, not request work. strace
    # slows the traced process, so requests/s here mean nothing; calls per request do.
    for target in nginx ours; do
        if [ "$target" = ours ]; then trace=(-p "${pid[ours]}"); else
            trace=(); for worker in $(ps -o pid= --ppid "${pid[nginx]}"); do trace+=(-p "$worker"); done
        fi
        strace -c -f -o "$work/strace-$target.txt" "${trace[@]}" 2>"$work/strace-$target.log" &
        tracer=$!
        sleep 1
        out=$(wrk -t1 -c16 -d"${seconds}s" "http://127.0.0.1:${port[$target]}/small")
        kill -INT "$tracer" 2>/dev/null || { echo "benchmark: strace ended early:" >&2; cat "$work/strace-$target.log" >&2; }
        wait "$tracer" || true
        cp "$work/strace-$target.txt" "$out_dir/strace-$target.txt"
        requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
        python3 - "$work/strace-$target.txt" "$requests" "$target" <<'PY'
import sys
path, requests, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
calls = {}
for line in open(path):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] not in ("total",):
        calls[parts[-1]] = int(parts[3])
calls.pop("futex", None)
total = sum(calls.values())
top = ", ".join(f"{name} {n / requests:.2f}" for name, n in sorted(calls.items(), key=lambda kv: -kv[1])[:6])
print(f"{target}: {total / requests:.2f} system calls per request over {requests} requests (futex excluded): {top}")
PY
    done
    echo "strace summaries: $out_dir/strace-nginx.txt, $out_dir/strace-ours.txt" >&2
    exit 0
fi

if [ "$mode" = floor ]; then
    results="$work/floor.tsv"
    for round in $(seq 1 "$rounds"); do
        for conns in 8 64; do
            for target in undertow-server nginx-server ours nginx undertow-proxy bare-forward; do
                before=$(cpu_ticks "${pid[$target]}")
                out=$(wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:${port[$target]}/small")
                after=$(cpu_ticks "${pid[$target]}")
                requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
                printf '%s\t%s\t%s\t%s\n' "$target" "$conns" "$((after - before))" "$requests" >> "$results"
                echo "round $round: $target, $conns connections done" >&2
            done
        done
    done
    python3 - "$results" "$(getconf CLK_TCK)" "$rounds" "$seconds" <<'PY'
import statistics, sys
path, hz, rounds, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
cpu = {}
for line in open(path):
    target, conns, ticks, requests = line.split()
    cpu.setdefault((conns, target), []).append(int(ticks) / hz * 1e6 / max(int(requests), 1))
print(f"\nCPU µs per request, medians of {rounds} round(s) of {seconds} s, /small, wrk -t1, keep-alive:\n")
print("| connections | Undertow answering | nginx answering | LoadBalancer proxying | nginx proxying | Undertow's ProxyHandler | bare forwarding on Undertow | ours − Undertow's floor | nginx's proxy − its floor | bare forwarding − Undertow's floor |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for conns in ("8", "64"):
    m = {t: statistics.median(cpu[(conns, t)]) for t in ("undertow-server", "nginx-server", "ours", "nginx", "undertow-proxy", "bare-forward")}
    print(f"| {conns} | {m['undertow-server']:.1f} | {m['nginx-server']:.1f} | {m['ours']:.1f} | {m['nginx']:.1f} | "
          f"{m['undertow-proxy']:.1f} | {m['bare-forward']:.1f} | "
          f"{m['ours'] - m['undertow-server']:.1f} | {m['nginx'] - m['nginx-server']:.1f} | {m['bare-forward'] - m['undertow-server']:.1f} |")
print("\nThe CPU goal, 1.25x nginx's proxy: " + ", ".join(
    f"{conns} connections {1.25 * statistics.median(cpu[(conns, 'nginx')]):.1f}" for conns in ("8", "64")) + " µs per request")
PY
    exit 0
fi

if [ "$mode" = profile ]; then
    length=$(( seconds * 4 ))
    echo "profiling ours under 64 connections for $length s..." >&2
    wrk -t1 -c64 -d"${length}s" "http://127.0.0.1:$ours/small" | sed -n 's/Requests\/sec:/ours requests\/s under the profiler:/p'
    kill "$ours_pid"
    for _ in $(seq 300); do kill -0 "$ours_pid" 2>/dev/null || break; sleep 0.1; done
    if [ -f "$work/flame-$ours_pid.html" ]; then
        cp "$work/flame-$ours_pid.html" "$out_dir/flame-ours.html"
        echo "flame graph of ours (whole run, warm-up included): $out_dir/flame-ours.html"
    else
        echo "benchmark: the profiler wrote no flame graph (see $work/ours.log)" >&2; cat "$work/ours.log" >&2; exit 1
    fi
    exit 0
fi

ticks_per_second=$(getconf CLK_TCK)
results="$work/results.tsv"
for round in $(seq 1 "$rounds"); do
    for conns in 8 64; do
        for body in small 1k; do
            for target in direct nginx haproxy ours; do
                if [ "$cell_warmup" -gt 0 ]; then
                    wrk -t1 -c"$conns" -d"${cell_warmup}s" "http://127.0.0.1:${port[$target]}/$body" >/dev/null
                fi
                before=$(cpu_ticks "${pid[$target]}")
                out=$(wrk -t1 -c"$conns" -d"${seconds}s" --latency "http://127.0.0.1:${port[$target]}/$body")
                after=$(cpu_ticks "${pid[$target]}")
                rss=$(peak_rss_kib "${pid[$target]}")
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$conns" "$body" "$((after - before))" "$rss" "$ticks_per_second" \
                    "$(echo "$out" | tr '\n' '|')" >> "$results"
                echo "round $round: $target, $conns connections, /$body done" >&2
            done
        done
    done
done

python3 - "$results" "$startup_ms" "$rounds" "$seconds" "$workers" "$cell_warmup" <<'PY'
import re, statistics, sys
path, startup_ms, rounds, seconds, workers, cell_warmup = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])

def millis(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

cells = {}
for line in open(path):
    target, conns, body, ticks, rss, hz, out = line.rstrip("\n").split("\t")
    out = out.replace("|", "\n")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = millis(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = millis(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    cpu_us = int(ticks) / int(hz) * 1e6 / max(total, 1)
    cells.setdefault((conns, body, target), []).append((rps, p50, p99, errors, cpu_us, int(rss) / 1024))

warm = f", each after {cell_warmup} s of warm-up" if cell_warmup else ""
print(f"\nMedians of {rounds} round(s) of {seconds} s per cell{warm}; wrk -t1, keep-alive; two backends in one nginx of {workers} worker(s) on loopback.")
print(f"Our load balancer: first proxied 200 {startup_ms} ms after launch (warm JBang cache).\n")
print("| connections | body | target | requests/s | p50 ms | p99 ms | errors | CPU µs/req | peak RSS MiB | vs nginx | vs direct |")
print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for conns in ("8", "64"):
    for body in ("small", "1k"):
        med = {t: [statistics.median(v) for v in zip(*cells[(conns, body, t)])] for t in ("direct", "nginx", "haproxy", "ours")}
        for target, label in (("direct", "backend direct"), ("nginx", "nginx"), ("haproxy", "HAProxy"), ("ours", "**LoadBalancer**")):
            rps, p50, p99, errors, cpu, rss = med[target]
            cpu_text = "—" if target == "direct" else f"{cpu:.1f}"
            print(f"| {conns} | {body} | {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors:.0f} | {cpu_text} | {rss:.0f} | "
                  f"{rps / med['nginx'][0]:.2f} | {rps / med['direct'][0]:.2f} |")
PY
