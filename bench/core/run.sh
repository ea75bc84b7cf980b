#!/usr/bin/env bash
# Core proxy benchmark: load generator -> proxy -> upstream, for wasmesh, nginx,
# HAProxy, plus "direct" (load generator -> upstream) as a baseline. One run,
# one machine. `npm run bench` (bench/suite.sh) runs it with LOADGEN=wasmesh.
#
# Usage:  bash bench/core/run.sh            (see bench/core/README.md)
#
# Environment (all optional):
#   SCENARIOS="direct nginx haproxy wasmesh"   which scenarios, in order
#   LOADGEN=wrk         wrk: wrk (max load) + fixed-rate.js (fixed rate);
#                       wasmesh: `wasmesh bench --max` and `wasmesh bench --rate`
#   PLOTS=${OUT%.md}    LOADGEN=wasmesh: write PLOTS-1000rps.svg / PLOTS-max.svg
#                       (`wasmesh bench plot` of every scenario; "" = none)
#   WASMESH_CMD="node REPO/bin/wasmesh.js proxy -c {config} --workers 1"
#                       {config} is replaced by the generated YAML path
#                       (appended as "-c PATH" when absent)
#   READY_TIMEOUT=15    seconds to wait for a proxy to become ready
#   DURATION=10 WARMUP=3 CONNS=50 WRK_THREADS=1      max-load settings
#                       (WRK_THREADS is `wasmesh bench -t` with LOADGEN=wasmesh)
#   FIXED_RATE=1000 FIXED_DURATION=10 FIXED_WARMUP=1 FIXED_CONNS=10
#   PIN=1               1: proxy on CPU $PROXY_CPU, upstream+wrk+fixed-rate on
#                       CPU $LOADGEN_CPU (needs >= 2 CPUs); 0: no pinning
#   PROXY_CPU=0 LOADGEN_CPU=1
#   FIXED_CPU=$LOADGEN_CPU   CPU for fixed-rate.js when pinning ("" = unpinned)
#   MAXLOAD=1           0: skip the wrk max-load runs (fixed-rate only)
#   LOWLAT=0            1 (root): hold /dev/cpu_dma_latency at 0 during the run, so
#                       idle CPUs poll instead of halting; removes most of the VM's
#                       wake-up jitter from the latency numbers (machine-wide while
#                       the script runs)
#   UPSTREAM=uws        uws (bench/core/upstream.js) | nginx (return 200)
#   OUT=bench/core/results-latest.md
#   INSTALL=1           apt-get install nginx/haproxy/wrk when missing (root only)
#   KEEP_TMP=0          keep the temp dir (configs, logs, raw results)
#   QUIET_PCT=15 QUIET_WAIT=15   before each scenario wait up to QUIET_WAIT s
#                       for foreign CPU load (processes not started by this
#                       script) to drop below QUIET_PCT % of one CPU
#   RETRY_PCT=20 RETRY_STEAL_PCT=5 TIME_BUDGET=225   measure a scenario once
#                       more when foreign load reached RETRY_PCT % of a CPU, or
#                       hypervisor steal RETRY_STEAL_PCT %, during it, if the
#                       measurements so far, that retry and the scenarios still
#                       to come (worst case each) fit in TIME_BUDGET seconds
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

