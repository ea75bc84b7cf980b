// Per-endpoint, per-worker connection pool: LIFO idle stack, FIFO waiter
// queue, cluster-wide circuit breakers through a shared ClusterBudget.
import { performance } from 'perf_hooks';
import { UpstreamError } from '../core/errors';
import { CloseReason, UpstreamConnection, type ConnectionOptions, type ConnectionOwner } from './connection';
import type { PoolWaiter } from './types';

export const enum PoolCounter {
  /** Sockets opened (stale-retry replacements included). */
  CxTotal,
  /** Connect attempts that failed, timeouts included (as Envoy counts them). */
  CxConnectFail,
  CxConnectTimeout,
  CxDestroyLocal,
  CxDestroyRemote,
  /** Malformed response; the connection is also counted in CxDestroyLocal. */
  CxProtocolError,
  /** A waiter had to queue because the cluster was at maxConnections. */
  CxOverflow,
  /** A waiter was refused because the cluster was at maxPendingRequests. */
  RqPendingOverflow,
  /** A stale reused socket was replaced and the request replayed on a fresh one. */
  RqRetryStale,
}

export const enum PoolGauge {
  /** Open connections: connecting, busy and idle (Envoy's upstream_cx_active). */
  CxActive,
  /** Idle subset of CxActive. */
  CxIdle,
  /** Waiters queued for a connection. */
  RqPendingActive,
}

/** How a pool reports; the caller maps these onto shared-memory stats. */
export interface PoolObserver {
  count(c: PoolCounter): void;
  gauge(g: PoolGauge, delta: number): void;
}

const NULL_OBSERVER: PoolObserver = { count() {}, gauge() {} };

/**
 * Circuit-breaker state shared by all endpoint pools of one cluster (in one
 * worker). `connections` counts every open socket, idle ones included;
 * `pending` counts waiters that have no connection on the way (they are
 * queued only because of maxConnections).
 */
export class ClusterBudget {
  maxConnections: number;
  maxPendingRequests: number;
  connections = 0;
  pending = 0;
  private readonly pools: EndpointPool[] = [];
  private next = 0;
  private reclaiming = false;

  constructor(maxConnections: number, maxPendingRequests: number) {
    this.maxConnections = maxConnections;
    this.maxPendingRequests = maxPendingRequests;
  }

  /** @internal */
  register(p: EndpointPool): void {
    this.pools.push(p);
  }
  /** @internal */
  unregister(p: EndpointPool): void {
    const i = this.pools.indexOf(p);
    if (i >= 0) this.pools.splice(i, 1);
  }

  /** @internal take a connection slot for `requester`, reclaiming a sibling's idle one if needed */
  reserve(requester: EndpointPool): boolean {
    if (this.connections < this.maxConnections) {
      this.connections++;
      return true;
    }
    // Idle sockets of other endpoints hold slots nobody uses right now.
    if (this.pools.length > 1) {
      this.reclaiming = true;
      try {
        for (let k = 0; k < this.pools.length; k++) {
          const p = this.pools[k];
          if (p !== requester && p.closeOldestIdle()) break;
        }
      } finally {
        this.reclaiming = false;
      }
      if (this.connections < this.maxConnections) {
        this.connections++;
        return true;
      }
    }
    return false;
  }

  /** @internal a slot came free: give it to a pool whose waiters have no connection coming */
  release(): void {
    this.connections--;
    if (this.reclaiming || this.pending === 0) return;
    const n = this.pools.length;
    for (let k = 0; k < n; k++) {
      const idx = (this.next + k) % n;
      const p = this.pools[idx];
      if (p.wantsConnection()) {
        this.next = (idx + 1) % n;
        p.openForWaiters();
        return;
      }
    }
  }

  /** @internal some pool has waiters blocked on maxConnections */
  get starved(): boolean {
    return this.pending > 0 && this.connections >= this.maxConnections;
  }
}

export interface EndpointPoolOptions {
  host: string;
  port: number;
  budget: ClusterBudget;
  connectTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long; 0 keeps them forever. */
  idleTimeoutMs: number;
  observer?: PoolObserver;
  /** Response head cap; default 64 KiB. */
  maxResponseHeadBytes?: number;
  /** Request head encoding; default 'utf8' (see ConnectionOptions.headEncoding). */
  requestHeadEncoding?: 'utf8' | 'latin1';
  /** Replay a bodiless idempotent request once when a reused socket turns out stale. Default true. */
  retryStale?: boolean;
  /** SO_KEEPALIVE initial delay; default 60 s. */
  tcpKeepAliveInitialDelayMs?: number;
}

export class EndpointPool implements ConnectionOwner {
  /** "host:port" */
  readonly endpoint: string;
  readonly budget: ClusterBudget;
  private readonly obs: PoolObserver;
  private readonly connOpts: ConnectionOptions;
  private readonly idleTimeoutMs: number;
  /** Most recently used last (popped first). */
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiters: PoolWaiter[] = [];
  private readonly conns = new Set<UpstreamConnection>();
  private nConnecting = 0;
  /** This pool's share of budget.pending. */
  private overCount = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private draining = false;
  private closed = false;
  private onDrained: (() => void) | null = null;
  private readonly lIdleTimer = (): void => this.sweepIdle();

