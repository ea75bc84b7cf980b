// Main thread of the load tool: builds the request, starts the workers on
// one clock, shows progress, merges what they measured into one result.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { quietGc } from './gc-flags';
import { encode, merge, spectrum, summarize, type Histogram, type SpectrumPoint, type Summary } from './histogram';
import { ERROR_KINDS, LIVE_SLOTS, type BenchOptions, type ErrorKind, type WorkerConfig, type WorkerMessage, type WorkerResult } from './types';

/** What one run produced; this is also the `--json` file (format version 1). */
export interface BenchResult {
  tool: 'wasmesh bench';
  format: 1;
  label: string;
  url: string;
  mode: 'open' | 'closed';
  startedAt: string;
  options: {
    connections: number;
    workers: number;
    durationS: number;
    warmupS: number;
    method: string;
    headers: string[];
    bodyBytes: number;
    timeoutMs: number;
  };
  /** Open loop: the target; closed loop: null. */
  targetRps: number | null;
  achievedRps: number;
  /** Open loop: achieved within 2 % of the target and no request left waiting; closed loop: null. */
  targetMet: boolean | null;
  requests: {
    /** Whole run, warm-up included. */
    sentTotal: number;
    completedTotal: number;
    /** Measured window. Open loop: intended = due in the window; unsent = never found a free connection. */
    intended: number;
    sent: number;
    completed: number;
    unsent: number;
  };
  status: Record<string, number>;
  errors: Partial<Record<ErrorKind, number>>;
  errorsTotal: number;
  bytes: { rxPerS: number; txPerS: number; rx: number; tx: number };
  connections: { opened: number; reconnects: number };
  /** ms. latency: from the intended send time (closed loop: from the write); service: from the write (closed loop: = latency); connect: TCP connect. */
  latency: Summary;
  service: Summary;
  connect: Summary;
  /** Full percentile spectrum of `latency` (ms). */
  spectrum: SpectrumPoint[];
  /** HdrHistogram compressed base64, values in µs. */
  histograms: { latency: string; service: string; connect: string };
  warnings: string[];
}

export interface RunHooks {
  /** Called about once a second while measuring. */
  onProgress?(p: Progress): void;
}

export interface Progress {
  elapsedS: number;
  totalS: number;
  warmingUp: boolean;
  /** Responses per second over the last interval. */
  rps: number;
  completed: number;
  errors: number;
}

export function buildRequest(o: BenchOptions, u: URL): Buffer {
  const lines: string[] = [`${o.method} ${u.pathname || '/'}${u.search} HTTP/1.1`];
  const given = new Set(o.headers.map(([k]) => k.toLowerCase()));
  if (!given.has('host')) lines.push(`Host: ${u.host}`);
  if (!given.has('user-agent')) lines.push('User-Agent: wasmesh-bench');
  if (!given.has('accept')) lines.push('Accept: */*');
  for (const [k, v] of o.headers) lines.push(`${k}: ${v}`);
  const body = o.body;
  if (body !== null && !given.has('content-length') && !given.has('transfer-encoding')) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body === null ? head : Buffer.concat([head, body]);
}