SCENARIOS="${SCENARIOS:-direct nginx haproxy wasmesh}"
LOADGEN="${LOADGEN:-wrk}"
case "$LOADGEN" in wrk | wasmesh) ;; *) echo "LOADGEN must be wrk or wasmesh" >&2; exit 2 ;; esac
# wasmesh-LABEL scenarios run wasmesh with the filter chain in $CHAINS_DIR/LABEL.yaml
CHAINS_DIR="${CHAINS_DIR:-$REPO/bench/wasm/chains}"
# (the default cannot be written inline: the "}" of {config} would end ${...:-...})
WASMESH_DEFAULT_CMD="node $REPO/bin/wasmesh.js proxy -c {config} --workers 1"
WASMESH_CMD="${WASMESH_CMD:-$WASMESH_DEFAULT_CMD}"
READY_TIMEOUT="${READY_TIMEOUT:-15}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONNS="${CONNS:-50}"
WRK_THREADS="${WRK_THREADS:-1}"
FIXED_RATE="${FIXED_RATE:-1000}"
FIXED_DURATION="${FIXED_DURATION:-10}"
FIXED_WARMUP="${FIXED_WARMUP:-1}"
FIXED_CONNS="${FIXED_CONNS:-10}"
PIN="${PIN:-1}"
PROXY_CPU="${PROXY_CPU:-0}"
LOADGEN_CPU="${LOADGEN_CPU:-1}"
FIXED_CPU="${FIXED_CPU-$LOADGEN_CPU}"
MAXLOAD="${MAXLOAD:-1}"
LOWLAT="${LOWLAT:-0}"
UPSTREAM="${UPSTREAM:-uws}"
OUT="${OUT:-$HERE/results-latest.md}"
PLOTS="${PLOTS-${OUT%.md}}"
INSTALL="${INSTALL:-1}"
KEEP_TMP="${KEEP_TMP:-0}"
NODE="${NODE:-node}"
QUIET_PCT="${QUIET_PCT:-15}"
QUIET_WAIT="${QUIET_WAIT:-15}"
RETRY_PCT="${RETRY_PCT:-20}"
RETRY_STEAL_PCT="${RETRY_STEAL_PCT:-5}"
TIME_BUDGET="${TIME_BUDGET:-225}"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup ----
TMP="$(mktemp -d /tmp/wasmesh-bench.XXXXXX)"
RES="$TMP/results"
mkdir -p "$RES"
: >"$TMP/commands.txt"
STARTED_PIDS=()   # each started with setsid: pid == its process group id
MON_PID=""
LOADGEN_PID=""

