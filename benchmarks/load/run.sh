#!/usr/bin/env bash
# The end-to-end benchmark: our load balancer beside nginx and HAProxy, each balancing round robin
# with keep-alive over the same two nginx backends, driven by wrk on loopback, targets interleaved over
# several rounds. Prints one table of medians per rig: requests/s, p50/p99, errors, CPU per request,
# peak RSS, and each target's throughput as a share of nginx's and of the backend served directly; then
# system calls per request, TLS and HTTP/2 beside nginx and HAProxy, and a flame graph of ours.
#
#   benchmarks/load/run.sh                        # everything below, about 24 minutes
#   benchmarks/load/run.sh --quick                # the same, short: a smoke run (12 minutes on a busy 2-core VM)
#   benchmarks/load/run.sh --backend-workers 1    # one rig: backends in a 1-worker nginx, 20 s warm-up (3 rounds of 5 s)
#   benchmarks/load/run.sh --backend-workers 2    # the other: a 2-worker nginx, and 4 s of warm-up before each cell
#   benchmarks/load/run.sh --syscalls             # system calls per proxied request, ours and nginx's workers (strace -c)
#   benchmarks/load/run.sh --tls                  # TLS and HTTP/2 at the front, one self-signed certificate for all three:
#                                                 #   wrk over https with keep-alive, h2load over h2 (ALPN) and h2c, and
#                                                 #   full TLS handshakes per second (openssl s_time -new)
#   benchmarks/load/run.sh --profile              # a CPU flame graph of ours under 64 connections (async-profiler, itimer)
#   benchmarks/load/run.sh --floor                # not part of "everything": Undertow's and nginx's servers answering
#                                                 #   by themselves beside both proxies, Undertow's own ProxyHandler and
#                                                 #   forwarding with no checks on Undertow's server; CPU per request
#   benchmarks/load/run.sh --floor --before REV   # the same, with ours as of git revision REV beside ours as checked
#                                                 #   out (one run, interleaved): CPU per request after / before
#   benchmarks/load/run.sh --profile --before REV # flame graphs of both, the same load on each in turn
#
# --quick combines with each; --rounds N sets the number of interleaved rounds (3; 1 with --quick).
# Installs nginx, haproxy, wrk, h2load (nghttp2-client) and strace from Debian if they are missing (as
# root); async-profiler comes from Maven Central. Everything it starts listens on 127.0.0.1, runs in a
# temporary folder (--before REV: REV's files too, from git archive), and is stopped by PID when the
# script ends. Output files land in benchmarks/load/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
    echo "usage: $0 [--quick] [--rounds N] [--backend-workers 1|2 | --syscalls | --tls | --profile | --floor] [--before REV]" >&2
    exit 2
}
quick= mode=all workers=1 before= rounds=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=--quick ;;
        --rounds) rounds=${2:-}; shift; [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "benchmark: --rounds needs a number of rounds, like --rounds 5" >&2; exit 2; } ;;
        --backend-workers) mode=table workers=${2:?--backend-workers needs 1 or 2}; shift ;;
        --syscalls) mode=syscalls ;;
        --tls) mode=tls ;;
        --profile) mode=profile ;;
        --floor) mode=floor ;;
        --before) before=${2:-}; shift; [ -n "$before" ] || { echo "benchmark: --before needs a git revision, like --before 0ef07c5" >&2; exit 2; } ;;
        *) usage ;;
    esac
    shift
done
if [ -n "$before" ]; then
    [ "$mode" = floor ] || [ "$mode" = profile ] || { echo "benchmark: --before goes with --floor (CPU per request, after / before) or --profile (a flame graph of each)" >&2; exit 2; }
    before_commit=$(git rev-parse --verify --quiet "$before^{commit}") \
        || { echo "benchmark: --before $before: not a git revision here (try a commit id from git log)" >&2; exit 2; }
fi
if [ "$mode" = all ]; then
    "$0" $quick ${rounds:+--rounds $rounds} --backend-workers 1
    "$0" $quick ${rounds:+--rounds $rounds} --backend-workers 2
    "$0" $quick ${rounds:+--rounds $rounds} --syscalls
    "$0" $quick ${rounds:+--rounds $rounds} --tls
    exec "$0" $quick ${rounds:+--rounds $rounds} --profile
fi

