// Every stat the core emits, declared in one place per scope (Envoy's
// ALL_*_STATS pattern). Names are documented in docs/operations.md.
import type { StatsLayout } from './layout';
import { Flag } from '../core/flags';

const L = 'wasmesh_listener_';
const C = 'wasmesh_cluster_';

export const CODE_CLASSES = ['1', '2', '3', '4', '5'] as const;
export const FLAGS: readonly string[] = Object.values(Flag);
export const REJECT_REASONS = ['headers_too_large', 'bad_request'] as const;

/** Slot numbers of one listener's stats; a plain object so it crosses postMessage. */
export interface ListenerSlots {
  rqTotal: number;
  rqActive: number;
  /** Indexed by status class 1..5 at [class - 1]. */
  rqXx: number[];
  rqTime: number;
  rqRejected: Record<(typeof REJECT_REASONS)[number], number>;
  flags: Record<string, number>;
  rxBytes: number;
  txBytes: number;
}

export interface ClusterSlots {
  rqTotal: number;
  rqActive: number;
  rqXx: number[];
  rqTime: number;
  rqTimeout: number;
  noHealthy: number;
  cxTotal: number;
  cxConnectFail: number;
  cxConnectTimeout: number;
  cxDestroyLocal: number;
  cxDestroyRemote: number;
  cxProtocolError: number;
  rqPendingOverflow: number;
  cxOverflow: number;
  rqRetryStale: number;
  cxActive: number;
  cxIdle: number;
  rqPendingActive: number;
}

export function listenerSlots(layout: StatsLayout, name: string): ListenerSlots {
  const lb = `listener="${name}"`;
  const rejected = {} as ListenerSlots['rqRejected'];
  for (const r of REJECT_REASONS) rejected[r] = layout.slot(`${L}downstream_rq_rejected_total`, `${lb},reason="${r}"`, 'counter', 'Requests refused before routing (bad request line or headers, headers over the limit)');
  const flags: Record<string, number> = {};
  for (const f of FLAGS) flags[f] = layout.slot(`${L}response_flags_total`, `${lb},flag="${f}"`, 'counter', 'Responses that carried a response flag (see x-wasmesh-reason)');
  return {
    rqTotal: layout.slot(`${L}downstream_rq_total`, lb, 'counter', 'Requests received'),
    rqActive: layout.slot(`${L}downstream_rq_active`, lb, 'gauge', 'Requests in flight'),
    rqXx: CODE_CLASSES.map((c) => layout.slot(`${L}downstream_rq_xx_total`, `${lb},code_class="${c}xx"`, 'counter', 'Responses sent, by status class')),
    rqTime: layout.slot(`${L}downstream_rq_time_ms`, lb, 'histogram', 'Request duration from first byte received to last byte sent, in ms'),
    rqRejected: rejected,
    flags,
    rxBytes: layout.slot(`${L}downstream_rx_bytes_total`, lb, 'counter', 'Request body bytes received'),
    txBytes: layout.slot(`${L}downstream_tx_bytes_total`, lb, 'counter', 'Response body bytes sent'),
  };
}

export function clusterSlots(layout: StatsLayout, name: string): ClusterSlots {
  const lb = `cluster="${name}"`;
  const c = (n: string, help: string) => layout.slot(`${C}${n}`, lb, 'counter', help);
  const g = (n: string, help: string) => layout.slot(`${C}${n}`, lb, 'gauge', help);
  return {
    rqTotal: c('upstream_rq_total', 'Requests sent upstream'),
    rqActive: g('upstream_rq_active', 'Upstream requests in flight'),
    rqXx: CODE_CLASSES.map((k) => layout.slot(`${C}upstream_rq_xx_total`, `${lb},code_class="${k}xx"`, 'counter', 'Upstream responses, by status class')),
    rqTime: layout.slot(`${C}upstream_rq_time_ms`, lb, 'histogram', 'Upstream request time from dispatch to last response byte, in ms'),
    rqTimeout: c('upstream_rq_timeout_total', 'Requests that hit the request timeout'),
    noHealthy: c('upstream_cx_none_healthy_total', 'Requests refused because no endpoint was available'),
    cxTotal: c('upstream_cx_total', 'Upstream connections opened'),
    cxConnectFail: c('upstream_cx_connect_fail_total', 'Upstream connection attempts that failed'),
    cxConnectTimeout: c('upstream_cx_connect_timeout_total', 'Upstream connection attempts that timed out'),
    cxDestroyLocal: c('upstream_cx_destroy_local_total', 'Upstream connections closed by the proxy'),
    cxDestroyRemote: c('upstream_cx_destroy_remote_total', 'Upstream connections closed by the upstream'),
    cxProtocolError: c('upstream_cx_protocol_error_total', 'Upstream responses that could not be parsed'),
    rqPendingOverflow: c('upstream_rq_pending_overflow_total', 'Requests refused by the circuit breaker (maxPendingRequests)'),
    cxOverflow: c('upstream_cx_overflow_total', 'Requests that queued because the cluster was at maxConnections'),
    rqRetryStale: c('upstream_rq_retry_stale_total', 'Requests replayed on a fresh connection after a reused one turned out closed'),
    cxActive: g('upstream_cx_active', 'Open upstream connections'),
    cxIdle: g('upstream_cx_idle', 'Idle keep-alive upstream connections'),
    rqPendingActive: g('upstream_rq_pending_active', 'Requests waiting for a connection'),
  };
}

const W = 'wasmesh_wasm_filter_';

/** One Wasm filter's stats (per listener). */
export interface WasmFilterSlots {
  traps: number;
  budgetExhausted: number;
  outOfMemory: number;
  vmStarts: number;
  failedClosed: number;
  failedOpen: number;
  /** Workers on which the filter is quarantined right now. */
  quarantined: number;
  bodyOverflow: number;
}

export function wasmFilterSlots(layout: StatsLayout, listener: string, filter: string): WasmFilterSlots {
  const lb = `listener="${listener}",filter="${filter}"`;
  const c = (n: string, help: string) => layout.slot(`${W}${n}`, lb, 'counter', help);
  return {
    traps: c('traps_total', 'Callbacks that trapped'),
    budgetExhausted: c('budget_exhausted_total', 'Callbacks stopped because they ran past the execution budget'),
    outOfMemory: c('out_of_memory_total', 'Callbacks that failed for lack of memory'),
    vmStarts: c('vm_starts_total', 'VMs (re)created on any worker'),
    failedClosed: c('rq_failed_closed_total', 'Streams answered 503 WF because the filter failed'),
    failedOpen: c('rq_failed_open_total', 'Streams that went on without the filter after it failed'),
    quarantined: layout.slot(`${W}quarantined`, lb, 'gauge', 'Workers on which the filter is quarantined after repeated failures'),
    bodyOverflow: c('body_buffer_overflow_total', 'Streams refused because a buffered body passed maxBufferedBody'),
  };
}