stop_group() { # stop_group PID: TERM the process group, wait up to 3 s, then KILL
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# stop_started PID: stop one process group started here and forget it (so a
# recycled PID can never be signalled later)
stop_started() {
  local pid="$1" p keep=()
  stop_group "$pid"
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$MON_PID" ] && kill -TERM "$MON_PID" 2>/dev/null || true
  [ -n "$LOADGEN_PID" ] && kill -TERM "$LOADGEN_PID" 2>/dev/null || true
  local p
  for p in "${STARTED_PIDS[@]}"; do stop_group "$p"; done
  if [ "$KEEP_TMP" = 1 ]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# start_bg NAME CPU CMD...: start CMD in its own process group (setsid), pinned
# to CPU when pinning is on, output to $TMP/NAME.log; sets BG_PID.
start_bg() {
  local name="$1" cpu="$2"
  shift 2
  local pin=()
  [ "$PIN" = 1 ] && [ -n "$cpu" ] && pin=(taskset -c "$cpu")
  echo "${pin[*]:+${pin[*]} }$*" >>"$TMP/commands.txt"
  setsid "${pin[@]}" "$@" >"$TMP/$name.log" 2>&1 </dev/null &
  BG_PID=$!
  STARTED_PIDS+=("$BG_PID")
}

# loadgen CMD...: run CMD in the foreground on the load-generator CPU
# (LOADGEN_CPU_NOW overrides it for one call; empty = unpinned)
loadgen() {
  local pin=() cpu="${LOADGEN_CPU_NOW-$LOADGEN_CPU}"
  [ "$PIN" = 1 ] && [ -n "$cpu" ] && pin=(taskset -c "$cpu")
  echo "${pin[*]:+${pin[*]} }$*" >>"$TMP/commands.txt"
  # in the background + wait, so a signal to this script is handled at once
  # (bash runs traps only after a foreground child has exited)
  "${pin[@]}" "$@" </dev/null &
  LOADGEN_PID=$!
  local rc=0
  wait "$LOADGEN_PID" || rc=$?
  LOADGEN_PID=""
  return "$rc"
}

# ---------------------------------------------------------- prerequisites ----
have() { command -v "$1" >/dev/null 2>&1; }
find_bin() { # nginx/haproxy live in /usr/sbin, which may not be on PATH
  if have "$1"; then command -v "$1"; elif [ -x "/usr/sbin/$1" ]; then echo "/usr/sbin/$1"; fi
}

apt_install() {
  local pkgs=("$@")
  log "installing ${pkgs[*]} with apt-get (waiting for the dpkg lock if another install runs)"
  # RUNLEVEL=1: keep the Debian packages from starting system services
  if ! RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${pkgs[@]}" >"$TMP/apt.log" 2>&1; then
    RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=300 update >>"$TMP/apt.log" 2>&1 || true
    RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${pkgs[@]}" >>"$TMP/apt.log" 2>&1 ||
      log "apt-get install ${pkgs[*]} failed (see below)"
    tail -n 5 "$TMP/apt.log" >&2 || true
  fi
}

have "$NODE" || die "node not found"
have curl || die "curl not found"
# NGINX_BIN / HAPROXY_BIN / WRK_BIN override the binaries (empty = treat as missing)
NGINX="${NGINX_BIN-$(find_bin nginx)}"
HAPROXY="${HAPROXY_BIN-$(find_bin haproxy)}"
WRK="${WRK_BIN-$(find_bin wrk)}"
missing=()
[ "$LOADGEN" = wrk ] && [ -z "$WRK" ] && missing+=(wrk)
[[ " $SCENARIOS " == *" nginx "* || "$UPSTREAM" == nginx ]] && [ -z "$NGINX" ] && missing+=(nginx)
[[ " $SCENARIOS " == *" haproxy "* ]] && [ -z "$HAPROXY" ] && missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && [ "$INSTALL" = 1 ] && have apt-get; then
    apt_install "${missing[@]}"
    NGINX="$(find_bin nginx)"
    HAPROXY="$(find_bin haproxy)"
    WRK="$(find_bin wrk)"
    INSTALL_WHY="apt-get install failed"
  else
    if [ "$(id -u)" != 0 ]; then INSTALL_WHY="not root: cannot apt-get install"
    elif [ "$INSTALL" != 1 ]; then INSTALL_WHY="INSTALL=0"
    else INSTALL_WHY="no apt-get"; fi
    log "missing: ${missing[*]} ($INSTALL_WHY): those scenarios/measurements are skipped"
  fi
fi
[ "$LOADGEN" = wrk ] && [ -z "$WRK" ] && log "wrk not available: max-load columns will be empty"
WBENCH=("$NODE" "$REPO/bin/wasmesh.js" bench)
if [ "$LOADGEN" = wasmesh ] && [ ! -f "$REPO/dist/bench/tool/cli.js" ]; then die "wasmesh bench is not built: run npm run build"; fi
if [ "$UPSTREAM" = nginx ] && [ -z "$NGINX" ]; then die "UPSTREAM=nginx but nginx is not available"; fi

NCPU="$(nproc)"
if [ "$PIN" = 1 ] && { [ "$NCPU" -lt 2 ] || ! have taskset; }; then
  log "pinning needs >= 2 CPUs and taskset; running unpinned"
  PIN=0
fi

# ------------------------------------------------------------------ ports ----
read -r P_UP P_NGINX P_HAPROXY P_WASMESH P_WASMESH_ADMIN < <("$NODE" -e '
  const net = require("net"); const n = 5, ports = [], srvs = [];
  (function next() {
    if (ports.length === n) { srvs.forEach(s => s.close()); console.log(ports.join(" ")); return; }
    const s = net.createServer(); srvs.push(s);
    s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); next(); });
  })();')
[ -n "$P_WASMESH_ADMIN" ] || die "could not allocate ports"

