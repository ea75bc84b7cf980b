// What one worker knows about one config generation. Built whole from a
// config message and swapped in atomically; in-flight streams keep the
// generation they started on.
import type { ClusterConfig, ListenerConfig } from '../config/types';
import type { HttpFilterFactory } from '../filter/types';
import type { ClusterSlots, ListenerSlots, WasmFilterSlots } from '../stats/declared';
import type { AccessLog } from '../log/access-log';
import type { PoolWaiter } from '../upstream/types';
import type { HashKeySource } from '../cluster/hash-key';

/** The parts of a stream a cluster needs to pick an endpoint. */
export interface HashSource extends HashKeySource {
  /** A hash key a filter chose (RouteDecision.hashKey); overrides the cluster's hashOn. */
  readonly routeHashKey: string | null;
}

export interface WorkerCluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly slots: ClusterSlots;
  /** "host:port" per endpoint index. */
  readonly endpointNames: readonly string[];
  /** Endpoint index, or -1 when none is available. */
  pick(src: HashSource): number;
  acquire(endpoint: number, waiter: PoolWaiter): void;
  cancel(endpoint: number, waiter: PoolWaiter): void;
  /** Outlier detection and least-request bookkeeping. */
  requestStarted(endpoint: number): void;
  requestEnded(endpoint: number, status: number): void;
  /** A connect failure or reset: a gateway error for outlier detection. */
  gatewayError(endpoint: number): void;
  /** Release pools once no stream uses this cluster object any more. */
  retire(): void;
}

export interface ListenerRuntime {
  readonly name: string;
  readonly config: ListenerConfig;
  readonly slots: ListenerSlots;
  readonly filters: readonly HttpFilterFactory[];
  /** Each Wasm filter's stat slots, by filter name. */
  readonly filterStats: ReadonlyMap<string, WasmFilterSlots>;
  readonly clusters: ReadonlyMap<string, WorkerCluster>;
  readonly accessLog: AccessLog | null;
  /** This worker's stats region. */
  readonly stats: Float64Array;
  readonly worker: WorkerState;
}

export interface WorkerState {
  draining: boolean;
  /** Streams in flight on this worker, across generations. */
  active: number;
  onIdle: (() => void) | null;
}
