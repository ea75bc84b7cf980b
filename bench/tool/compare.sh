#!/usr/bin/env bash
# How fast is `wasmesh bench`? Max throughput of wrk, autocannon and
# `wasmesh bench --max` against the same upstream, one after the other in one
# run, plus each tool's own CPU use (from /proc). The upstream is
# bench/core/upstream.js (uWebSockets.js, 64-byte body).
#
#   bash bench/tool/compare.sh
#
# Environment: CONNS=50 DURATION=10 WARMUP=2 THREADS=1 (per tool: wrk -t,
# autocannon -w, wasmesh bench -t), PIN=1 (upstream on CPU 0, tools on CPU 1;
# 0 = unpinned), TOOLS="wrk autocannon wasmesh".
# autocannon is not a dependency of wasmesh: it is installed into the run's
# temp dir from the npm registry. Loopback only; bounded by DURATION.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CONNS="${CONNS:-50}" DURATION="${DURATION:-10}" WARMUP="${WARMUP:-2}" THREADS="${THREADS:-1}" PIN="${PIN:-1}"
TOOLS="${TOOLS:-wrk autocannon wasmesh}"
TMP="$(mktemp -d /tmp/wasmesh-bench-compare.XXXXXX)"
UP_PID=""
cleanup() { [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
log() { printf '[compare] %s\n' "$*" >&2; }

pin_up=() pin_tool=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then pin_up=(taskset -c 0); pin_tool=(taskset -c 1); fi

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
"${pin_up[@]}" node "$REPO/bench/core/upstream.js" "$PORT" 127.0.0.1 >"$TMP/upstream.log" 2>&1 &
UP_PID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/"

if [[ " $TOOLS " == *" autocannon "* ]]; then
  log "installing autocannon into $TMP (not a wasmesh dependency)"
  npm install --silent --no-audit --no-fund --prefix "$TMP/ac" autocannon@8 >"$TMP/npm.log" 2>&1 || { log "autocannon install failed; skipped"; TOOLS="${TOOLS/autocannon/}"; }
fi

ticks() { awk '{print $14+$15+$16+$17}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# measure NAME CMD...: run CMD (pinned), print "NAME rps cpu%" from its output parsed by parse_NAME
ROWS=()
measure() {
  local name="$1"; shift
  log "$name: $*"
  echo "${pin_tool[*]:+${pin_tool[*]} }$*" >>"$TMP/commands.txt"
  local t0 w0 t1 w1
  # the tool is a child of this shell: its CPU is read back from our cutime after wait
  t0="$(ticks $$)"; w0="$(date +%s.%N)"
  "${pin_tool[@]}" "$@" >"$TMP/$name.out" 2>&1 </dev/null || log "$name exited non-zero"
  t1="$(ticks $$)"; w1="$(date +%s.%N)"
  local rps
  rps="$(parse_"$name" "$TMP/$name.out")"
  local cpu
  cpu="$(awk -v a="$t0" -v b="$t1" -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.0f", (b-a)/100/(w1-w0)*100 }')"
  ROWS+=("$name $rps $cpu")
  log "$name: $rps req/s, tool CPU ${cpu}% of one core (over the whole run incl. warm-up)"
}
parse_wrk() { awk '/Requests\/sec/ {printf "%d", $2}' "$1"; }
parse_autocannon() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").pop()); console.log(Math.round(j.requests.total/j.duration))' "$1"; }
parse_wasmesh() { node -e 'console.log(Math.round(require(process.argv[1]).achievedRps))' "$TMP/wasmesh.json"; }

# wrk and autocannon have no warm-up option: a separate short run first, as for wasmesh's --warmup
for tool in $TOOLS; do
  case "$tool" in
    wrk)
      "${pin_tool[@]}" wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" "$URL" >/dev/null 2>&1 || true
      measure wrk wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" "$URL" ;;
    autocannon)
      # one thread: autocannon's default (no worker threads); more: -w N
      AC=("$TMP/ac/node_modules/.bin/autocannon" -c "$CONNS")
      [ "$THREADS" -gt 1 ] && AC+=(-w "$THREADS")
      "${pin_tool[@]}" "${AC[@]}" -d "$WARMUP" "$URL" >/dev/null 2>&1 || true
      measure autocannon "${AC[@]}" -d "$DURATION" -j "$URL" ;;
    wasmesh)
      measure wasmesh node "$REPO/bin/wasmesh.js" bench "$URL" --max -c "$CONNS" -t "$THREADS" -d "${DURATION}s" -w "${WARMUP}s" --no-progress --json "$TMP/wasmesh.json" ;;
  esac
done

echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), node $(node -v), $CONNS connections, $THREADS thread(s) per tool, ${DURATION} s measured; pinning: $([ ${#pin_tool[@]} -gt 0 ] && echo 'upstream CPU 0, tool CPU 1' || echo none)."
echo
echo "| tool | req/s | vs wrk | tool CPU (% of one core) |"
echo "|---|--:|--:|--:|"
wrk_rps=""
for r in "${ROWS[@]}"; do set -- $r; [ "$1" = wrk ] && wrk_rps="$2"; done
for r in "${ROWS[@]}"; do
  set -- $r
  ratio="–"; [ -n "$wrk_rps" ] && ratio="$(awk -v a="$2" -v b="$wrk_rps" 'BEGIN { printf "%.2f×", a/b }')"
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$ratio" "$3"
done
echo
echo '```sh'
echo "${pin_up[*]:+${pin_up[*]} }node bench/core/upstream.js PORT 127.0.0.1"
sed "s#$TMP#\$TMP#g; s#$REPO/##g; s#:$PORT/#:PORT/#g" "$TMP/commands.txt"
echo '```'