# ---------------------------------------------------------- machine info ----
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || true)"
{
  echo "nproc=$NCPU"
  echo "cpu=${CPU_MODEL:-unknown}"
  echo "kernel=$(uname -srm)"
  echo "os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || echo unknown)"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "loadavg_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node=$("$NODE" -v)"
  echo "nginx=$([ -n "$NGINX" ] && "$NGINX" -v 2>&1 | sed 's/.*version: //' || echo missing)"
  echo "haproxy=$([ -n "$HAPROXY" ] && "$HAPROXY" -v 2>&1 | head -1 | sed 's/HAProxy version //; s/ - .*//' || echo missing)"
  echo "wrk=$([ -n "$WRK" ] && "$WRK" -v 2>&1 | head -1 | sed 's/ Copyright.*//' || echo missing)"
  echo "loadgen=$LOADGEN"
  echo "scenarios=$SCENARIOS"
  echo "maxload=$MAXLOAD"
  echo "wasmesh_rev=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "pin=$PIN"
  echo "proxy_cpu=$PROXY_CPU"
  echo "loadgen_cpu=$LOADGEN_CPU"
  echo "fixed_cpu=$FIXED_CPU"
  echo "upstream=$UPSTREAM"
  echo "duration=$DURATION"
  echo "warmup=$WARMUP"
  echo "conns=$CONNS"
  echo "wrk_threads=$WRK_THREADS"
  echo "fixed_rate=$FIXED_RATE"
  echo "fixed_duration=$FIXED_DURATION"
  echo "fixed_warmup=$FIXED_WARMUP"
  echo "fixed_conns=$FIXED_CONNS"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "wasmesh_cmd=$WASMESH_CMD"
} >"$RES/machine.env"

# ------------------------------------------------------------- readiness ----
# wait_http URL PID [SECONDS]: poll until URL answers 200 (PID must stay alive)
wait_http() {
  local url="$1" pid="$2" limit="${3:-$READY_TIMEOUT}" deadline code
  deadline=$((SECONDS + limit))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 2
    code="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null || true)"
    [ "$code" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# check_body URL: the proxied response must be 200 with exactly the 64-byte body
check_body() {
  local r
  r="$(curl -s -o /dev/null -m 2 -w '%{http_code} %{size_download}' "$1" 2>/dev/null || true)"
  [ "$r" = "200 64" ] || { echo "$r"; return 1; }
}

# --------------------------------------------------------------- upstream ----
NGINX_USER_LINE=""
[ "$(id -u)" = 0 ] && NGINX_USER_LINE="user root;"
BODY64='wasmesh-bench-upstream-0123456789abcdefghijklmnopqrstuvwxyz-ok.'   # + "\n" = 64 bytes

nginx_common() { # nginx_common DIR: main-context lines shared by both nginx configs
  cat <<EOF
$NGINX_USER_LINE
daemon off;
master_process on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
EOF
}
nginx_temp_paths() {
  cat <<EOF
  client_body_temp_path $1/client_body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
EOF
}

start_upstream() {
  if [ "$UPSTREAM" = nginx ]; then
    local d="$TMP/nginx-upstream"
    mkdir -p "$d"
    {
      nginx_common "$d"
      cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$d")
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$P_UP;
    location / { default_type text/plain; return 200 "$BODY64\n"; }
  }
}
EOF
    } >"$d/nginx.conf"
    start_bg upstream "$LOADGEN_CPU" "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  else
    start_bg upstream "$LOADGEN_CPU" "$NODE" "$HERE/upstream.js" "$P_UP" 127.0.0.1
  fi
  UP_PID=$BG_PID
  wait_http "http://127.0.0.1:$P_UP/" "$UP_PID" 10 || { cat "$TMP/upstream.log" >&2; die "upstream did not start"; }
  check_body "http://127.0.0.1:$P_UP/" >/dev/null || die "upstream does not answer 200 with 64 bytes"
  log "upstream ($UPSTREAM) on 127.0.0.1:$P_UP, pid $UP_PID"
}

# ---------------------------------------------------------------- proxies ----
# Each start_* sets TARGET_PORT and PROXY_PID, returns non-zero on failure
# (with a reason in FAIL_REASON).
start_nginx() {
  [ -n "$NGINX" ] || { FAIL_REASON="skipped: nginx not installed${INSTALL_WHY:+ ($INSTALL_WHY)}"; return 1; }
  local d="$TMP/nginx-proxy"
  mkdir -p "$d"
  {
    nginx_common "$d"
    cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$d")
  # client side: never recycle wrk's keep-alive connections during a run
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  # Header parity with wasmesh: keep an incoming x-request-id, else generate one.
  map \$http_x_request_id \$req_id { default \$http_x_request_id; "" \$request_id; }
  upstream backend {
    server 127.0.0.1:$P_UP;
    keepalive 64;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$P_NGINX;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Same per-request work as wasmesh: client Host kept, XFF appended, XFP and a request id set.
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Request-ID \$req_id;
    }
  }
}
EOF
  } >"$d/nginx.conf"
  cp "$d/nginx.conf" "$RES/nginx.conf"
  start_bg nginx "$PROXY_CPU" "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  PROXY_PID=$BG_PID
  TARGET_PORT=$P_NGINX
  wait_http "http://127.0.0.1:$TARGET_PORT/" "$PROXY_PID" ||
    { FAIL_REASON="failed: nginx not ready ($(tail -n 2 "$TMP/nginx.log" "$d/error.log" 2>/dev/null | tr '\n' ' '))"; return 1; }
}

