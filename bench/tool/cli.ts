// `wasmesh bench URL [options]` and `wasmesh bench plot A.json [B.json ...] -o OUT.svg`.
import './gc-flags'; // first: before this thread's heap grows
import * as fs from 'fs';
import { flag, parseArgs, type ParsedArgs } from '../../runtime/cli/args';
import { renderPlot, plotFiles, seriesOf } from './plot';
import { formatProgress, formatReport, formatSpectrum } from './report';
import { runBench } from './run';
import type { BenchOptions } from './types';

export const BENCH_USAGE = `usage: wasmesh bench URL (--rate R | --max) [options]
       wasmesh bench plot A.json [B.json ...] -o OUT.svg [--title T]

HTTP/1.1 load generator (keep-alive, no pipelining).

mode (one is required):
  -R, --rate R          open loop: R requests/s in total, latency measured from
                        each request's intended send time (coordinated omission
                        corrected, as wrk2 does)
      --max             closed loop: each connection sends its next request as
                        soon as the previous response ends (maximum throughput)

options:
  -c, --connections C   keep-alive connections in total (default 10)
  -d, --duration D      measured time (default 10s; 500ms, 10s, 1m)
  -w, --warmup W        run this long first without recording (default 1s)
  -t, --workers N       worker threads sharing the connections and the rate (default 1)
  -m, --method M        request method (default GET)
  -H, --header 'K: V'   request header (repeatable; Host, User-Agent, Accept are
                        set unless given)
  -b, --body @FILE|TEXT request body (Content-Length is added)
      --timeout T       per request and per connect (default 10s)
      --label NAME      name of the run in reports and plots (default: the URL)

output:
      --json FILE       write the result as JSON (summary, status and error
                        counts, full percentile spectrum, HdrHistograms)
      --spectrum        print the full HdrHistogram percentile spectrum
      --plot FILE.svg   latency-by-percentile chart
      --progress / --no-progress
                        live progress line on stderr (default: when stderr is a TTY)
`;

/** "10", "10s", "500ms", "2m" → ms. */
export function parseDurationMs(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`${what}: cannot read "${v}" (e.g. 10s, 500ms, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000;
}

function num(a: ParsedArgs, def: number, ...names: string[]): number {
  const v = flag(a, ...names);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${names[names.length - 1]} must be a positive number (got "${v}")`);
  return n;
}

const BOOLEANS = ['max', 'spectrum', 'progress', 'no-progress', 'help', 'h'];

export interface CliRun {
  options: BenchOptions;
  json?: string;
  plot?: string;
  spectrum: boolean;
}

