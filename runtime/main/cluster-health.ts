// Main-thread owner of each cluster's shared endpoint table: active health
// checks and the outlier sweep run here once, not once per worker. A reload
// keeps a cluster's table (and so its health and ejections) when its
// endpoints and outlier settings did not change.
import type { ClusterConfig } from '../config/types';
import { EndpointStateTable } from '../cluster/endpoint-state';
import { HealthChecker } from '../cluster/health-checker';
import { OutlierSweeper } from '../cluster/outlier-sweeper';

interface Entry {
  key: string;
  table: EndpointStateTable;
  checker: HealthChecker | null;
  sweeper: OutlierSweeper;
}

export class ClusterHealth {
  private entries = new Map<string, Entry>();

  /** Tables for a new config; reuses unchanged ones. Call commit() or discard() after. */
  stage(clusters: readonly ClusterConfig[]): Map<string, Entry> {
    const next = new Map<string, Entry>();
    for (const c of clusters) {
      const key = JSON.stringify([c.endpoints, c.outlierDetection, c.healthCheck]);
      const old = this.entries.get(c.name);
      if (old !== undefined && old.key === key) {
        next.set(c.name, old);
        continue;
      }
      const table = EndpointStateTable.create(c.endpoints.length, c.outlierDetection);
      next.set(c.name, { key, table, checker: c.healthCheck ? new HealthChecker(c, table) : null, sweeper: new OutlierSweeper(table) });
    }
    return next;
  }

  commit(next: Map<string, Entry>): void {
    for (const [name, e] of this.entries) if (next.get(name) !== e) stopEntry(e);
    for (const e of next.values()) {
      e.checker?.start();
      e.sweeper.start();
    }
    this.entries = next;
  }

  discard(next: Map<string, Entry>): void {
    for (const [name, e] of next) if (this.entries.get(name) !== e) stopEntry(e);
  }

  buffers(staged: Map<string, Entry>): Record<string, SharedArrayBuffer> {
    const out: Record<string, SharedArrayBuffer> = {};
    for (const [name, e] of staged) out[name] = e.table.buffer;
    return out;
  }

  table(name: string): EndpointStateTable | undefined {
    return this.entries.get(name)?.table;
  }

  stop(): void {
    for (const e of this.entries.values()) stopEntry(e);
  }
}

function stopEntry(e: Entry): void {
  e.checker?.stop();
  e.sweeper.stop();
}