start_haproxy() {
  [ -n "$HAPROXY" ] || { FAIL_REASON="skipped: haproxy not installed${INSTALL_WHY:+ ($INSTALL_WHY)}"; return 1; }
  local f="$TMP/haproxy.cfg"
  cat >"$f" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend bench
  bind 127.0.0.1:$P_HAPROXY
  # Same per-request work as wasmesh: XFF appended, XFP and a request id set.
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Request-ID %[unique-id] unless { req.hdr(x-request-id) -m found }
  default_backend upstream
backend upstream
  server u1 127.0.0.1:$P_UP
EOF
  cp "$f" "$RES/haproxy.cfg"
  start_bg haproxy "$PROXY_CPU" "$HAPROXY" -db -f "$f"
  PROXY_PID=$BG_PID
  TARGET_PORT=$P_HAPROXY
  wait_http "http://127.0.0.1:$TARGET_PORT/" "$PROXY_PID" ||
    { FAIL_REASON="failed: haproxy not ready ($(tail -n 2 "$TMP/haproxy.log" | tr '\n' ' '))"; return 1; }
}

# start_wasmesh [SCENARIO]: "wasmesh-LABEL" adds the listener lines of
# $CHAINS_DIR/LABEL.yaml (a filter chain) to the config
start_wasmesh() {
  local name="${1:-wasmesh}" cfg="$TMP/${1:-wasmesh}.yaml" extra=""
  if [ "$name" != wasmesh ]; then
    local chain="$CHAINS_DIR/${name#wasmesh-}.yaml"
    [ -f "$chain" ] || { FAIL_REASON="skipped: no chain file $chain"; return 1; }
    extra="$(sed -e 's/^/    /' "$chain")"
  fi
  cat >"$cfg" <<EOF
admin: { address: 127.0.0.1:$P_WASMESH_ADMIN }
listeners:
  - name: bench
    address: 127.0.0.1:$P_WASMESH
    defaultCluster: upstream
$extra
clusters:
  - name: upstream
    endpoints: [127.0.0.1:$P_UP]
    lb: round_robin
EOF
  cp "$cfg" "$RES/$name.yaml"
  local cmd="$WASMESH_CMD"
  if [[ "$cmd" == *"{config}"* ]]; then cmd="${cmd//\{config\}/$cfg}"; else cmd="$cmd -c $cfg"; fi
  # word-split the command string on purpose (it comes from an env var)
  local -a argv
  read -r -a argv <<<"$cmd"
  start_bg "$name" "$PROXY_CPU" "${argv[@]}"
  PROXY_PID=$BG_PID
  TARGET_PORT=$P_WASMESH
  local rc=0
  wait_http "http://127.0.0.1:$P_WASMESH_ADMIN/ready" "$PROXY_PID" || rc=$?
  if [ "$rc" != 0 ]; then
    local why="not ready after ${READY_TIMEOUT}s"
    [ "$rc" = 2 ] && why="exited"
    FAIL_REASON="failed: $name $why: $(tail -n 3 "$TMP/$name.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
    return 1
  fi
}

# ------------------------------------------------------------ measurement ----
mon_start() { # mon_start PID OUTFILE
  local pin=()
  [ "$PIN" = 1 ] && pin=(taskset -c "$LOADGEN_CPU")
  # SCHED_IDLE: the monitor only runs when the load-generator CPU has nothing else to do
  have chrt && pin=(chrt -i 0 "${pin[@]}")
  "${pin[@]}" "$NODE" "$HERE/procmon.js" "$1" 200 --own $$ >"$2" 2>&1 &
  MON_PID=$!
  local i
  for i in $(seq 1 100); do grep -q ready "$2" 2>/dev/null && return 0; sleep 0.02; done
  log "procmon did not start"
}
mon_stop() {
  [ -n "$MON_PID" ] || return 0
  kill -TERM "$MON_PID" 2>/dev/null || true
  wait "$MON_PID" 2>/dev/null || true
  MON_PID=""
}

