// Open loop (constant rate): request i of this worker is intended at
// t0 + phase + i * interval. It goes out on a free connection as soon as it
// is due; when every connection is busy it waits (in order) for the next one
// to free up. Its latency is measured from the intended time, so a stall of
// the server is charged to every request that was due during it, not just
// to the one that was in flight (the coordinated-omission correction of
// wrk2).
//
// Timing: libuv timers have 1 ms resolution. When nothing is in flight and
// the next request is due within 20 ms, the worker blocks in Atomics.wait
// (sub-ms, no response can arrive meanwhile) until 150 µs before it and
// spins the rest. With requests in flight it polls the event loop
// (setImmediate) for the last 1.5 ms, else sleeps on a timer.
import { performance } from 'perf_hooks';
import type { Conn } from './client';
import { Engine } from './engine';
import type { WorkerConfig } from './types';

const EARLY_MS = 0.15;
const BLOCK_MAX_MS = 20;
const SPIN_MS = 1.5;

export class OpenLoop extends Engine {
  private next = 0;
  private total = 0;
  private readonly idle: Conn[] = [];
  private timerPending = false;
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));
  private readonly tick = (): void => {
    this.timerPending = false;
    this.pump();
  };

  constructor(cfg: WorkerConfig) {
    super(cfg);
  }

  private intended(i: number): number {
    return this.t0 + this.cfg.phaseMs + i * this.cfg.intervalMs;
  }

  protected get exhausted(): boolean {
    return this.next >= this.total;
  }

  protected begin(): void {
    const { phaseMs, intervalMs, warmupMs, durationMs } = this.cfg;
    const span = warmupMs + durationMs;
    this.total = phaseMs < span ? Math.ceil((span - phaseMs) / intervalMs) : 0;
    // requests intended at or after the warm-up's end
    const firstMeasured = phaseMs >= warmupMs ? 0 : Math.ceil((warmupMs - phaseMs) / intervalMs);
    this.intendedCount = Math.max(0, this.total - firstMeasured);
    for (const c of this.conns) if (c.alive && !c.busy) this.idle.push(c);
    this.startConnections();
    this.pump();
    this.maybeFinish();
  }

  protected onFree(conn: Conn): void {
    this.idle.push(conn);
    if (this.next < this.total) this.pump();
  }

  protected onEnd(): void {
    // send whatever can still go out, then drop the backlog
    this.pump();
    if (this.next < this.total) {
      for (let i = this.next; i < this.total; i++) if (this.intended(i) >= this.warmEnd) this.unsent++;
      this.next = this.total;
    }
    this.maybeFinish();
  }

  private popIdle(): Conn | null {
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.alive && !c.busy) return c;
    }
    return null;
  }

  private pump(): void {
    if (this.finished) return;
    for (;;) {
      let now = performance.now();
      while (this.next < this.total) {
        const due = this.intended(this.next);
        if (due > now) break;
        const c = this.popIdle();
        if (c === null) return; // all busy: the next free connection takes it
        this.next++;
        this.send(c, due, now, due >= this.warmEnd);
        now = performance.now();
      }
      if (this.next >= this.total || this.idle.length === 0) return;
      const delta = this.intended(this.next) - now;
      if (this.inflight === 0 && delta < BLOCK_MAX_MS) {
        // Nothing can arrive: block until just before the due time, then spin.
        if (delta > EARLY_MS) Atomics.wait(this.sleepCell, 0, 0, delta - EARLY_MS);
        const due = this.intended(this.next);
        while (performance.now() < due);
        continue;
      }
      if (this.timerPending) return;
      this.timerPending = true;
      if (delta > SPIN_MS) setTimeout(this.tick, Math.max(1, Math.floor(delta - SPIN_MS + 0.5)));
      else setImmediate(this.tick);
      return;
    }
  }
}
