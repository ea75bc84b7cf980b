// Messages between the main thread and workers. Config travels as the
// validated ProxyConfig plus the stat slots and shared tables the main thread
// allocated for it, so every worker builds an identical generation.
import type { ProxyConfig } from '../config/types';
import type { ClusterSlots, ListenerSlots, WasmFilterSlots } from '../stats/declared';
import type { NodeInfo } from '../wasm/env';
import type { PluginSpec } from '../wasm/plugin';
import type { WasmSharedBuffers } from '../wasm/shared';

/** A compiled Wasm filter as a worker receives it (WebAssembly.Module is cloneable). */
export interface WorkerFilterSpec {
  spec: PluginSpec;
  slots: WasmFilterSlots;
}

export interface GenerationSpec {
  gen: number;
  config: ProxyConfig;
  listenerSlots: Record<string, ListenerSlots>;
  clusterSlots: Record<string, ClusterSlots>;
  /** Endpoint state tables, one per cluster, shared by all workers. */
  clusterState: Record<string, SharedArrayBuffer>;
  /** Each listener's filter chain, in order. */
  filters: Record<string, WorkerFilterSpec[]>;
}

export type ToWorker =
  | { type: 'prepare'; spec: GenerationSpec }
  | { type: 'commit'; gen: number }
  | { type: 'abort'; gen: number }
  | { type: 'drain' }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'prepared'; gen: number; error: string | null }
  | { type: 'committed'; gen: number }
  | { type: 'drained' }
  | { type: 'closed' }
  | { type: 'fault'; message: string };

export interface WorkerInit {
  index: number;
  statsSab: SharedArrayBuffer;
  /** Shared data, queues and filter metrics, for every worker of the process. */
  wasmShared: WasmSharedBuffers;
  node: NodeInfo;
}