# wait_quiet NAME: wait (bounded) until the machine is free of foreign load
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) pct
  while :; do
    pct="$("$NODE" "$HERE/procmon.js" --other $$ 1 | sed 's/.*://; s/}//')"
    if awk -v p="$pct" -v q="$QUIET_PCT" 'BEGIN { exit !(p < q) }'; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$1: foreign CPU load still ${pct}% of a CPU after ${QUIET_WAIT}s; measuring anyway"
      echo "machine busy before start: foreign load ${pct}% of one CPU (waited ${QUIET_WAIT}s)" >>"$RES/$1.notes"
      break
    fi
    log "$1: waiting for foreign CPU load (${pct}% of a CPU) to settle"
  done
}

# run_scenario NAME: measure once; when foreign load (>= RETRY_PCT % of a CPU)
# or hypervisor steal (>= RETRY_STEAL_PCT % of a CPU) disturbed the measurement
# and the time budget allows, measure once more
run_scenario() {
  local name="$1" attempt per_try other steal
  per_try=$((QUIET_WAIT + WARMUP + DURATION + FIXED_WARMUP + FIXED_DURATION + 8))
  for attempt in 1 2; do
    measure_scenario "$name"
    [ "$(cat "$RES/$name.status")" = ok ] || return 0
    read -r other steal < <("$NODE" "$HERE/procmon.js" --disturbance "$RES/$name.mon-wrk.json" "$RES/$name.mon-fixed.json")
    awk -v o="$other" -v s="$steal" -v ro="$RETRY_PCT" -v rs="$RETRY_STEAL_PCT" 'BEGIN { exit !(o >= ro || s >= rs) }' || return 0
    # time for this retry and for the first attempt of every scenario still to come
    if [ "$attempt" = 1 ] && [ $((SECONDS - T_START + per_try * (1 + REMAINING))) -le "$TIME_BUDGET" ]; then
      log "$name: disturbed (foreign load ${other}% of a CPU, steal ${steal}%); measuring again"
      for f in status wrk.txt warmup.txt fixed.json fixed.err bench-max.json bench-max.txt bench-fixed.json bench-fixed.txt \
        mon-wrk.json mon-fixed.json idle.json notes; do
        [ -f "$RES/$name.$f" ] && mv "$RES/$name.$f" "$TMP/try1.$name.$f"
      done
      echo "first attempt discarded: foreign load ${other}% of one CPU, hypervisor steal ${steal}%" >"$RES/$name.notes"
    else
      [ "$attempt" = 1 ] && log "$name: disturbed (foreign ${other}%, steal ${steal}%), no time left to measure again"
      return 0
    fi
  done
}

measure_scenario() {
  local name="$1"
  PROXY_PID=""
  TARGET_PORT=""
  FAIL_REASON=""
  log "=== $name"
  wait_quiet "$name"
  case "$name" in
    direct) TARGET_PORT=$P_UP ;;
    nginx) start_nginx || true ;;
    haproxy) start_haproxy || true ;;
    wasmesh | wasmesh-*) start_wasmesh "$name" || true ;;
    *) FAIL_REASON="skipped: unknown scenario" ;;
  esac
  if [ -n "$FAIL_REASON" ]; then
    log "$name: $FAIL_REASON"
    echo "$FAIL_REASON" >"$RES/$name.status"
    [ -n "$PROXY_PID" ] && stop_started "$PROXY_PID"
    return 0
  fi
  local url="http://127.0.0.1:$TARGET_PORT/" bad
  if ! bad="$(check_body "$url")"; then
    echo "failed: bad response through $name (status/bytes: $bad, expected 200 64)" >"$RES/$name.status"
    log "$name: bad response ($bad)"
    [ -n "$PROXY_PID" ] && stop_started "$PROXY_PID"
    return 0
  fi
  [ -n "$PROXY_PID" ] && "$NODE" "$HERE/procmon.js" --once "$PROXY_PID" >"$RES/$name.idle.json"

  local mon_pid="${PROXY_PID:-$UP_PID}" # direct: monitor the upstream
  if [ "$LOADGEN" = wasmesh ]; then
    measure_wbench "$name" "$url" "$mon_pid"
  else
    measure_wrk "$name" "$url" "$mon_pid"
  fi
  if [ -n "$PROXY_PID" ]; then
    kill -0 "$PROXY_PID" 2>/dev/null || echo "warning: $name exited during the run" >>"$RES/$name.notes"
    stop_started "$PROXY_PID"
  fi
  echo ok >"$RES/$name.status"
}

