// What a VM needs from the worker it runs in. The proxy's worker and the SDK's
// host emulator each provide one; the host functions never see anything else.
import type { WasmResult } from './abi';

export interface CalloutResponse {
  /** 0 when the call failed (no response): the ABI reports that as zero headers. */
  status: number;
  headers: [string, string][];
  body: Buffer;
}

export interface CalloutDispatcher {
  /**
   * Sends an HTTP request to a named cluster. `done` runs exactly once, later.
   * Returns NotFound for an unknown cluster, BadArgument for missing pseudo-headers.
   */
  dispatch(cluster: string, headers: [string, string][], body: Buffer, timeoutMs: number, done: (r: CalloutResponse) => void): WasmResult;
}

/** Reusable get() output: the value is `value[0, length)`, a copy valid until the next get. */
export interface SharedValueOut {
  readonly value: Uint8Array;
  length: number;
  cas: number;
}

/** Keys are `key[0, keyLen)`; callers pass scratch buffers so a lookup allocates nothing. */
export interface SharedDataStore {
  createResult(): SharedValueOut;
  get(key: Uint8Array, keyLen: number, out: SharedValueOut): WasmResult;
  set(key: Uint8Array, keyLen: number, value: Uint8Array, cas: number): WasmResult;
}

export interface SharedQueueStore {
  register(vmId: string, name: string, owner: (queueId: number) => void): number;
  resolve(vmId: string, name: string): number;
  enqueue(queueId: number, value: Uint8Array): WasmResult;
  /** The next message, or null when the queue is empty (EMPTY) or unknown (NOT_FOUND: `out.status`). */
  dequeue(queueId: number, out: { status: WasmResult }): Buffer | null;
  unregister(queueId: number, owner: (queueId: number) => void): void;
}

export interface MetricStore {
  /** A metric id, or a negative WasmResult. */
  define(type: number, name: string): number;
  increment(id: number, delta: bigint): WasmResult;
  record(id: number, value: bigint): WasmResult;
  get(id: number, out: { value: bigint }): WasmResult;
}

export interface NodeInfo {
  id: string;
  metadata: Record<string, string>;
}

export interface VmEnv {
  readonly callouts: CalloutDispatcher;
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueueStore;
  readonly metrics: MetricStore;
  readonly node: NodeInfo;
  /** Where proxy_log and WASI stdout/stderr go. */
  log(level: number, plugin: string, message: string): void;
  /** Periodic timers (ticks) go through here so the emulator can run them on a virtual clock. */
  setTimer(ms: number, cb: () => void): unknown;
  clearTimer(handle: unknown): void;
  /** Milliseconds since the epoch, with a fraction. */
  now(): number;
}
