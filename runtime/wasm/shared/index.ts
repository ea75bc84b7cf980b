// Process-wide shared state for proxy-wasm filters: the main thread creates
// all three structures once and posts `buffers` to every worker (one
// structured-cloneable object; the SharedArrayBuffers are shared, not
// copied), and each worker attaches.

import { SharedKv, type SharedKvBuffers, type SharedKvOptions } from './kv-store';
import { SharedMetrics, type SharedMetricsBuffers, type SharedMetricsOptions } from './metrics';
import { SharedQueues, type SharedQueuesBuffers, type SharedQueuesOptions } from './queues';

export * from './kv-store';
export * from './metrics';
export * from './queues';
export { WasmResult, wasmResultName } from './status';
export { LockTimeoutError, LOCK_TIMEOUT_MS } from './spin-lock';

export interface WasmSharedOptions {
  kv?: SharedKvOptions;
  queues?: SharedQueuesOptions;
  metrics?: SharedMetricsOptions;
}

export type WasmSharedBuffers = SharedKvBuffers & SharedQueuesBuffers & SharedMetricsBuffers;

export interface WasmSharedState {
  readonly kv: SharedKv;
  readonly queues: SharedQueues;
  readonly metrics: SharedMetrics;
  readonly buffers: WasmSharedBuffers;
}

/** Main thread: allocate everything. */
export function createWasmSharedState(options: WasmSharedOptions = {}): WasmSharedState {
  return bundle(SharedKv.create(options.kv), SharedQueues.create(options.queues), SharedMetrics.create(options.metrics));
}

/** Worker (or the in-process worker on the main thread): attach to what the main thread posted. */
export function attachWasmSharedState(buffers: WasmSharedBuffers): WasmSharedState {
  return bundle(SharedKv.attach(buffers), SharedQueues.attach(buffers), SharedMetrics.attach(buffers));
}

function bundle(kv: SharedKv, queues: SharedQueues, metrics: SharedMetrics): WasmSharedState {
  return { kv, queues, metrics, buffers: { ...kv.buffers, ...queues.buffers, ...metrics.buffers } };
}