  constructor(o: EndpointPoolOptions) {
    this.endpoint = `${o.host}:${o.port}`;
    this.budget = o.budget;
    this.obs = o.observer ?? NULL_OBSERVER;
    this.idleTimeoutMs = o.idleTimeoutMs;
    this.connOpts = {
      host: o.host,
      port: o.port,
      connectTimeoutMs: o.connectTimeoutMs,
      maxHeadBytes: o.maxResponseHeadBytes,
      headEncoding: o.requestHeadEncoding,
      keepAliveInitialDelayMs: o.tcpKeepAliveInitialDelayMs,
      retryStale: o.retryStale,
    };
    o.budget.register(this);
  }

  /** Open connections (connecting + busy + idle). */
  get size(): number {
    return this.conns.size;
  }
  get idleCount(): number {
    return this.idle.length;
  }
  get connectingCount(): number {
    return this.nConnecting;
  }
  get pendingCount(): number {
    return this.waiters.length;
  }

  /**
   * Get a connection for `waiter`: an idle one synchronously, otherwise
   * when one connects or frees up. onPoolFailure reports connect failures
   * and circuit-breaker overflow.
   */
  acquire(waiter: PoolWaiter): void {
    if (this.closed) {
      waiter.onPoolFailure(new UpstreamError(`pool for ${this.endpoint} is closed`, 'UPSTREAM_CONNECT_FAILURE'));
      return;
    }
    const idle = this.idle;
    while (idle.length > 0) {
      const c = idle.pop()!;
      c.inIdle = false;
      this.obs.gauge(PoolGauge.CxIdle, -1);
      if (c.usable) {
        c.markAssigned();
        waiter.onPoolReady(c);
        return;
      }
      c.destroy();
    }
    if (this.nConnecting <= this.waiters.length && !this.openConnection()) {
      // At maxConnections: queue as pending, within maxPendingRequests.
      if (this.budget.pending >= this.budget.maxPendingRequests) {
        this.obs.count(PoolCounter.RqPendingOverflow);
        waiter.onPoolFailure(new UpstreamError(`cluster pending-request limit (${this.budget.maxPendingRequests}) reached for ${this.endpoint}`, 'UPSTREAM_OVERFLOW'));
        return;
      }
      this.obs.count(PoolCounter.CxOverflow);
    }
    this.waiters.push(waiter);
    this.obs.gauge(PoolGauge.RqPendingActive, 1);
    this.syncPending();
  }

  /** Forget a queued waiter (its downstream went away). False when it was not queued. */
  cancel(waiter: PoolWaiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    this.obs.gauge(PoolGauge.RqPendingActive, -1);
    this.syncPending();
    this.checkDrained();
    return true;
  }

  /**
   * Graceful: close idle connections now and busy ones when their exchange
   * ends (queued waiters are still served). `onDrained` runs once nothing is left.
   */
  drain(onDrained?: () => void): void {
    this.draining = true;
    if (onDrained !== undefined) this.onDrained = onDrained;
    while (this.idle.length > 0) this.idle[this.idle.length - 1].destroy();
    this.checkDrained();
  }

  /** Hard stop: fail queued waiters, abort running exchanges, destroy every socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    const ws = this.waiters.splice(0);
    if (ws.length > 0) this.obs.gauge(PoolGauge.RqPendingActive, -ws.length);
    this.syncPending();
    for (const c of Array.from(this.conns)) c.destroy('upstream pool closed');
    this.budget.unregister(this);
    for (const w of ws) w.onPoolFailure(new UpstreamError(`pool for ${this.endpoint} closed`, 'UPSTREAM_CONNECT_FAILURE'));
    this.checkDrained();
  }

  // ---- ClusterBudget hooks -------------------------------------------------

  /** @internal */
  wantsConnection(): boolean {
    return !this.closed && this.waiters.length > this.nConnecting;
  }
  /** @internal */
  openForWaiters(): void {
    if (this.openConnection()) this.syncPending();
  }
  /** @internal close the least recently used idle connection, if any */
  closeOldestIdle(): boolean {
    if (this.idle.length === 0) return false;
    this.idle[0].destroy();
    return true;
  }

  // ---- ConnectionOwner -----------------------------------------------------

  onConnected(c: UpstreamConnection): void {
    this.nConnecting--;
    const w = this.waiters.shift();
    if (w !== undefined) {
      this.obs.gauge(PoolGauge.RqPendingActive, -1);
      this.syncPending();
      c.markAssigned();
      w.onPoolReady(c);
      return;
    }
    this.syncPending();
    this.onReusable(c);
    this.afterRelease(c);
  }

