// worker_threads entry of the load tool: opens this worker's connections,
// reports "ready", starts on the main thread's clock and posts its result.
import { parentPort, workerData } from 'worker_threads';
import { ClosedLoop } from './closed-loop';
import type { Engine } from './engine';
import { OpenLoop } from './open-loop';
import { toLocal } from './schedule';
import type { StartMessage, WorkerConfig, WorkerMessage } from './types';

function post(m: WorkerMessage): void {
  parentPort!.postMessage(m);
}

async function main(): Promise<void> {
  const cfg = workerData as WorkerConfig;
  const engine: Engine = cfg.mode === 'open' ? new OpenLoop(cfg) : new ClosedLoop(cfg);
  const ready = await engine.connectAll();
  const start = new Promise<StartMessage>((resolve) => parentPort!.once('message', (m: StartMessage) => resolve(m)));
  post({ type: 'ready', ...ready });
  const m = await start;
  // hrtime is one monotonic clock for every thread; performance.now() is per thread.
  const t0ns = BigInt(m.t0ns);
  const result = await engine.run(toLocal(t0ns), t0ns);
  post({ type: 'done', result });
}

if (parentPort) {
  main().catch((e: unknown) => post({ type: 'fatal', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
}