# measure_wrk NAME URL MONPID: wrk warm-up + measured run, then fixed-rate.js
measure_wrk() {
  local name="$1" url="$2" mon_pid="$3"
  if [ -n "$WRK" ] && [ "$MAXLOAD" = 1 ]; then
    log "$name: wrk warm-up ${WARMUP}s"
    loadgen timeout --foreground $((WARMUP + 20)) "$WRK" -t "$WRK_THREADS" -c "$CONNS" -d "${WARMUP}s" "$url" >"$RES/$name.warmup.txt" 2>&1 ||
      log "$name: warm-up wrk exited non-zero"
    log "$name: wrk ${DURATION}s, $CONNS connections, $WRK_THREADS thread(s)"
    mon_start "$mon_pid" "$RES/$name.mon-wrk.json"
    loadgen timeout --foreground $((DURATION + 20)) "$WRK" -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --latency \
      -s "$HERE/wrk-report.lua" "$url" >"$RES/$name.wrk.txt" 2>&1 || log "$name: wrk exited non-zero"
    mon_stop
    grep -E 'Requests/sec|99%' "$RES/$name.wrk.txt" | tr -s ' ' | sed "s/^/[bench]   $name wrk:/" >&2 || true
  fi
  log "$name: fixed-rate ${FIXED_RATE} rps for ${FIXED_DURATION}s (+${FIXED_WARMUP}s warm-up), $FIXED_CONNS connections"
  mon_start "$mon_pid" "$RES/$name.mon-fixed.json"
  LOADGEN_CPU_NOW="$FIXED_CPU" loadgen timeout --foreground $((FIXED_DURATION + FIXED_WARMUP + 20)) "$NODE" "$HERE/fixed-rate.js" --url "$url" \
    --rate "$FIXED_RATE" --duration "$FIXED_DURATION" --warmup "$FIXED_WARMUP" --connections "$FIXED_CONNS" \
    >"$RES/$name.fixed.json" 2>"$RES/$name.fixed.err" || log "$name: fixed-rate exited non-zero"
  mon_stop
  log "$name: fixed-rate $(cut -c1-400 "$RES/$name.fixed.json" | grep -o '"p50".*"max":[0-9.]*' || true)"
}

# measure_wbench NAME URL MONPID: `wasmesh bench --max`, then `--rate`. Its
# warm-up is part of the same process, so the monitor covers it too (report.js
# divides CPU by all requests completed, warm-up included).
measure_wbench() {
  local name="$1" url="$2" mon_pid="$3" f
  local common=(--label "$name" --no-progress)
  if [ "$MAXLOAD" = 1 ]; then
    log "$name: wasmesh bench --max ${DURATION}s after ${WARMUP}s warm-up, $CONNS connections, $WRK_THREADS worker(s)"
    f="$RES/$name.bench-max"
    mon_start "$mon_pid" "$RES/$name.mon-wrk.json"
    loadgen timeout --foreground $((WARMUP + DURATION + 30)) "${WBENCH[@]}" "$url" --max -c "$CONNS" -t "$WRK_THREADS" \
      -d "${DURATION}s" -w "${WARMUP}s" "${common[@]}" --json "$f.json" >"$f.txt" 2>&1 || log "$name: wasmesh bench --max exited non-zero"
    mon_stop
    grep -E '^  (rate|errors) ' "$f.txt" | tr -s ' ' | sed "s/^/[bench]   $name max:/" >&2 || true
  fi
  log "$name: wasmesh bench --rate ${FIXED_RATE} for ${FIXED_DURATION}s (+${FIXED_WARMUP}s warm-up), $FIXED_CONNS connections"
  f="$RES/$name.bench-fixed"
  mon_start "$mon_pid" "$RES/$name.mon-fixed.json"
  LOADGEN_CPU_NOW="$FIXED_CPU" loadgen timeout --foreground $((FIXED_WARMUP + FIXED_DURATION + 30)) "${WBENCH[@]}" "$url" \
    --rate "$FIXED_RATE" -c "$FIXED_CONNS" -d "${FIXED_DURATION}s" -w "${FIXED_WARMUP}s" "${common[@]}" --json "$f.json" \
    >"$f.txt" 2>&1 || log "$name: wasmesh bench --rate exited non-zero"
  mon_stop
  grep -E '^  (rate|errors|latency) ' "$f.txt" | tr -s ' ' | sed "s/^/[bench]   $name fixed:/" >&2 || true
}

