// The part of a worker common to both modes: the connection set, what is
// recorded per response, errors, timeouts, reconnects and the end of the run.
// OpenLoop / ClosedLoop decide when a request goes out.
import { performance } from 'perf_hooks';
import { Conn, type ConnOwner } from './client';
import { encode, Recorder } from './histogram';
import { LIVE_SLOTS, type ErrorKind, type WorkerConfig, type WorkerResult } from './types';

export abstract class Engine implements ConnOwner {
  readonly conns: Conn[] = [];
  protected readonly req: Buffer;
  protected readonly headRequest: boolean;
  /** performance.now() values: clock start, end of warm-up, end of the run. */
  protected t0 = 0;
  protected warmEnd = 0;
  protected tEnd = 0;
  protected started = false;
  protected finished = false;
  protected inflight = 0;

  private readonly latency = new Recorder();
  /** Open loop only: in a closed loop it is the latency. */
  private readonly service: Recorder | null;
  private readonly connectH = new Recorder();
  private readonly status = new Float64Array(1000);
  private readonly errors: Partial<Record<ErrorKind, number>> = {};
  protected sentTotal = 0;
  protected completedTotal = 0;
  protected sent = 0;
  protected completed = 0;
  /** Exchanges that ended in an error (warm-up included). */
  protected failedTotal = 0;
  protected unsent = 0;
  protected intendedCount = 0;
  private rxBytes = 0;
  private connects = 0;
  private reconnects = 0;
  private errorsTotal = 0;
  private lastEvent = 0;
  protected readonly live: Float64Array;
  protected readonly liveBase: number;
  private checker: NodeJS.Timeout | null = null;
  private hardStop: NodeJS.Timeout | null = null;
  private onDone: ((r: WorkerResult) => void) | null = null;

  constructor(protected readonly cfg: WorkerConfig) {
    this.req = Buffer.from(cfg.request.buffer, cfg.request.byteOffset, cfg.request.byteLength);
    this.headRequest = cfg.headRequest;
    this.live = new Float64Array(cfg.live);
    this.service = cfg.mode === 'open' ? new Recorder() : null;
    this.liveBase = cfg.index * LIVE_SLOTS;
    for (let i = 0; i < cfg.connections; i++) this.conns.push(new Conn(i, cfg.host, cfg.port, this));
  }

  /** Open every connection; resolves once each has connected or failed once. */
  connectAll(): Promise<{ connected: number; failed: number; firstError: string }> {
    return new Promise((resolve) => {
      let settled = 0;
      let failed = 0;
      let firstError = '';
      this.onInitial = (ok, msg) => {
        settled++;
        if (!ok) {
          failed++;
          firstError ||= msg;
        }
        if (settled === this.conns.length) {
          this.onInitial = null;
          clearTimeout(limit);
          resolve({ connected: this.conns.length - failed, failed, firstError });
        }
      };
      for (const c of this.conns) c.connect();
      const limit = setTimeout(() => {
        for (const c of this.conns) if (c.connecting) c.abort('connect_timeout');
      }, this.cfg.timeoutMs);
    });
  }
  private onInitial: ((ok: boolean, msg: string) => void) | null = null;

  /** Start the clock at `t0` (performance.now() time, may be in the future; `t0ns` is the same instant on process.hrtime). */
  run(t0: number, _t0ns: bigint): Promise<WorkerResult> {
    this.t0 = t0;
    this.warmEnd = t0 + this.cfg.warmupMs;
    this.tEnd = this.warmEnd + this.cfg.durationMs;
    return new Promise((resolve) => {
      this.onDone = resolve;
      const wait = t0 - performance.now();
      setTimeout(() => this.begin(), wait > 1 ? Math.floor(wait) : 0);
      // Timeouts are found by a sweep, not a timer per request.
      const every = Math.max(5, Math.min(100, Math.floor(this.cfg.timeoutMs / 4)));
      this.checker = setInterval(() => this.sweep(), every);
      // Whatever happens, stop one timeout after the end.
      const hard = this.tEnd - performance.now() + this.cfg.timeoutMs + 200;
      this.hardStop = setTimeout(() => this.finish(), Math.max(1, hard));
      setTimeout(() => this.onEnd(), Math.max(1, Math.ceil(this.tEnd - performance.now())));
    });
  }

  /** The clock has started: send the first requests. */
  protected abstract begin(): void;
  /** A connection is free (connected, no exchange in flight). */
  protected abstract onFree(conn: Conn, now: number): void;
  /** The end time passed: stop issuing requests. */
  protected abstract onEnd(): void;
  /** No more requests will be issued. */
  protected abstract get exhausted(): boolean;
  /** The exchange on `conn` ended (response or failure), before anything else happens to it. */
  protected exchangeEnded(_conn: Conn): void {}
  /** Bring `busy`/`sentAt` and the sent counts up to date (open loop: another thread writes). */
  protected refresh(): void {}

