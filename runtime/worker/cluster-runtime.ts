// One cluster inside one worker: its load balancer, its endpoint pools and a
// view of the shared endpoint table. Composes the pieces; owns no policy.
import type { ClusterConfig } from '../config/types';
import { EndpointStateTable } from '../cluster/endpoint-state';
import { createLoadBalancer, endpointKey, NO_HASH_KEY, type LoadBalancer } from '../cluster/lb';
import { computeHashKey } from '../cluster/hash-key';
import { murmur3 } from '../cluster/hash';
import type { ClusterSlots } from '../stats/declared';
import { ClusterBudget, EndpointPool, PoolCounter, PoolGauge, type PoolObserver } from '../upstream/endpoint-pool';
import type { PoolWaiter } from '../upstream/types';
import type { HashSource, WorkerCluster } from './context';

class StatsObserver implements PoolObserver {
  private readonly counters: number[];
  private readonly gauges: number[];
  constructor(private readonly v: Float64Array, s: ClusterSlots) {
    const c: number[] = [];
    c[PoolCounter.CxTotal] = s.cxTotal;
    c[PoolCounter.CxConnectFail] = s.cxConnectFail;
    c[PoolCounter.CxConnectTimeout] = s.cxConnectTimeout;
    c[PoolCounter.CxDestroyLocal] = s.cxDestroyLocal;
    c[PoolCounter.CxDestroyRemote] = s.cxDestroyRemote;
    c[PoolCounter.CxProtocolError] = s.cxProtocolError;
    c[PoolCounter.RqPendingOverflow] = s.rqPendingOverflow;
    c[PoolCounter.CxOverflow] = s.cxOverflow;
    c[PoolCounter.RqRetryStale] = s.rqRetryStale;
    const g: number[] = [];
    g[PoolGauge.CxActive] = s.cxActive;
    g[PoolGauge.CxIdle] = s.cxIdle;
    g[PoolGauge.RqPendingActive] = s.rqPendingActive;
    this.counters = c;
    this.gauges = g;
  }
  count(e: PoolCounter): void {
    const slot = this.counters[e];
    if (slot !== undefined) this.v[slot]!++;
  }
  gauge(g: PoolGauge, delta: number): void {
    const slot = this.gauges[g];
    if (slot !== undefined) this.v[slot]! += delta;
  }
}

class ClusterRuntime implements WorkerCluster {
  readonly endpointNames: readonly string[];
  private readonly lb: LoadBalancer;
  private readonly pools: EndpointPool[];
  private readonly table: EndpointStateTable;

  constructor(readonly config: ClusterConfig, readonly slots: ClusterSlots, stateBuffer: SharedArrayBuffer, stats: Float64Array) {
    this.table = EndpointStateTable.attach(stateBuffer);
    const keys = config.endpoints.map(endpointKey);
    this.endpointNames = keys;
    this.lb = createLoadBalancer(config.lb, config.endpoints.length, this.table, { endpointKeys: keys });
    const budget = new ClusterBudget(config.maxConnections, config.maxPendingRequests);
    const observer = new StatsObserver(stats, slots);
    this.pools = config.endpoints.map(
      (a) => new EndpointPool({ host: a.host, port: a.port, budget, observer, connectTimeoutMs: config.connectTimeoutMs, idleTimeoutMs: config.idleTimeoutMs }),
    );
  }

  get name(): string {
    return this.config.name;
  }

  pick(src: HashSource): number {
    if (src.routeHashKey !== null) return this.lb.pick(murmur3(src.routeHashKey));
    const h = this.config.hashOn;
    return this.lb.pick(h === null ? NO_HASH_KEY : computeHashKey(h, src));
  }

  acquire(endpoint: number, waiter: PoolWaiter): void {
    this.pools[endpoint]!.acquire(waiter);
  }

  cancel(endpoint: number, waiter: PoolWaiter): void {
    this.pools[endpoint]!.cancel(waiter);
  }

  requestStarted(endpoint: number): void {
    this.table.onRequestStart(endpoint);
  }

  requestEnded(endpoint: number, status: number): void {
    this.table.onRequestEnd(endpoint);
    if (status > 0) this.table.recordResponse(endpoint, status, Date.now());
  }

  gatewayError(endpoint: number): void {
    this.table.recordConnectFailure(endpoint, Date.now());
  }

  /** Idle connections close now, busy ones when their exchange ends. */
  retire(): void {
    for (const p of this.pools) p.drain();
  }
}

export function buildCluster(config: ClusterConfig, slots: ClusterSlots, stateBuffer: SharedArrayBuffer, stats: Float64Array): WorkerCluster {
  return new ClusterRuntime(config, slots, stateBuffer, stats);
}