# plot_runs KIND TITLE: overlay every scenario's KIND (max|fixed) run in one SVG
plot_runs() {
  local kind="$1" title="$2" out n files=()
  [ "$kind" = fixed ] && out="$PLOTS-${FIXED_RATE}rps.svg" || out="$PLOTS-max.svg"
  # `bench plot` prefixes each legend entry with the file's base name: copy
  # the runs to SCENARIO.json so that it reads "nginx: nginx @ 1000 rps"
  mkdir -p "$RES/plot-$kind"
  for n in "${SCEN_LIST[@]}"; do
    [ -f "$RES/$n.bench-$kind.json" ] || continue
    cp "$RES/$n.bench-$kind.json" "$RES/plot-$kind/$n.json"
    files+=("$RES/plot-$kind/$n.json")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  mkdir -p "$(dirname "$out")"
  echo "${WBENCH[*]} plot ${files[*]} -o $out --title '$title'" >>"$TMP/commands.txt"
  if "${WBENCH[@]}" plot "${files[@]}" -o "$out" --title "$title" >/dev/null; then
    echo "plot_$kind=$out" >>"$RES/machine.env"
  else
    log "plot of the $kind runs failed"
  fi
}

# ------------------------------------------------------------------- main ----
if [ "$LOWLAT" = 1 ]; then
  if [ -w /dev/cpu_dma_latency ]; then
    # a helper process holds the request (4-byte 0 = "no exit latency allowed")
    echo "(hold /dev/cpu_dma_latency = 0 for the run)" >>"$TMP/commands.txt"
    setsid bash -c 'exec 9>/dev/cpu_dma_latency; printf "\x00\x00\x00\x00" >&9; exec sleep 100000' </dev/null >/dev/null 2>&1 &
    STARTED_PIDS+=("$!")
  else
    log "LOWLAT=1 needs write access to /dev/cpu_dma_latency (root); ignored"
    LOWLAT=0
  fi
fi
echo "lowlat=$LOWLAT" >>"$RES/machine.env"
log "temp dir $TMP; ports: upstream $P_UP nginx $P_NGINX haproxy $P_HAPROXY wasmesh $P_WASMESH (admin $P_WASMESH_ADMIN); pin=$PIN"
start_upstream
T_START=$SECONDS
read -r -a SCEN_LIST <<<"$SCENARIOS"
for i in "${!SCEN_LIST[@]}"; do
  REMAINING=$((${#SCEN_LIST[@]} - i - 1))
  run_scenario "${SCEN_LIST[$i]}"
done
echo "elapsed=$((SECONDS - T_START))" >>"$RES/machine.env"
if [ "$LOADGEN" = wasmesh ] && [ -n "$PLOTS" ]; then
  plot_runs fixed "Latency by percentile at $FIXED_RATE req/s (open loop, $FIXED_CONNS connections)"
  plot_runs max "Latency by percentile at max throughput (closed loop, $CONNS connections)"
fi
cp "$TMP/commands.txt" "$RES/commands.txt"
"$NODE" "$HERE/report.js" "$RES" "$OUT"
log "written $OUT"
