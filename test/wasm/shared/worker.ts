// Worker-thread side of the shared-state tests: attaches the structures the
// test's main thread created and hammers them. One job per worker; the result
// goes back with postMessage (test coordination only, not the data path).
import { parentPort, workerData } from 'node:worker_threads';
import { SharedKv, type SharedKvBuffers } from '../../../runtime/wasm/shared/kv-store';
import { MetricType, SharedMetrics, type SharedMetricsBuffers } from '../../../runtime/wasm/shared/metrics';
import { SharedQueues, type SharedQueuesBuffers } from '../../../runtime/wasm/shared/queues';
import { lock, unlock } from '../../../runtime/wasm/shared/spin-lock';
import { WasmResult } from '../../../runtime/wasm/shared/status';

export type Job =
  | { kind: 'kv-cas'; kv: SharedKvBuffers; key: string; iterations: number; insertKeys: number }
  | { kind: 'metrics'; metrics: SharedMetricsBuffers; names: Array<[MetricType, string]>; iterations: number }
  | { kind: 'enqueue'; queues: SharedQueuesBuffers; vmId: string; name: string; producer: number; count: number }
  | { kind: 'watch'; queues: SharedQueuesBuffers; vmId: string; name: string; keepAlive: boolean }
  | { kind: 'lock'; word: SharedArrayBuffer; holdMs: number };

export interface WorkerData {
  job: Job;
  /** i32[0]: go flag set by the test, i32[1]: workers ready. */
  gate: SharedArrayBuffer;
}

const DEADLINE_MS = 30_000;

function waitForGo(gate: Int32Array): void {
  Atomics.add(gate, 1, 1);
  const t0 = Date.now();
  while (Atomics.load(gate, 0) === 0) {
    if (Date.now() - t0 > DEADLINE_MS) throw new Error('start gate never opened');
    Atomics.wait(gate, 0, 0, 100);
  }
}

function kvCas(job: Extract<Job, { kind: 'kv-cas' }>): unknown {
  const kv = SharedKv.attach(job.kv);
  const key = new TextEncoder().encode(job.key);
  const out = kv.createResult();
  const outView = new DataView(out.value.buffer);
  const next = new Uint8Array(4);
  const nextView = new DataView(next.buffer);
  let mismatches = 0;
  for (let i = 0; i < job.iterations; i++) {
    // The classic proxy-wasm CAS loop: read value + cas, write value+1 guarded by that cas.
    for (let attempt = 0; ; attempt++) {
      if (attempt > 1_000_000) throw new Error('CAS loop did not converge');
      if (kv.get(key, out) !== WasmResult.Ok) throw new Error('counter key vanished');
      nextView.setUint32(0, outView.getUint32(0, true) + 1, true);
      const r = kv.set(key, next, out.cas);
      if (r === WasmResult.Ok) break;
      if (r !== WasmResult.CasMismatch) throw new Error(`set returned ${r}`);
      mismatches++;
    }
    // Meanwhile every worker races to insert the same fresh keys.
    if (i < job.insertKeys) {
      const r = kv.set(new TextEncoder().encode(`fresh-${i}`), next, 0);
      if (r !== WasmResult.Ok) throw new Error(`insert returned ${r}`);
    }
  }
  return { mismatches };
}

function metrics(job: Extract<Job, { kind: 'metrics' }>): unknown {
  const m = SharedMetrics.attach(job.metrics);
  const ids: Record<string, number> = {};
  const out = { id: 0 };
  for (const [type, name] of job.names) {
    const r = m.define(type, name, out);
    if (r !== WasmResult.Ok) throw new Error(`define ${name} returned ${r}`);
    ids[name] = out.id;
  }
  const counter = ids['requests.total']!;
  const gauge = ids['inflight']!;
  const histogram = ids['latency_ms']!;
  for (let i = 0; i < job.iterations; i++) {
    if (m.increment(counter, 1n) !== WasmResult.Ok) throw new Error('increment counter');
    if (m.increment(gauge, 3n) !== WasmResult.Ok) throw new Error('increment gauge');
    if (m.record(histogram, BigInt(i % 100)) !== WasmResult.Ok) throw new Error('record histogram');
    if (m.increment(gauge, -3n) !== WasmResult.Ok) throw new Error('decrement gauge');
  }
  return { ids };
}

function enqueue(job: Extract<Job, { kind: 'enqueue' }>): unknown {
  const q = SharedQueues.attach(job.queues);
  const idOut = { id: 0 };
  if (q.resolve(job.vmId, job.name, idOut) !== WasmResult.Ok) throw new Error('queue not registered');
  const msg = new Uint8Array(8 + (job.producer % 5) * 7); // varied sizes exercise ring wrap-around
  const view = new DataView(msg.buffer);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let fullRetries = 0;
  const t0 = Date.now();
  for (let seq = 0; seq < job.count; seq++) {
    view.setUint32(0, job.producer, true);
    view.setUint32(4, seq, true);
    for (;;) {
      const r = q.enqueue(idOut.id, msg);
      if (r === WasmResult.Ok) break;
      if (r !== WasmResult.InternalFailure) throw new Error(`enqueue returned ${r}`);
      // Queue full: back off briefly and retry (never blocks the consumer).
      fullRetries++;
      if (Date.now() - t0 > DEADLINE_MS) throw new Error('queue stayed full');
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
  return { fullRetries };
}

function watch(job: Extract<Job, { kind: 'watch' }>): void {
  const q = SharedQueues.attach(job.queues);
  const idOut = { id: 0 };
  if (q.register(job.vmId, job.name, idOut) !== WasmResult.Ok) throw new Error('register failed');
  const out = q.createResult();
  q.watch(
    idOut.id,
    (id) => {
      while (q.dequeue(id, out) === WasmResult.Ok) {
        const text = new TextDecoder().decode(out.value.subarray(0, out.length));
        parentPort!.postMessage({ got: text });
        if (text === 'stop') q.unwatch(id);
      }
    },
    { keepAlive: job.keepAlive },
  );
  parentPort!.postMessage({ watching: idOut.id });
}

// Take the lock word (through the worker's sleep path if it is held), hold it, release it.
function lockJob(job: Extract<Job, { kind: 'lock' }>): unknown {
  const i32 = new Int32Array(job.word);
  const t0 = performance.now();
  lock(i32, 0, 'test lock');
  const waitedMs = performance.now() - t0;
  if (job.holdMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, job.holdMs);
  unlock(i32, 0);
  return { waitedMs };
}

const data = workerData as WorkerData;
const gate = new Int32Array(data.gate);
if (data.job.kind === 'watch') {
  watch(data.job);
} else {
  waitForGo(gate);
  const job = data.job;
  const result = job.kind === 'kv-cas' ? kvCas(job) : job.kind === 'metrics' ? metrics(job) : job.kind === 'lock' ? lockJob(job) : enqueue(job);
  parentPort!.postMessage({ done: result });
}
