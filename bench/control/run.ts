// Control-plane config propagation benchmark: the time from `POST
// /api/v1/apply` until every proxy ACKed the change, with real proxies and
// with simulated proxy streams. A Markdown report goes to stdout and to
// bench/control/results-latest.md; progress to stderr.
//
//   npx tsc -p tsconfig.json && node dist/bench/control/run.js [--real 1,10,100] [--simulated 1000] [--repeats 20]
//
// Options (see bench/control/README.md): --real LIST ("" for none),
// --simulated LIST ("" for none), --repeats N (20), --real-repeats N (N, at
// most 10 from 100 real proxies), --services S (10), --heartbeat 1s,
// --poll-ms 5, --start-batch 4, --connect-concurrency 20, --warmup 1
// (unmeasured changes first), --control-node-args="..." (node options for
// the control plane, e.g. --cpu-prof), --out PATH, --timeout SECONDS (1800),
// --keep-tmp.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup } from './procs';
import { runReal } from './real';
import { renderReport } from './report';
import type { ScenarioResult } from './result';
import { runSimulated } from './simulated';

const REPO = path.join(__dirname, '../../..');
const TARGET_MS = 1000;

function list(v: string | undefined, dflt: number[]): number[] {
  if (v === undefined) return dflt;
  return v.split(',').map((x) => x.trim()).filter((x) => x !== '' && x !== '0').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) usage(`not a positive integer: "${x}"`);
    return n;
  });
}

function int(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

function usage(msg: string): never {
  process.stderr.write(`bench/control: ${msg}\nusage: node dist/bench/control/run.js [--real 1,10,100] [--simulated 1000] [--repeats 20] [--real-repeats N] [--services 10] [--heartbeat 1s] [--poll-ms 5] [--start-batch 4] [--connect-concurrency 20] [--warmup 1] [--control-node-args="--cpu-prof ..."] [--out FILE] [--timeout SECONDS] [--keep-tmp]\n`);
  process.exit(2);
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function main(): Promise<void> {
  let a;
  try {
    a = parseArgs({
      options: {
        real: { type: 'string' }, simulated: { type: 'string' }, repeats: { type: 'string' }, 'real-repeats': { type: 'string' },
        services: { type: 'string' }, heartbeat: { type: 'string' }, 'poll-ms': { type: 'string' }, 'start-batch': { type: 'string' },
        'connect-concurrency': { type: 'string' }, warmup: { type: 'string' }, 'control-node-args': { type: 'string' }, out: { type: 'string' }, timeout: { type: 'string' }, 'keep-tmp': { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    usage((e as Error).message);
  }
  const real = list(a.real, [1, 10, 100]);
  const simulated = list(a.simulated, [1000]);
  const repeats = int(a.repeats, 20, 'repeats');
  const realRepeats = a['real-repeats'] === undefined ? null : int(a['real-repeats'], 10, 'real-repeats');
  const services = int(a.services, 10, 'services');
  const heartbeat = a.heartbeat ?? '1s';
  const pollMs = int(a['poll-ms'], 5, 'poll-ms');
  const startBatch = int(a['start-batch'], 4, 'start-batch');
  const connectConcurrency = int(a['connect-concurrency'], 20, 'connect-concurrency');
  const out = a.out ?? path.join(REPO, 'bench/control/results-latest.md');
  const timeoutS = int(a.timeout, 1800, 'timeout');
  const warmup = a.warmup === '0' ? 0 : int(a.warmup, 1, 'warmup');
  const controlNodeArgs = (a['control-node-args'] ?? '').split(' ').filter((x) => x !== '');
  if (!fs.existsSync(path.join(REPO, 'dist/runtime/cli/main.js'))) usage('not built: run `npx tsc -p tsconfig.json` first');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-bench-control.'));
  const removeTmp = () => {
    if (!a['keep-tmp']) fs.rmSync(tmp, { recursive: true, force: true });
  };
  const cleanup = installCleanup(timeoutS * 1000, removeTmp);
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  log(`temp dir ${tmp}; real ${real.join(',') || 'none'}, simulated ${simulated.join(',') || 'none'}, ${repeats} repeats, deadline ${timeoutS} s`);

  const results: ScenarioResult[] = [];
  for (const n of real) {
    const k = realRepeats ?? (n >= 100 ? Math.min(repeats, 10) : repeats);
    log(`=== ${n} real proxies, ${k} repeats`);
    const r = await runReal({ count: n, repeats: k, services, heartbeat, dir: path.join(tmp, `real-${n}`), pollMs, startBatch, controlNodeArgs, warmup, log });
    results.push(r);
    log(r.error ? `${r.name}: FAILED: ${r.error.split('\n')[0]}` : `${r.name}: propagation ${r.propagation.map((x) => x.toFixed(0)).join(' ')} ms`);
  }
  for (const n of simulated) {
    log(`=== ${n} simulated proxies, ${repeats} repeats`);
    const r = await runSimulated({ count: n, repeats, services, heartbeat, dir: path.join(tmp, `sim-${n}`), connectConcurrency, controlNodeArgs, warmup, log });
    results.push(r);
    log(r.error ? `${r.name}: FAILED: ${r.error.split('\n')[0]}` : `${r.name}: propagation ${r.propagation.map((x) => x.toFixed(0)).join(' ')} ms`);
  }

  const argv = process.argv.slice(2);
  const report = renderReport({
    command: `node dist/bench/control/run.js${argv.length > 0 ? ' ' + argv.join(' ') : ''}`,
    startedAt, elapsedS: (Date.now() - startedAt.getTime()) / 1000, services, heartbeat, pollMs, targetMs: TARGET_MS, warmup, loadAtStart,
  }, results);
  process.stdout.write(report + '\n');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, report + '\n');
  log(`written ${out}`);
  cleanup.clear();
  removeTmp();
  process.exitCode = results.some((r) => r.error !== null) ? 1 : 0;
}

void main();
