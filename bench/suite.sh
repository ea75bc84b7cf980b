#!/usr/bin/env bash
# `npm run bench`: the benchmark suite. bench/core/run.sh with `wasmesh bench`
# as the load generator, over direct / wasmesh (empty chain, five built-in
# filters) / nginx / HAProxy; the report replaces what lies between
# <!-- suite:begin --> and <!-- suite:end --> in bench/RESULTS.md (the rest of
# that file is written by hand), the plots go to bench/results/suite-*.svg.
# Bounded: 5 × (3+10 s max load, 1+10 s at 1000 rps) ≈ 2.5 minutes, plus quiet
# waits and retries only while the worst case stays within TIME_BUDGET (4 min).
# Every knob of run.sh can be overridden from the environment.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RESULTS_MD="${RESULTS_MD:-$HERE/RESULTS.md}"

export LOADGEN=wasmesh
export SCENARIOS="${SCENARIOS:-direct wasmesh-empty wasmesh-chain nginx haproxy}"
export DURATION="${DURATION:-10}" WARMUP="${WARMUP:-3}" CONNS="${CONNS:-50}"
export FIXED_RATE="${FIXED_RATE:-1000}" FIXED_DURATION="${FIXED_DURATION:-10}" FIXED_WARMUP="${FIXED_WARMUP:-1}" FIXED_CONNS="${FIXED_CONNS:-10}"
# shorter quiet waits than run.sh's default leave room in the budget for a retry
export QUIET_WAIT="${QUIET_WAIT:-10}" TIME_BUDGET="${TIME_BUDGET:-240}"
export PLOTS="${PLOTS:-$HERE/results/suite}"
export REPORT_DIR="$(dirname "$RESULTS_MD")" # plot links relative to RESULTS.md
mkdir -p "$(dirname "$PLOTS")"

REPORT="$(mktemp /tmp/wasmesh-suite.XXXXXX)"
trap 'rm -f "$REPORT"' EXIT
OUT="$REPORT" bash "$HERE/core/run.sh" >/dev/null

# how to reproduce, exactly: this script's settings
CMD="LOADGEN=wasmesh SCENARIOS=\"$SCENARIOS\" DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS FIXED_RATE=$FIXED_RATE FIXED_DURATION=$FIXED_DURATION FIXED_WARMUP=$FIXED_WARMUP FIXED_CONNS=$FIXED_CONNS QUIET_WAIT=$QUIET_WAIT TIME_BUDGET=$TIME_BUDGET bash bench/core/run.sh"

node - "$RESULTS_MD" "$REPORT" "$CMD" <<'EOF'
const fs = require('fs');
const [md, reportFile, cmd] = process.argv.slice(2);
const BEGIN = '<!-- suite:begin -->', END = '<!-- suite:end -->';
// the report is a document of its own: drop its title, push its headings one
// level down (it sits under "## Suite"), outside code blocks only
let fence = false;
const body = fs.readFileSync(reportFile, 'utf8').split('\n').filter((l, i) => !(i === 0 && l.startsWith('# '))).map((l) => {
  if (l.startsWith('```')) fence = !fence;
  return !fence && /^#{1,5} /.test(l) ? `#${l}` : l;
}).join('\n').trim();
const section = [
  BEGIN,
  '<!-- written by `npm run bench` (bench/suite.sh); edits between these markers are overwritten -->',
  '',
  'Command: `npm run bench` (= `bash bench/suite.sh`), which runs',
  '',
  '```sh',
  cmd,
  '```',
  '',
  'with `OUT` a temp file, `PLOTS=bench/results/suite` and `REPORT_DIR=bench`, then puts the report here. How each scenario is run and measured: [core/README.md](core/README.md).',
  '',
  body,
  '',
  END,
].join('\n');
let text = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '# Benchmark results\n';
const a = text.indexOf(BEGIN), b = text.indexOf(END);
if (a >= 0 && b > a) {
  text = text.slice(0, a) + section + text.slice(b + END.length);
} else {
  // first run: a new section before the first "## " heading (after the intro)
  const h = text.search(/^## /m);
  const add = `## Suite: \`npm run bench\`\n\n${section}\n\n`;
  text = h >= 0 ? text.slice(0, h) + add + text.slice(h) : `${text.trimEnd()}\n\n${add}`;
}
fs.writeFileSync(md, text);
console.log(`written ${md}`);
EOF