  onConnectFailed(c: UpstreamConnection, err: UpstreamError): void {
    this.nConnecting--;
    this.forget(c);
    this.obs.count(PoolCounter.CxConnectFail);
    if (err.code === 'UPSTREAM_CONNECT_TIMEOUT') this.obs.count(PoolCounter.CxConnectTimeout);
    // One failed attempt fails one waiter (the oldest); the others keep their own attempts.
    let w: PoolWaiter | undefined;
    if (this.waiters.length > this.nConnecting) {
      w = this.waiters.shift();
      this.obs.gauge(PoolGauge.RqPendingActive, -1);
    }
    this.syncPending();
    this.budget.release();
    this.checkDrained();
    if (w !== undefined) w.onPoolFailure(err);
  }

  onReusable(c: UpstreamConnection): void {
    if (this.draining && this.waiters.length === 0) {
      c.destroy();
      return;
    }
    c.markIdle();
    c.inIdle = true;
    if (this.idleTimeoutMs > 0) c.idleSince = performance.now();
    this.idle.push(c);
    this.obs.gauge(PoolGauge.CxIdle, 1);
    if (this.idleTimer === null) this.armIdleTimer();
  }

  afterRelease(c: UpstreamConnection): void {
    const idle = this.idle;
    while (this.waiters.length > 0 && idle.length > 0) {
      const ic = idle.pop()!;
      ic.inIdle = false;
      this.obs.gauge(PoolGauge.CxIdle, -1);
      if (!ic.usable) {
        ic.destroy();
        continue;
      }
      const w = this.waiters.shift()!;
      this.obs.gauge(PoolGauge.RqPendingActive, -1);
      this.syncPending();
      ic.markAssigned();
      w.onPoolReady(ic);
    }
    // Nobody here needs it but another endpoint of the cluster is starved of slots.
    if (c.inIdle && (this.draining || this.budget.starved)) c.destroy();
  }

  onClosed(c: UpstreamConnection, reason: CloseReason): void {
    if (!this.conns.has(c)) return;
    if (c.inIdle) {
      c.inIdle = false;
      const i = this.idle.lastIndexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
      this.obs.gauge(PoolGauge.CxIdle, -1);
    }
    if (c.connecting) {
      // Destroyed by drain/close before it connected.
      c.connecting = false;
      this.nConnecting--;
      this.syncPending();
    }
    this.forget(c);
    if (reason === CloseReason.Remote) this.obs.count(PoolCounter.CxDestroyRemote);
    else {
      this.obs.count(PoolCounter.CxDestroyLocal);
      if (reason === CloseReason.Protocol) this.obs.count(PoolCounter.CxProtocolError);
    }
    this.budget.release();
    this.checkDrained();
  }

  onStaleRetry(_c: UpstreamConnection): void {
    this.obs.count(PoolCounter.RqRetryStale);
    this.obs.count(PoolCounter.CxDestroyRemote);
    this.obs.count(PoolCounter.CxTotal);
  }

  onRetryConnectFailed(c: UpstreamConnection, err: UpstreamError): void {
    if (!this.conns.has(c)) return;
    this.forget(c);
    this.obs.count(PoolCounter.CxConnectFail);
    if (err.code === 'UPSTREAM_CONNECT_TIMEOUT') this.obs.count(PoolCounter.CxConnectTimeout);
    this.budget.release();
    this.checkDrained();
  }

  // ---- internals -----------------------------------------------------------

  private openConnection(): boolean {
    if (!this.budget.reserve(this)) return false;
    const c = new UpstreamConnection(this, this.connOpts);
    this.conns.add(c);
    this.nConnecting++;
    this.obs.count(PoolCounter.CxTotal);
    this.obs.gauge(PoolGauge.CxActive, 1);
    return true;
  }

  private forget(c: UpstreamConnection): void {
    this.conns.delete(c);
    this.obs.gauge(PoolGauge.CxActive, -1);
  }

  /** Keep budget.pending = sum over pools of waiters that have no connect in flight. */
  private syncPending(): void {
    const over = this.waiters.length > this.nConnecting ? this.waiters.length - this.nConnecting : 0;
    if (over !== this.overCount) {
      this.budget.pending += over - this.overCount;
      this.overCount = over;
    }
  }

  private checkDrained(): void {
    if (this.draining && this.onDrained !== null && this.conns.size === 0 && this.waiters.length === 0) {
      const cb = this.onDrained;
      this.onDrained = null;
      cb();
    }
  }

  // One timer per pool, aimed at the oldest idle connection (the bottom of
  // the LIFO stack), instead of a timer per connection per release.
  private armIdleTimer(): void {
    if (this.idle.length === 0 || !(this.idleTimeoutMs > 0) || this.closed) return;
    const wait = this.idle[0].idleSince + this.idleTimeoutMs - performance.now();
    this.idleTimer = setTimeout(this.lIdleTimer, wait > 1 ? Math.ceil(wait) : 1);
    this.idleTimer.unref();
  }

  private sweepIdle(): void {
    this.idleTimer = null;
    const now = performance.now();
    const idle = this.idle;
    while (idle.length > 0 && idle[0].idleSince + this.idleTimeoutMs <= now) idle[0].destroy();
    this.armIdleTimer();
  }
}
