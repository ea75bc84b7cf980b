// Open loop (constant rate): request i of this worker is intended at
// t0 + phase + i * interval. It goes out on a free connection as soon as it
// is due; when every connection is busy it waits (in order) for the next one
// to free up. Its latency is measured from the intended time, so a stall of
// the server is charged to every request that was due during it, not just
// to the one that was in flight (the coordinated-omission correction of
// wrk2).
//
// Timing: this thread does not keep time. A pacer thread (pacer.ts) sleeps
// in Atomics.wait until just before each due time and writes the request
// itself with write(2) on an idle connection's descriptor. This thread reads
// and frames responses, blocked in epoll between them, so it leaves the CPU
// to the server under test (it used to poll its event loop until each due
// time, which cost the server ms-scale tails when they shared a CPU). When a
// response frees a connection, it writes whatever is due by then itself:
// overdue requests that found every connection busy, and at high rates the
// ones that fell due since the pacer's last wake-up. Connections and
// request indices are claimed through shared memory (schedule.ts), so one
// thread at a time writes to a socket. This thread learns of an exchange
// the pacer started when its response begins (adopt), when the connection
// closes (onClosing), or in the periodic sweep (timeouts); the request index
// and the write time are in shared memory.
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Worker } from 'worker_threads';
import type { Conn } from './client';
import { Engine } from './engine';
import type { PacerConfig, PacerStart } from './pacer';
import { CLOSED, DONE, DUE, dueBy, IDLE, IN_FLIGHT, makeDispatch, NEXT, raiseDue, settle, sharedSize, sharedViews, STOP, WRITING, type Shared } from './schedule';
import type { WorkerConfig, WorkerResult } from './types';

export class OpenLoop extends Engine {
  /** Requests of this worker over the run, and the index of the first one intended after the warm-up. */
  private readonly total: number;
  private readonly firstMeasured: number;
  private readonly sh: Shared;
  private readonly pacer: Worker;
  private readonly pacerReady: Promise<void>;
  private dispatch: (first?: number) => number = () => 0;
  /** No request will be written any more; `sentCount` of them were. */
  private closed = false;
  private sentCount = 0;

  constructor(cfg: WorkerConfig) {
    super(cfg);
    const { phaseMs, intervalMs, warmupMs, durationMs } = cfg;
    const span = warmupMs + durationMs;
    this.total = phaseMs < span ? Math.ceil((span - phaseMs) / intervalMs) : 0;
    this.firstMeasured = phaseMs >= warmupMs ? 0 : Math.min(this.total, Math.ceil((warmupMs - phaseMs) / intervalMs));
    this.intendedCount = this.total - this.firstMeasured;
    const sab = new SharedArrayBuffer(sharedSize(cfg.connections));
    this.sh = sharedViews(sab, cfg.connections);
    this.sh.busy.fill(CLOSED);
    this.sh.fds.fill(-1);
    const config: PacerConfig = {
      sab,
      conns: cfg.connections,
      request: cfg.request,
      phaseMs,
      intervalMs,
      total: this.total,
      writeLimitMs: cfg.timeoutMs,
    };
    this.pacer = new Worker(path.join(__dirname, 'pacer.js'), { workerData: { pacer: true, config } });
    this.pacerReady = new Promise((resolve) => this.pacer.once('message', () => resolve()));
    this.pacer.on('error', (e) => {
      throw e; // fatal for this worker (reported by the main thread)
    });
    this.pacer.unref();
  }

  override async connectAll(): Promise<{ connected: number; failed: number; firstError: string }> {
    const [r] = await Promise.all([super.connectAll(), this.pacerReady]);
    return r;
  }

  override run(t0: number, t0ns: bigint): Promise<WorkerResult> {
    this.dispatch = makeDispatch(this.sh, this.req, t0, this.cfg.timeoutMs);
    for (const c of this.conns) this.offer(c);
    const p = super.run(t0, t0ns);
    const start: PacerStart = { t0ns: t0ns.toString() };
    this.pacer.postMessage(start);
    return p;
  }

  private intended(i: number): number {
    return this.t0 + this.cfg.phaseMs + i * this.cfg.intervalMs;
  }

  protected get exhausted(): boolean {
    const sent = this.closed ? this.sentCount : Atomics.load(this.sh.ctl, NEXT);
    return (this.closed || sent >= this.total) && this.completedTotal + this.failedTotal >= sent;
  }

  protected begin(): void {
    this.startConnections();
    // (connections that came back before the clock started)
    for (const c of this.conns) this.offer(c);
    if (this.total === 0) this.closeSchedule();
    this.maybeFinish();
  }