export function parseBenchArgs(argv: string[]): CliRun {
  const a = parseArgs(argv, BOOLEANS);
  const url = a.positional[0];
  if (!url) throw new Error('a URL is required');
  if (a.positional.length > 1) throw new Error(`unexpected argument "${a.positional[1]}"`);
  const known = new Set([
    ...BOOLEANS,
    ...['R', 'rate', 'c', 'connections', 'd', 'duration', 'w', 'warmup', 't', 'workers', 'm', 'method', 'H', 'header'],
    ...['b', 'body', 'timeout', 'label', 'json', 'plot'],
  ]);
  for (const k of a.flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const max = a.flags.has('max');
  const rateStr = flag(a, 'R', 'rate');
  if (max === (rateStr !== undefined)) throw new Error('give either --rate R (open loop) or --max (closed loop)');
  const rate = max ? 0 : num(a, 0, 'R', 'rate');
  const workers = Math.floor(num(a, 1, 't', 'workers'));
  const connections = Math.floor(num(a, Math.max(10, workers), 'c', 'connections'));
  const headers: Array<[string, string]> = [];
  for (const h of [...(a.flags.get('H') ?? []), ...(a.flags.get('header') ?? [])]) {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error(`--header "${h}": expected "Name: value"`);
    const name = h.slice(0, i).trim();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new Error(`--header "${h}": invalid name`);
    headers.push([name, h.slice(i + 1).trim()]);
  }
  const bodyArg = flag(a, 'b', 'body');
  let body: Buffer | null = null;
  if (bodyArg !== undefined) body = bodyArg.startsWith('@') ? fs.readFileSync(bodyArg.slice(1)) : Buffer.from(bodyArg, 'utf8');
  const method = (flag(a, 'm', 'method') ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new Error(`--method "${method}" is not a method`);
  const progress = a.flags.has('no-progress') ? false : a.flags.has('progress') ? true : undefined;
  const options: BenchOptions = {
    url,
    mode: max ? 'closed' : 'open',
    rate,
    connections,
    duration: parseDurationMs(flag(a, 'd', 'duration') ?? '10s', '--duration') / 1000,
    warmup: parseDurationMs(flag(a, 'w', 'warmup') ?? '1s', '--warmup') / 1000,
    workers,
    method,
    headers,
    body,
    timeoutMs: parseDurationMs(flag(a, 'timeout') ?? '10s', '--timeout'),
    progress,
  };
  const label = flag(a, 'label');
  if (label !== undefined) options.label = label;
  if (!(options.duration > 0)) throw new Error('--duration must be positive');
  if (!(options.timeoutMs > 0)) throw new Error('--timeout must be positive');
  if (connections < workers) throw new Error('--connections must be at least --workers');
  const run: CliRun = { options, spectrum: a.flags.has('spectrum') };
  const json = flag(a, 'json');
  if (json !== undefined) run.json = json;
  const plot = flag(a, 'plot');
  if (plot !== undefined) run.plot = plot;
  return run;
}

function usageError(msg: string): never {
  process.stderr.write(`wasmesh bench: ${msg}\n\n${BENCH_USAGE}`);
  process.exit(2);
}

export async function benchCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'plot') return plotCommand(argv.slice(1));
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  let cli: CliRun;
  try {
    cli = parseBenchArgs(argv);
  } catch (e) {
    usageError((e as Error).message);
  }
  const o = cli.options;
  const showProgress = o.progress ?? process.stderr.isTTY === true;
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const onProgress = showProgress
    ? (p: Parameters<typeof formatProgress>[0]) => {
        const line = formatProgress(p);
        if (tty) process.stderr.write(`\r${line}\x1b[K`);
        else process.stderr.write(`${line}\n`);
        shown = true;
      }
    : undefined;
  let result;
  try {
    result = await runBench(o, onProgress ? { onProgress } : {});
  } catch (e) {
    if (shown && tty) process.stderr.write('\n');
    process.stderr.write(`wasmesh bench: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (shown && tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(formatReport(result));
  if (cli.spectrum) process.stdout.write('\n' + formatSpectrum(result));
  if (cli.json) {
    fs.writeFileSync(cli.json, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(`\n  JSON written to ${cli.json}\n`);
  }
  if (cli.plot) {
    fs.writeFileSync(cli.plot, renderPlot([seriesOf(result)]));
    process.stdout.write(`${cli.json ? '' : '\n'}  plot written to ${cli.plot}\n`);
  }
}

export async function plotCommand(argv: string[]): Promise<void> {
  let a: ParsedArgs;
  try {
    a = parseArgs(argv, ['help', 'h']);
  } catch (e) {
    usageError((e as Error).message);
  }
  const out = flag(a, 'o', 'out');
  if (a.flags.has('help') || a.flags.has('h')) {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  if (!out || a.positional.length === 0) usageError('plot needs one or more JSON files and -o OUT.svg');
  try {
    plotFiles(a.positional, out, flag(a, 'title'));
  } catch (e) {
    process.stderr.write(`wasmesh bench plot: ${(e as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`plot of ${a.positional.length} run${a.positional.length === 1 ? '' : 's'} written to ${out}\n`);
}
