// Starts worker.js jobs and releases them together through a shared gate, so they really race.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Job, WorkerData } from './worker';

export const WORKER = path.join(__dirname, 'worker.js');

export interface Started<T> {
  /** Resolves with each worker's result, in job order. */
  results: Promise<T[]>;
  /** Opens the gate once every worker is attached and waiting. */
  release(): Promise<void>;
}

export function startWorkers<T>(jobs: Job[]): Started<T> {
  const gateBuffer = new SharedArrayBuffer(8);
  const gate = new Int32Array(gateBuffer);
  const workers = jobs.map((job) => new Worker(WORKER, { workerData: { job, gate: gateBuffer } satisfies WorkerData }));
  const results = Promise.all(
    workers.map(
      (w) =>
        new Promise<T>((resolve, reject) => {
          w.on('message', (m: { done?: T }) => {
            if ('done' in m) resolve(m.done as T);
          });
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`worker exited (${code}) without a result`)));
        }),
    ),
  );
  const release = async (): Promise<void> => {
    const t0 = Date.now();
    while (Atomics.load(gate, 1) < jobs.length) {
      if (Date.now() - t0 > 20_000) throw new Error('workers never became ready');
      await sleep(2);
    }
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
  };
  return { results, release };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `cond` until true; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** `p`, or `fallback` after `ms` - clearing the timer so it does not hold the process open. */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