  /** Hand a connected connection that nobody uses to the writers. */
  private offer(conn: Conn): void {
    if (!conn.alive || conn.busy) return;
    Atomics.store(this.sh.fds, conn.id, conn.descriptor);
    Atomics.compareExchange(this.sh.busy, conn.id, CLOSED, IDLE);
  }

  protected onFree(conn: Conn): void {
    // CLOSED since its exchange ended (exchangeEnded) or it (re)connected
    Atomics.store(this.sh.fds, conn.id, conn.descriptor);
    Atomics.store(this.sh.busy, conn.id, IDLE);
    // Awake anyway: send what is due (overdue requests waiting for a
    // connection, and at high rates whatever fell due since the pacer's wake-up).
    const { ctl } = this.sh;
    raiseDue(ctl, this.dueNow());
    if (Atomics.load(ctl, NEXT) < Atomics.load(ctl, DUE)) this.dispatch(conn.id);
  }

  private dueNow(): number {
    return dueBy(performance.now() - this.t0, this.cfg.phaseMs, this.cfg.intervalMs, this.total);
  }

  protected override exchangeEnded(conn: Conn): void {
    // Out of the writers' hands until onFree (or for good when it closes).
    settle(this.sh, conn.id);
    Atomics.store(this.sh.busy, conn.id, CLOSED);
  }

  protected onEnd(): void {
    if (this.finished) return;
    // Send what is due and can still go out (the pacer may be a little late), then stop.
    raiseDue(this.sh.ctl, this.dueNow());
    this.dispatch();
    this.closeSchedule();
    this.maybeFinish();
  }

  /** Stop the pacer and take the rest of the schedule: what was not written by now never will be. */
  private closeSchedule(): void {
    if (this.closed) return;
    this.closed = true;
    const { ctl } = this.sh;
    Atomics.store(ctl, STOP, 1);
    Atomics.notify(ctl, STOP);
    for (;;) {
      const n = Atomics.load(ctl, NEXT);
      if (n >= this.total || Atomics.compareExchange(ctl, NEXT, n, this.total) === n) {
        this.sentCount = Math.min(n, this.total);
        break;
      }
    }
    this.unsent = this.total - Math.max(this.sentCount, this.firstMeasured);
    this.updateSent(this.sentCount);
  }

  private updateSent(n: number): void {
    this.sentTotal = n;
    this.sent = Math.max(0, n - this.firstMeasured);
    this.live[this.liveBase + 2] = n;
  }

  // ---- exchanges the pacer started -----------------------------------------

  /** Record the request in flight on `conn` (written by either thread) in this thread's Conn. */
  private take(conn: Conn): void {
    const i = this.sh.creq[conn.id];
    const sentAt = this.t0 + this.sh.sendMs[conn.id];
    conn.beginExchange(this.intended(i), sentAt, i >= this.firstMeasured, this.headRequest);
    this.inflight++;
  }

  /** Response bytes arrived on a connection this thread thinks is idle. */
  adopt(conn: Conn): boolean {
    // (WRITING: the writer is still in write(2) or has not marked it yet)
    if (settle(this.sh, conn.id) !== IN_FLIGHT) return false;
    this.take(conn);
    return true;
  }

  /** The descriptor is about to be closed: no writer may hold it any more. */
  onClosing(conn: Conn): void {
    let s: number;
    do s = settle(this.sh, conn.id); // a write in progress ends first
    while (Atomics.compareExchange(this.sh.busy, conn.id, s, CLOSED) !== s);
    Atomics.store(this.sh.fds, conn.id, -1);
    // A request went out on it: that exchange fails (Conn.onClose reports it).
    if (s === IN_FLIGHT && !conn.busy && !this.finished) this.take(conn);
  }

  protected override refresh(): void {
    if (!this.closed) this.updateSent(Math.min(Atomics.load(this.sh.ctl, NEXT), this.total));
    // exchanges still waiting for their first response byte (the sweep times them out)
    for (const c of this.conns) if (!c.busy && settle(this.sh, c.id) === IN_FLIGHT) this.take(c);
  }

  protected override finish(): void {
    if (this.finished) return;
    this.closeSchedule();
    // The pacer ends its loop at once; wait for that so that terminating it
    // cannot cut a write short (and leave a connection claimed).
    const { ctl, busy } = this.sh;
    const limit = performance.now() + 1000;
    while (Atomics.load(ctl, DONE) === 0 && performance.now() < limit) Atomics.wait(ctl, DONE, 0, 10);
    void this.pacer.terminate();
    // (if it did not stop in time, its claim is released here)
    for (let c = 0; c < busy.length; c++) Atomics.compareExchange(busy, c, WRITING, IN_FLIGHT);
    super.finish();
  }
}