default_rounds=3 seconds=5 warmup=20 cell_warmup=0
[ "$workers" = 2 ] && cell_warmup=4
if [ -n "$quick" ]; then default_rounds=1 seconds=2 warmup=8; [ "$workers" = 2 ] && cell_warmup=2; fi
rounds=${rounds:-$default_rounds}
out_dir="$PWD/benchmarks/load/out"
mkdir -p "$out_dir"

need=()
for tool in nginx haproxy wrk h2load openssl python3 curl strace; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "benchmark: missing ${need[*]}; install them (e.g. sudo apt-get install nginx-light haproxy wrk nghttp2-client) and run again" >&2
        exit 1
    fi
    packages=$(printf '%s\n' "${need[@]}" | sed 's/^nginx$/nginx-light/; s/^h2load$/nghttp2-client/' | tr '\n' ' ')
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

wait_for_200() { # url, deadline in seconds; https with the run's self-signed certificate
    local deadline=$((SECONDS + $2))
    until [ "$(curl -sk -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; do
        [ $SECONDS -lt $deadline ] || { echo "benchmark: $1 did not answer 200 within $2 s" >&2; exit 1; }
        sleep 0.1
    done
}

backend1=$(free_port) backend2=$(free_port) ours=$(free_port) nginx_proxy=$(free_port) haproxy_proxy=$(free_port)
kib=$(head -c 1024 /dev/zero | tr '\0' 'x')

# --tls: one self-signed certificate for every proxy (an EC P-256 key, as `--tls self-signed` makes), and
# for each proxy a TLS listener (HTTP/2 by ALPN, HTTP/1.1 the fallback) and a cleartext h2c one (prior
# knowledge). The backends stay plain HTTP/1.1: each proxy terminates TLS and HTTP/2 itself.
nginx_tls_servers= haproxy_tls_frontends=
if [ "$mode" = tls ]; then
    mkdir -p "$work/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" 2>/dev/null
    cat "$work/tls/cert.pem" "$work/tls/key.pem" > "$work/tls/haproxy.pem"
    nginx_tls=$(free_port) nginx_h2c=$(free_port) haproxy_tls=$(free_port) haproxy_h2c=$(free_port) ours_h2c=$(free_port)
    # nginx 1.22 offers TLS 1.0-1.2 unless told otherwise; all three get TLS 1.2 and 1.3, as ours offers.
    # keepalive_requests above covers HTTP/2 too (its http2_max_requests is gone since 1.19.7).
    nginx_tls_servers="
    server {
        listen 127.0.0.1:$nginx_tls ssl http2;
        ssl_certificate $work/tls/cert.pem; ssl_certificate_key $work/tls/key.pem; ssl_protocols TLSv1.2 TLSv1.3;
        location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
    }
    server {
        listen 127.0.0.1:$nginx_h2c http2;
        location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
    }"
    haproxy_tls_frontends="
frontend lb-tls
    bind 127.0.0.1:$haproxy_tls ssl crt $work/tls/haproxy.pem alpn h2,http/1.1 ssl-min-ver TLSv1.2
    default_backend backends
frontend lb-h2c
    bind 127.0.0.1:$haproxy_h2c proto h2
    default_backend backends"
fi

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
    }$nginx_tls_servers
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
    server b2 127.0.0.1:$backend2$haproxy_tls_frontends
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
# With --tls, the listener on --port speaks TLS with the run's certificate (HTTP/2 by ALPN).
ours_url="http://127.0.0.1:$ours" tls_options=()
if [ "$mode" = tls ]; then
    ours_url="https://127.0.0.1:$ours" tls_options=(--tls-cert "$work/tls/cert.pem" --tls-key "$work/tls/key.pem")
fi
started=$(date +%s%N)
JAVA_TOOL_OPTIONS="$profiler_options" ./jbang LoadBalancer.java --bind 127.0.0.1 --port "$ours" "${tls_options[@]}" \
    --backend "http://127.0.0.1:$backend1" --backend "http://127.0.0.1:$backend2" > "$work/ours.log" 2>&1 &
pids+=($!)
ours_pid=$!
wait_for_200 "$ours_url/small" 60
startup_ms=$(( ($(date +%s%N) - started) / 1000000 ))