  /** Mark the run started and retry connections whose first connect failed. */
  protected startConnections(): void {
    this.started = true;
    for (const c of this.conns) if (!c.alive && !c.connecting) c.connect();
  }

  protected send(conn: Conn, intended: number, now: number, measured: boolean): void {
    this.inflight++;
    this.sentTotal++;
    if (measured) this.sent++;
    this.live[this.liveBase + 2] = this.sentTotal;
    conn.send(this.req, intended, now, measured, this.headRequest);
  }

  // ---- ConnOwner ------------------------------------------------------------

  onConnected(conn: Conn, ms: number): void {
    this.connects++;
    this.connectH.record(Math.round(ms * 1000));
    if (this.onInitial !== null) {
      this.onInitial(true, '');
      return;
    }
    this.reconnects++;
    if (this.started && !this.finished) this.onFree(conn, performance.now());
  }

  onResponse(conn: Conn, now: number): void {
    this.exchangeEnded(conn);
    this.inflight--;
    this.completedTotal++;
    if (conn.measured) {
      this.completed++;
      const lat = Math.round((now - conn.intended) * 1000);
      this.latency.record(lat > 0 ? lat : 0);
      if (this.service !== null) {
        const svc = Math.round((now - conn.sentAt) * 1000);
        this.service.record(svc > 0 ? svc : 0);
      }
      this.status[conn.framer.status]++;
      this.rxBytes += conn.framer.bytes;
      this.lastEvent = now;
    }
    this.live[this.liveBase] = this.completedTotal;
    if (this.finished) return;
    if (!conn.alive) {
      conn.close(); // "Connection: close" or close-delimited: reconnect (onClosed)
    } else {
      this.onFree(conn, now);
    }
    this.maybeFinish();
  }

  onExchangeFailed(conn: Conn, kind: ErrorKind): void {
    this.exchangeEnded(conn);
    this.inflight--;
    this.failedTotal++;
    if (conn.measured) {
      this.count(kind);
      this.lastEvent = performance.now();
    }
    this.maybeFinish();
  }

  onConnectFailed(conn: Conn, kind: ErrorKind, message: string): void {
    this.count(kind);
    if (this.onInitial !== null && !conn.everConnected) this.onInitial(false, message || kind);
  }

  onClosed(conn: Conn): void {
    if (this.finished || this.onInitial !== null) return;
    if (performance.now() >= this.tEnd) return;
    // Back off on repeated connect failures: 10 ms, then 50 ms doubling to 1 s.
    const f = conn.failures;
    const delay = f === 0 ? 0 : Math.min(1000, 50 * 2 ** (f - 1));
    setTimeout(() => {
      if (!this.finished && performance.now() < this.tEnd) conn.connect();
    }, delay);
  }

  private count(kind: ErrorKind): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.errorsTotal++;
    this.live[this.liveBase + 1] = this.errorsTotal;
  }

  /** Abort exchanges and connects older than the timeout. */
  private sweep(): void {
    this.refresh();
    const now = performance.now();
    const limit = this.cfg.timeoutMs;
    for (const c of this.conns) {
      if (c.busy && now - c.sentAt > limit) c.abort('timeout');
      else if (c.connecting && now - c.connectStart > limit) c.abort('connect_timeout');
    }
  }

  protected maybeFinish(): void {
    if (this.started && !this.finished && this.inflight === 0 && this.exhausted) this.finish();
  }

  protected finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.checker) clearInterval(this.checker);
    if (this.hardStop) clearTimeout(this.hardStop);
    this.refresh();
    // Whatever is still in flight at the hard stop timed out.
    for (const c of this.conns) {
      if (c.busy && c.measured) this.count('timeout');
      c.close();
    }
    const status: Record<string, number> = {};
    for (let s = 0; s < this.status.length; s++) if (this.status[s] > 0) status[String(s)] = this.status[s];
    const end = Math.min(this.tEnd, Math.max(this.lastEvent, this.warmEnd));
    this.onDone!({
      latency: encode(this.latency.flush()),
      service: encode((this.service ?? this.latency).flush()),
      connect: encode(this.connectH.flush()),
      sentTotal: this.sentTotal,
      completedTotal: this.completedTotal,
      sent: this.sent,
      completed: this.completed,
      unsent: this.unsent,
      intended: this.intendedCount,
      status,
      errors: { ...this.errors },
      rxBytes: this.rxBytes,
      txBytes: this.sent * this.req.length,
      connects: this.connects,
      reconnects: this.reconnects,
      windowMs: end - this.warmEnd,
    });
  }
}
