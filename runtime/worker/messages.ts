// Messages between the main thread and workers. Config travels as the
// validated ProxyConfig plus the stat slots and shared tables the main thread
// allocated for it, so every worker builds an identical generation.
import type { ProxyConfig } from '../config/types';
import type { ClusterSlots, ListenerSlots } from '../stats/declared';

export interface GenerationSpec {
  gen: number;
  config: ProxyConfig;
  listenerSlots: Record<string, ListenerSlots>;
  clusterSlots: Record<string, ClusterSlots>;
  /** Endpoint state tables, one per cluster, shared by all workers. */
  clusterState: Record<string, SharedArrayBuffer>;
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
}
