// Closed loop (maximum throughput): every connection sends its next request
// as soon as the previous response has ended, until the end time. A request
// belongs to the measured window when it is written after the warm-up.
import { performance } from 'perf_hooks';
import type { Conn } from './client';
import { Engine } from './engine';
import type { WorkerConfig } from './types';

export class ClosedLoop extends Engine {
  private stopped = false;

  constructor(cfg: WorkerConfig) {
    super(cfg);
  }

  protected get exhausted(): boolean {
    return this.stopped;
  }

  protected begin(): void {
    this.startConnections();
    const now = performance.now();
    for (const c of this.conns) if (c.alive && !c.busy) this.onFree(c, now);
  }

  protected onFree(conn: Conn, now: number): void {
    if (this.stopped) return;
    if (now >= this.tEnd) {
      this.onEnd();
      return;
    }
    this.send(conn, now, now, now >= this.warmEnd);
  }

  protected onEnd(): void {
    this.stopped = true;
    this.maybeFinish();
  }
}