if [ -n "$before" ]; then
    # Ours as of REV, from its own files (git archive, not a worktree: nothing to clean up in .git),
    # built by its own ./jbang and started with the same options (and profiler) as ours.
    mkdir -p "$work/before"
    git archive "$before_commit" | tar -x -C "$work/before"
    echo "building ours as of $before (${before_commit:0:10})..." >&2
    (cd "$work/before" && ./jbang LoadBalancer.java --help > "$work/before-build.log" 2>&1) \
        || { echo "benchmark: ours as of $before did not build:" >&2; tail -20 "$work/before-build.log" >&2; exit 1; }
    ours_before=$(free_port)
    (cd "$work/before" && JAVA_TOOL_OPTIONS="$profiler_options" exec ./jbang LoadBalancer.java --bind 127.0.0.1 --port "$ours_before" \
        --backend "http://127.0.0.1:$backend1" --backend "http://127.0.0.1:$backend2") > "$work/ours-before.log" 2>&1 &
    pids+=($!); before_pid=$!
    wait_for_200 "http://127.0.0.1:$ours_before/small" 60
fi

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
if [ -n "$before" ]; then port[before]=$ours_before; pid[before]=$before_pid; fi

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
    floor_targets=(undertow-server undertow-proxy bare-forward)
    [ -n "$before" ] && floor_targets+=(before)
    for target in "${floor_targets[@]}"; do
        wait_for_200 "http://127.0.0.1:${port[$target]}/small" 60
        wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:${port[$target]}/small" >/dev/null
    done
fi

if [ "$mode" = tls ]; then
    # A second instance of ours for h2c: one listener speaks either TLS or cleartext.
    ./jbang LoadBalancer.java --bind 127.0.0.1 --port "$ours_h2c" --h2c \
        --backend "http://127.0.0.1:$backend1" --backend "http://127.0.0.1:$backend2" > "$work/ours-h2c.log" 2>&1 &
    pids+=($!); ours_h2c_pid=$!
    wait_for_200 "http://127.0.0.1:$ours_h2c/small" 60
    wait_for_200 "https://127.0.0.1:$nginx_tls/small" 10
    wait_for_200 "https://127.0.0.1:$haproxy_tls/small" 10
fi

echo "warming up ($warmup s on our load balancer, 2 s on the others)..." >&2
wrk -t1 -c64 -d"${warmup}s" "$ours_url/small" >/dev/null
wrk -t1 -c64 -d"${warmup}s" "$ours_url/1k" >/dev/null
if [ "$mode" = tls ]; then # and the HTTP/2 paths of both instances of ours, and new handshakes
    h2load -t1 -c8 -m8 -D "$warmup" "$ours_url/small" >/dev/null
    h2load -t1 -c8 -m8 -D "$warmup" "http://127.0.0.1:$ours_h2c/small" >/dev/null
    timeout $((warmup + 10)) openssl s_time -connect "127.0.0.1:$ours" -new -time "$warmup" >/dev/null 2>&1 || true
fi
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

