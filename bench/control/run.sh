#!/usr/bin/env bash
# Control-plane config propagation benchmark (bench/control/README.md).
#
# Usage:  bash bench/control/run.sh [--real 1,10,100] [--simulated 1000] [--repeats 20] [...]
#
# Compiles the project with the local TypeScript (no npm), then runs
# dist/bench/control/run.js with the arguments given. Environment:
#   BUILD=1     0: skip the compile (dist/ must be current)
#   NODE=node   the node binary
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
NODE="${NODE:-node}"
BUILD="${BUILD:-1}"

cd "$REPO"
if [ "$BUILD" = 1 ]; then
  printf '[bench] compiling (tsc -p tsconfig.json)\n' >&2
  "$NODE" "$REPO/node_modules/typescript/bin/tsc" -p "$REPO/tsconfig.json"
fi
# exec: signals reach the benchmark directly; it stops every process it started.
exec "$NODE" "$REPO/dist/bench/control/run.js" "$@"
