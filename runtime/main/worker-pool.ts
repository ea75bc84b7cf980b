// Spawns the worker threads and applies config generations to all of them:
// prepare everywhere, then commit everywhere, or abort everywhere if any
// worker could not prepare. A worker that dies is replaced with the current
// generation.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as path from 'node:path';
import { log } from '../log/logger';
import type { FromWorker, GenerationSpec, ToWorker, WorkerInit } from '../worker/messages';

/** Process-wide state every worker attaches to. */
export type PoolShared = Pick<WorkerInit, 'wasmShared' | 'node'>;
import { runWorker } from '../worker/worker';

/** A pending request(): `take` consumes a matching message; `fail` resolves it with null when the worker exits. */
interface Waiter {
  take(m: FromWorker): boolean;
  fail(): void;
}

/**
 * One worker, either a thread or, for the one-worker sidecar shape, the same
 * code running on the main thread behind a MessageChannel: a second V8 isolate
 * costs ~12 MB of RSS that a sidecar should not pay.
 */
class WorkerHandle {
  private readonly thread: Worker | null;
  private readonly port: MessagePort | null;
  private waiters: Waiter[] = [];
  exited = false;

  constructor(readonly index: number, statsSab: SharedArrayBuffer, shared: PoolShared, inProcess: boolean, onExit: (h: WorkerHandle, code: number) => void, onFault: () => void) {
    const init: WorkerInit = { index, statsSab, wasmShared: shared.wasmShared, node: shared.node };
    const onMessage = (m: FromWorker) => {
      if (m.type === 'fault') return onFault();
      this.waiters = this.waiters.filter((w) => !w.take(m));
    };
    if (inProcess) {
      const ch = new MessageChannel();
      runWorker(ch.port2, init, true);
      this.thread = null;
      this.port = ch.port1;
      this.port.on('message', onMessage);
      return;
    }
    this.port = null;
    // Same small young generation as the supervised main thread (see supervisor.ts).
    this.thread = new Worker(path.join(__dirname, '../worker/worker-thread.js'), { workerData: init, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: 3 } });
    this.thread.on('message', onMessage);
    this.thread.on('error', (e) => log('error', `worker ${index} error: ${e.stack ?? e}`));
    this.thread.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.fail();
      onExit(this, code);
    });
  }

  send(m: ToWorker): void {
    if (this.exited) return;
    if (this.thread !== null) this.thread.postMessage(m);
    else this.port!.postMessage(m);
  }

  /** After the worker closed its sockets: end the thread, or release the in-process channel. */
  async stop(): Promise<void> {
    if (this.thread !== null && !this.exited) await this.thread.terminate();
    this.port?.close();
  }

  /** Resolves with the first message `match` accepts, or null on timeout / exit. */
  request<T extends FromWorker>(m: ToWorker | null, match: (m: FromWorker) => m is T, timeoutMs: number): Promise<T | null> {
    return new Promise((resolve) => {
      if (this.exited) return resolve(null);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      const waiter: Waiter = {
        take(msg) {
          if (!match(msg)) return false;
          clearTimeout(timer);
          resolve(msg);
          return true;
        },
        fail() {
          clearTimeout(timer);
          resolve(null);
        },
      };
      this.waiters.push(waiter);
      if (m !== null) this.send(m);
    });
  }
}

const isPrepared = (m: FromWorker): m is Extract<FromWorker, { type: 'prepared' }> => m.type === 'prepared';
const isCommitted = (m: FromWorker): m is Extract<FromWorker, { type: 'committed' }> => m.type === 'committed';
const isDrained = (m: FromWorker): m is Extract<FromWorker, { type: 'drained' }> => m.type === 'drained';
const isClosed = (m: FromWorker): m is Extract<FromWorker, { type: 'closed' }> => m.type === 'closed';

export class WorkerPool {
  private readonly handles: WorkerHandle[] = [];
  private spec: GenerationSpec | null = null;
  private stopping = false;
  /** Workers replaced after an unexpected exit. */
  restarts = 0;
  faults = 0;

  constructor(readonly size: number, private readonly statsSab: SharedArrayBuffer, private readonly shared: PoolShared) {
    for (let i = 0; i < size; i++) this.handles.push(this.spawn(i));
  }

  private spawn(i: number): WorkerHandle {
    return new WorkerHandle(i, this.statsSab, this.shared, this.size === 1, (h, code) => this.onExit(h, code), () => this.faults++);
  }

  private onExit(h: WorkerHandle, code: number): void {
    if (this.stopping) return;
    log('error', `worker ${h.index} exited unexpectedly (code ${code}); replacing it`);
    this.restarts++;
    const fresh = this.spawn(h.index);
    this.handles[h.index] = fresh;
    const spec = this.spec;
    if (spec === null) return;
    void fresh.request({ type: 'prepare', spec }, isPrepared, 10_000).then((r) => {
      if (r && r.error === null) fresh.send({ type: 'commit', gen: spec.gen });
      else log('error', `replacement worker ${h.index} could not take generation ${spec.gen}: ${r?.error ?? 'timeout'}`);
    });
  }

  /** Applies a generation to every worker: all prepare, then all commit. Null on success, else the reason; on failure nothing changed. */
  async apply(spec: GenerationSpec): Promise<string | null> {
    const rs = await Promise.all(this.handles.map((h) => h.request({ type: 'prepare', spec }, isPrepared, 10_000)));
    const bad = rs.findIndex((r) => r === null || r.error !== null);
    if (bad >= 0) {
      for (const h of this.handles) h.send({ type: 'abort', gen: spec.gen });
      return `worker ${bad}: ${rs[bad]?.error ?? 'no answer within 10s'}`;
    }
    await Promise.all(this.handles.map((h) => h.request({ type: 'commit', gen: spec.gen }, isCommitted, 10_000)));
    this.spec = spec;
    return null;
  }

  /** Stops accepting and resolves when in-flight requests finished or the timeout passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const r = await Promise.all(this.handles.map((h) => h.request({ type: 'drain' }, isDrained, timeoutMs)));
    return r.every((x) => x !== null);
  }

  /** Closes every socket in every worker, then lets the threads go. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.handles.map((h) => h.request({ type: 'shutdown' }, isClosed, 5_000)));
    // Sockets are closed now, so ending the threads cannot trip uWS's open-handle abort.
    await Promise.all(this.handles.map((h) => h.stop()));
  }
}