if [ "$mode" = tls ]; then
    # Three parts, each target in turn within a round: wrk over https with keep-alive (HTTP/1.1: wrk
    # offers no ALPN); h2load over TLS (h2 by ALPN) and over h2c (prior knowledge), 8 connections of 8
    # concurrent streams each, latencies from its per-request log; and full handshakes: 8 `openssl s_time
    # -new` clients side by side, each connection a new TCP connection and a full TLS handshake (no
    # session resumption: s_time -new offers none, where wrk and h2load resume the sessions they saw)
    # and one `GET /small HTTP/1.0`, answered and closed. s_time sends "GET <page> HTTP/1.0" and no Host,
    # which ours answers 400 (nginx and HAProxy take it): the page given to it carries a Host line.
    s_time_page=$'/small HTTP/1.0\r\nHost: localhost\r\nX-Sent-By: openssl-s_time'

    declare -A tls_port h2c_port proxy_pid
    tls_port[nginx]=$nginx_tls tls_port[haproxy]=$haproxy_tls tls_port[ours]=$ours
    h2c_port[nginx]=$nginx_h2c h2c_port[haproxy]=$haproxy_h2c h2c_port[ours]=$ours_h2c
    proxy_pid[nginx]=${pid[nginx]} proxy_pid[haproxy]=${pid[haproxy]} proxy_pid[ours]=$ours_pid
    handshake_clients=8
    # What s_time reads must be a proxied 200, or its handshake count means nothing.
    for target in nginx haproxy ours; do
        status=$(printf 'GET %s HTTP/1.0\r\n\r\n' "$s_time_page" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:${tls_port[$target]}" 2>/dev/null | head -1 | tr -d '\r' || true)
        [ "${status#* }" = "200 OK" ] || { echo "benchmark: $target over TLS answered '$status' to s_time's request" >&2; exit 1; }
    done
    results="$work/tls.tsv"
    cell() { # part target connections body ticks [h2load's log | seconds], the tool's output on stdin
        python3 "$work/summarize.py" "$@" >> "$results"
    }
    cat > "$work/summarize.py" <<'PY'
import re, sys
part, target, conns, body, ticks = sys.argv[1:6]
out = sys.stdin.read()
def millis(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
tls = ""
if part == "https":  # wrk
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = millis(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = millis(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
elif part in ("h2", "h2c"):  # h2load, and its per-request log: start µs, status, duration µs
    rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
    counts = re.search(r"requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    done, errors = int(counts.group(1)), sum(int(n) for n in counts.groups()[1:])
    codes = re.search(r"status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx", out)
    errors += int(codes.group(1)) + int(codes.group(2))
    durations = sorted(int(line.split()[2]) for line in open(sys.argv[6]) if line.strip())
    p50, p99 = (durations[int(q * (len(durations) - 1))] / 1000 if durations else float("nan") for q in (0.5, 0.99))
    tls = "; ".join(re.findall(r"^(?:TLS Protocol|Cipher|Server Temp Key|Application protocol): (.*)$", out, re.M))
else:  # handshakes: every s_time client's output, then the wall-clock seconds they took together
    done = sum(int(n) for n in re.findall(r"^(\d+) connections in \d+ real seconds", out, re.M))
    rps = done / float(sys.argv[6])
    p50 = p99 = float("nan")
    errors = 0 if done else 1
print("\t".join(map(str, (part, target, conns, body, ticks, done, rps, p50, p99, errors, tls))))
PY
    for round in $(seq 1 "$rounds"); do
        for conns in 8 64; do
            for body in small 1k; do
                for target in nginx haproxy ours; do
                    before_ticks=$(cpu_ticks "${proxy_pid[$target]}")
                    out=$(wrk -t1 -c"$conns" -d"${seconds}s" --latency "https://127.0.0.1:${tls_port[$target]}/$body")
                    after_ticks=$(cpu_ticks "${proxy_pid[$target]}")
                    echo "$out" | cell https "$target" "$conns" "$body" "$((after_ticks - before_ticks))"
                    echo "round $round: https, $target, $conns connections, /$body done" >&2
                done
            done
        done
        for part in h2 h2c; do
            for body in small 1k; do
                for target in nginx haproxy ours; do
                    if [ "$part" = h2 ]; then url="https://127.0.0.1:${tls_port[$target]}/$body"; else url="http://127.0.0.1:${h2c_port[$target]}/$body"; fi
                    # The h2c instance of ours is a process of its own.
                    owner=${proxy_pid[$target]}; [ "$part/$target" = h2c/ours ] && owner=$ours_h2c_pid
                    before_ticks=$(cpu_ticks "$owner")
                    out=$(h2load -t1 -c8 -m8 -D "$seconds" --log-file="$work/h2load.log" "$url")
                    after_ticks=$(cpu_ticks "$owner")
                    echo "$out" | cell "$part" "$target" 8x8 "$body" "$((after_ticks - before_ticks))" "$work/h2load.log"
                    echo "round $round: $part, $target, /$body done" >&2
                done
            done
        done
        for target in nginx haproxy ours; do
            clients=()
            before_ticks=$(cpu_ticks "${proxy_pid[$target]}")
            started=$(date +%s%N)
            for client in $(seq "$handshake_clients"); do
                openssl s_time -connect "127.0.0.1:${tls_port[$target]}" -new -time "$seconds" -www "$s_time_page" > "$work/s_time.$client" 2>&1 &
                clients+=($!)
            done
            wait "${clients[@]}" || true
            elapsed=$(( $(date +%s%N) - started ))
            after_ticks=$(cpu_ticks "${proxy_pid[$target]}")
            cat "$work"/s_time.* | cell handshakes "$target" "$handshake_clients" small "$((after_ticks - before_ticks))" "$elapsed"e-9
            echo "round $round: handshakes, $target done" >&2
        done
    done
    python3 - "$results" "$(getconf CLK_TCK)" "$rounds" "$seconds" "$handshake_clients" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import math, statistics, sys
path, hz, rounds, seconds, clients, cores, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
cells, tls = {}, {}
for line in open(path):
    part, target, conns, body, ticks, done, rps, p50, p99, errors, info = line.rstrip("\n").split("\t")
    cpu = int(ticks) / hz * 1e6 / max(int(done), 1)
    cells.setdefault((part, conns, body), {}).setdefault(target, []).append((float(rps), float(p50), float(p99), int(errors), cpu, int(done)))
    if info:
        tls.setdefault(part, {})[target] = info
def ms(value):
    return "—" if math.isnan(value) else f"{value:.2f}"
names = {"nginx": "nginx", "haproxy": "HAProxy", "ours": "**LoadBalancer**"}
parts = {"https": "https, wrk", "h2": "h2 over TLS, h2load", "h2c": "h2c, h2load", "handshakes": "full TLS handshakes, s_time -new"}
print(f"\nTLS and HTTP/2 at the front: medians of {rounds} round(s) of {seconds} s per cell; {cores} cores, load average {load} at the end.")
print("One self-signed EC P-256 certificate for all three; the backends plain HTTP/1.1 in one nginx of 1 worker. https: wrk -t1 with")
print("keep-alive (HTTP/1.1). h2 and h2c: h2load -t1, 8 connections of 8 concurrent streams (8x8). Handshakes: "
      f"{clients} openssl s_time -new clients, each connection a full handshake and one GET; requests/s there are handshakes/s.\n")
print("| part | connections | body | target | requests/s | p50 ms | p99 ms | errors | CPU µs/req | vs nginx | vs HAProxy |")
print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
summary = []
for key in sorted(cells, key=lambda k: (list(parts).index(k[0]), k[1].zfill(4), k[2] != "small")):
    part, conns, body = key
    med = {t: [statistics.median(v) for v in zip(*cells[key][t])] for t in ("nginx", "haproxy", "ours")}
    for target in ("nginx", "haproxy", "ours"):
        rps, p50, p99, errors, cpu, done = med[target]
        print(f"| {parts[part]} | {conns} | {body} | {names[target]} | {rps:,.0f} | {ms(p50)} | {ms(p99)} | {errors:.0f} | {cpu:.1f} | "
              f"{rps / med['nginx'][0]:.2f} | {rps / med['haproxy'][0]:.2f} |")
    summary.append((parts[part], conns, body, med))
print("\nOurs as a share of each: requests/s (above 1: faster) and CPU per request (above 1: costlier).\n")
print("| part | connections | body | req/s ours / nginx | req/s ours / HAProxy | CPU ours / nginx | CPU ours / HAProxy |")
print("|---|---:|---|---:|---:|---:|---:|")
for part, conns, body, med in summary:
    print(f"| {part} | {conns} | {body} | {med['ours'][0] / med['nginx'][0]:.2f} | {med['ours'][0] / med['haproxy'][0]:.2f} | "
          f"{med['ours'][4] / med['nginx'][4]:.2f} | {med['ours'][4] / med['haproxy'][4]:.2f} |")
# wrk has no warm-up: each https cell starts with a full handshake per connection, in its CPU above.
handshake = {t: statistics.median(v[4] for v in cells[("handshakes", clients, "small")][t]) for t in ("nginx", "haproxy", "ours")}
print("\nOf the CPU per request in the https rows, the full handshakes that open each cell's connections (CPU per full handshake")
print("above × connections ÷ requests): " + "; ".join(
    f"{conns} connections /{body}: " + ", ".join(
        f"{names[t].strip('*')} {handshake[t] * int(conns) / statistics.median(v[5] for v in cells[('https', conns, body)][t]):.1f}"
        for t in ("nginx", "haproxy", "ours"))
    for (part, conns, body) in sorted(cells, key=lambda k: (k[1].zfill(4), k[2] != "small")) if part == "https") + " µs.")
print("\nWhat h2load negotiated (wrk and s_time: the same OpenSSL client defaults, without ALPN):")
for part in ("h2", "h2c"):
    for target in ("nginx", "haproxy", "ours"):
        print(f"  {part}, {names[target].strip('*')}: {tls.get(part, {}).get(target, 'nothing reported')}")
PY
    exit 0
fi

if [ "$mode" = floor ]; then
    results="$work/floor.tsv"
    for round in $(seq 1 "$rounds"); do
        for conns in 8 64; do
            # With --before, the two versions of ours run back to back, which goes first alternating by round.
            pair="ours"; [ -n "$before" ] && { pair="ours before"; [ $((round % 2)) = 0 ] && pair="before ours"; }
            for target in undertow-server nginx-server $pair nginx undertow-proxy bare-forward; do
                before_ticks=$(cpu_ticks "${pid[$target]}")
                out=$(wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:${port[$target]}/small")
                after_ticks=$(cpu_ticks "${pid[$target]}")
                requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
                printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$conns" "$((after_ticks - before_ticks))" "$requests" "$round" >> "$results"
                echo "round $round: $target, $conns connections done" >&2
            done
        done
    done
    python3 - "$results" "$(getconf CLK_TCK)" "$rounds" "$seconds" "$before" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' with uncommitted changes')" \
        "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
path, hz, rounds, seconds, before, head, cores, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
cpu, by_round = {}, {}
for line in open(path):
    target, conns, ticks, requests, round_ = line.split()
    value = int(ticks) / hz * 1e6 / max(int(requests), 1)
    cpu.setdefault((conns, target), []).append(value)
    by_round[(conns, target, round_)] = value
print(f"\nCPU µs per request, medians of {rounds} round(s) of {seconds} s, /small, wrk -t1, keep-alive; {cores} cores, load average {load} at the end:\n")
print("| connections | Undertow answering | nginx answering | LoadBalancer proxying | nginx proxying | Undertow's ProxyHandler | bare forwarding on Undertow | ours − Undertow's floor | nginx's proxy − its floor | bare forwarding − Undertow's floor |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for conns in ("8", "64"):
    m = {t: statistics.median(cpu[(conns, t)]) for t in ("undertow-server", "nginx-server", "ours", "nginx", "undertow-proxy", "bare-forward")}
    print(f"| {conns} | {m['undertow-server']:.1f} | {m['nginx-server']:.1f} | {m['ours']:.1f} | {m['nginx']:.1f} | "
          f"{m['undertow-proxy']:.1f} | {m['bare-forward']:.1f} | "
          f"{m['ours'] - m['undertow-server']:.1f} | {m['nginx'] - m['nginx-server']:.1f} | {m['bare-forward'] - m['undertow-server']:.1f} |")
print("\nThe CPU goal, 1.25x nginx's proxy: " + ", ".join(
    f"{conns} connections {1.25 * statistics.median(cpu[(conns, 'nginx')]):.1f}" for conns in ("8", "64")) + " µs per request")
if before:
    # Issue 21's check: after / before within 1.05 at 64 connections, single pool, same run.
    print(f"\nOurs as checked out ({head}) against ours as of {before}, same run, same options (one pool of two backends):\n")
    print("| connections | after µs/req | before µs/req | after / before | each round, after / before |")
    print("|---:|---:|---:|---:|---|")
    for conns in ("8", "64"):
        after, earlier = statistics.median(cpu[(conns, "ours")]), statistics.median(cpu[(conns, "before")])
        rounds_text = ", ".join(f"{by_round[(conns, 'ours', r)] / by_round[(conns, 'before', r)]:.2f}"
                                for r in sorted({k[2] for k in by_round}, key=int))
        print(f"| {conns} | {after:.1f} | {earlier:.1f} | {after / earlier:.3f} | {rounds_text} |")
    ratio = statistics.median(cpu[("64", "ours")]) / statistics.median(cpu[("64", "before")])
    verdict = "within the 5% allowance" if ratio <= 1.05 else f"{100 * (ratio - 1):.1f}% more CPU per request, over the 5% allowance"
    print(f"\nAt 64 connections after / before = {ratio:.3f}: {verdict} (issue 21).")
PY
    exit 0
fi

if [ "$mode" = profile ]; then
    length=$(( seconds * 4 ))
    profiled=(ours); [ -n "$before" ] && profiled+=(before)
    if [ -n "$before" ]; then wrk -t1 -c64 -d"${warmup}s" "http://127.0.0.1:$ours_before/small" >/dev/null; fi
    for target in "${profiled[@]}"; do
        echo "profiling $target under 64 connections for $length s..." >&2
        wrk -t1 -c64 -d"${length}s" "http://127.0.0.1:${port[$target]}/small" | sed -n "s/Requests\/sec:/$target requests\/s under the profiler:/p"
    done
    for target in "${profiled[@]}"; do
        kill "${pid[$target]}"
        for _ in $(seq 300); do kill -0 "${pid[$target]}" 2>/dev/null || break; sleep 0.1; done
        if [ -f "$work/flame-${pid[$target]}.html" ]; then
            cp "$work/flame-${pid[$target]}.html" "$out_dir/flame-$target.html"
            echo "flame graph of $target (whole run, warm-up included): $out_dir/flame-$target.html"
        else
            log="$work/ours.log"; [ "$target" = before ] && log="$work/ours-before.log"
            echo "benchmark: the profiler wrote no flame graph for $target (see $log)" >&2; cat "$log" >&2; exit 1
        fi
    done
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