export async function runBench(o: BenchOptions, hooks: RunHooks = {}): Promise<BenchResult> {
  const u = new URL(o.url);
  if (u.protocol !== 'http:') throw new Error(`only http:// URLs are supported (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || 80);
  if (o.workers < 1 || o.connections < o.workers) throw new Error('--connections must be at least --workers (each worker needs one)');
  if (o.mode === 'open' && !(o.rate > 0)) throw new Error('open loop needs --rate > 0');
  const request = buildRequest(o, u);
  quietGc(); // (for the worker threads, when not started from cli.ts)
  const live = new SharedArrayBuffer(8 * LIVE_SLOTS * o.workers);
  const liveView = new Float64Array(live);
  const startedAt = new Date().toISOString();

  const workers: Worker[] = [];
  const results: Array<WorkerResult | null> = [];
  const readyWaits: Array<Promise<Extract<WorkerMessage, { type: 'ready' }>>> = [];
  const doneWaits: Array<Promise<WorkerResult>> = [];
  const file = path.join(__dirname, 'worker.js');
  for (let k = 0; k < o.workers; k++) {
    const conns = Math.floor(o.connections / o.workers) + (k < o.connections % o.workers ? 1 : 0);
    const cfg: WorkerConfig = {
      index: k,
      host,
      port,
      mode: o.mode,
      request: new Uint8Array(request),
      headRequest: o.method.toUpperCase() === 'HEAD',
      connections: conns,
      // worker k takes requests k, k + N, k + 2N, ... of the global schedule
      intervalMs: o.mode === 'open' ? (1000 * o.workers) / o.rate : 0,
      phaseMs: o.mode === 'open' ? (1000 * k) / o.rate : 0,
      warmupMs: o.warmup * 1000,
      durationMs: o.duration * 1000,
      timeoutMs: o.timeoutMs,
      live,
    };
    const w = new Worker(file, { workerData: cfg });
    workers.push(w);
    results.push(null);
    let readyResolve!: (m: Extract<WorkerMessage, { type: 'ready' }>) => void;
    let doneResolve!: (r: WorkerResult) => void;
    let fail!: (e: Error) => void;
    const failed = new Promise<never>((_, rej) => (fail = rej));
    failed.catch(() => {});
    const readyP = Promise.race([new Promise<Extract<WorkerMessage, { type: 'ready' }>>((r) => (readyResolve = r)), failed]);
    const doneP = Promise.race([new Promise<WorkerResult>((r) => (doneResolve = r)), failed]);
    // (a failure is reported by whichever of them is awaited first)
    readyP.catch(() => {});
    doneP.catch(() => {});
    readyWaits.push(readyP);
    doneWaits.push(doneP);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') readyResolve(m);
      else if (m.type === 'done') doneResolve(m.result);
      else if (m.type === 'fatal') fail(new Error(`worker ${k}: ${m.message}`));
    });
    w.on('error', (e) => fail(e));
    w.on('exit', (code) => fail(new Error(`worker ${k} exited (code ${code})`)));
  }

  let progressTimer: NodeJS.Timeout | null = null;
  try {
    const ready = await Promise.all(readyWaits);
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    if (connected === 0) {
      throw new Error(`cannot connect to ${host}:${port}: ${ready.find((r) => r.firstError)?.firstError ?? 'no connection'}`);
    }
    const t0 = process.hrtime.bigint() + 30_000_000n; // 30 ms from now, on every worker's clock
    for (const w of workers) w.postMessage({ type: 'start', t0ns: t0.toString() });
    const totalS = o.warmup + o.duration;
    if (hooks.onProgress) {
      let last = 0;
      let lastT = Number(t0) / 1e6;
      const tick = (): void => {
        const now = Number(process.hrtime.bigint()) / 1e6;
        let completed = 0;
        let errors = 0;
        for (let k = 0; k < o.workers; k++) {
          completed += liveView[k * LIVE_SLOTS];
          errors += liveView[k * LIVE_SLOTS + 1];
        }
        const elapsedS = Math.max(0, (now - Number(t0) / 1e6) / 1000);
        const rps = now > lastT ? ((completed - last) * 1000) / (now - lastT) : 0;
        last = completed;
        lastT = now;
        hooks.onProgress!({ elapsedS, totalS, warmingUp: elapsedS < o.warmup, rps, completed, errors });
      };
      progressTimer = setInterval(tick, 1000);
      progressTimer.unref();
    }
    const done = await Promise.all(doneWaits);
    done.forEach((r, k) => (results[k] = r));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
  }
  return combine(o, startedAt, results as WorkerResult[]);
}

function combine(o: BenchOptions, startedAt: string, rs: WorkerResult[]): BenchResult {
  const latency: Histogram = merge(rs.map((r) => r.latency));
  const service: Histogram = merge(rs.map((r) => r.service));
  const connect: Histogram = merge(rs.map((r) => r.connect));
  const sum = (f: (r: WorkerResult) => number): number => rs.reduce((a, r) => a + f(r), 0);
  const status: Record<string, number> = {};
  const errors: Partial<Record<ErrorKind, number>> = {};
  for (const r of rs) {
    for (const [k, v] of Object.entries(r.status)) status[k] = (status[k] ?? 0) + v;
    for (const k of ERROR_KINDS) if (r.errors[k]) errors[k] = (errors[k] ?? 0) + r.errors[k]!;
  }
  const completed = sum((r) => r.completed);
  const unsent = sum((r) => r.unsent);
  const achievedRps = completed / o.duration;
  const warnings: string[] = [];
  let targetMet: boolean | null = null;
  if (o.mode === 'open') {
    targetMet = achievedRps >= 0.98 * o.rate && unsent === 0;
    if (!targetMet) {
      warnings.push(
        `target rate missed: ${achievedRps.toFixed(1)} of ${o.rate} req/s (${((100 * achievedRps) / o.rate).toFixed(1)} %)` +
          (unsent > 0 ? `; ${unsent} requests were still waiting for a free connection at the end` : ''),
      );
    }
  }
  const errorsTotal = Object.values(errors).reduce((a, b) => a + (b ?? 0), 0);
  if (errorsTotal > 0) warnings.push(`${errorsTotal} errors`);
  const non2xx = Object.entries(status).reduce((a, [k, v]) => a + (k.startsWith('2') ? 0 : v), 0);
  if (non2xx > 0) warnings.push(`${non2xx} responses were not 2xx`);
  const rx = sum((r) => r.rxBytes);
  const tx = sum((r) => r.txBytes);
  const sent = sum((r) => r.sent);
  return {
    tool: 'wasmesh bench',
    format: 1,
    label: o.label ?? o.url,
    url: o.url,
    mode: o.mode,
    startedAt,
    options: {
      connections: o.connections,
      workers: o.workers,
      durationS: o.duration,
      warmupS: o.warmup,
      method: o.method,
      headers: o.headers.map(([k, v]) => `${k}: ${v}`),
      bodyBytes: o.body?.length ?? 0,
      timeoutMs: o.timeoutMs,
    },
    targetRps: o.mode === 'open' ? o.rate : null,
    achievedRps: Math.round(achievedRps * 10) / 10,
    targetMet,
    requests: {
      sentTotal: sum((r) => r.sentTotal),
      completedTotal: sum((r) => r.completedTotal),
      intended: o.mode === 'open' ? sum((r) => r.intended) : sent,
      sent,
      completed,
      unsent,
    },
    status,
    errors,
    errorsTotal,
    bytes: { rxPerS: Math.round(rx / o.duration), txPerS: Math.round(tx / o.duration), rx, tx },
    connections: { opened: sum((r) => r.connects), reconnects: sum((r) => r.reconnects) },
    latency: summarize(latency),
    service: summarize(service),
    connect: summarize(connect),
    spectrum: spectrum(latency),
    histograms: { latency: encode(latency), service: encode(service), connect: encode(connect) },
    warnings,
  };
}
