// Drives EndpointStateTable.sweep every outlier-detection interval. Main
// thread only, one per cluster: workers eject inline as responses arrive, but
// returning endpoints to service and decaying ejection multipliers is a
// clock-driven job that must run once, not once per worker.
import type { EndpointStateTable } from './endpoint-state';

export class OutlierSweeper {
  private readonly table: EndpointStateTable;
  private readonly now: () => number;
  private readonly onUneject: ((count: number) => void) | null;
  private timer: NodeJS.Timeout | null = null;

  constructor(table: EndpointStateTable, now: () => number = Date.now, onUneject: ((count: number) => void) | null = null) {
    this.table = table;
    this.now = now;
    this.onUneject = onUneject;
  }

  /** No-op when the cluster has no outlier detection. */
  start(): void {
    const interval = this.table.sweepIntervalMs;
    if (this.timer !== null || interval <= 0) return;
    this.timer = setInterval(() => this.tick(), interval);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One sweep now; returns the number of endpoints returned to service. */
  tick(): number {
    const n = this.table.sweep(this.now());
    if (n > 0 && this.onUneject !== null) this.onUneject(n);
    return n;
  }
}
