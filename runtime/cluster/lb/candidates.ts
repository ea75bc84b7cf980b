// The set of endpoints a policy may choose from, cached per worker and
// rebuilt only when the shared table's generation moves (a health change),
// so a pick reads one atomic word instead of scanning endpoints.
//
// Panic mode, and why it only overrides outlier ejection:
// - Envoy's healthy_panic_threshold (default 50%): when fewer than that share
//   of a cluster's endpoints are in service, Envoy stops trusting its health
//   data and spreads load over all of them, because concentrating the whole
//   load on the few survivors tends to knock them over too. We do the same
//   for *outlier ejection*: below the threshold, ejected endpoints become
//   candidates again - including when every endpoint is ejected, so ejection
//   alone never turns a cluster into 503s.
// - Endpoints failing *active health checks* are never candidates, even in
//   panic (Envoy would route to them too). An active check failing means the
//   endpoint positively answered "do not send me traffic" or could not be
//   reached at all; our users expect a deterministic 503 UH when every
//   endpoint fails its health check, rather than requests to dead hosts.
// So: no endpoints, or all failing active HC -> NO_ENDPOINT (503 UH).
import { EndpointStateTable, STATE_HC_FAILED } from '../endpoint-state';

export const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;

export class CandidateSet {
  readonly table: EndpointStateTable;
  /** Candidate endpoint indices, ascending, in list[0..count). */
  readonly list: Int32Array;
  /** member[i] === 1 iff endpoint i is a candidate. */
  readonly member: Uint8Array;
  count = 0;
  /** True while the set was built in panic mode. */
  panic = false;
  private readonly panicPercent: number;
  private readonly states: Int32Array;
  private generation = -1;

  constructor(table: EndpointStateTable, panicThresholdPercent = DEFAULT_PANIC_THRESHOLD_PERCENT) {
    if (!(panicThresholdPercent >= 0 && panicThresholdPercent <= 100)) throw new RangeError(`panic threshold must be 0..100, got ${panicThresholdPercent}`);
    this.table = table;
    this.panicPercent = panicThresholdPercent;
    this.list = new Int32Array(table.size);
    this.member = new Uint8Array(table.size);
    this.states = new Int32Array(table.size);
    this.refresh();
  }

  /** Bring the set up to date; true when it changed (hash policies then rebuild). */
  refresh(): boolean {
    const g = this.table.generation();
    if (g === this.generation) return false;
    this.rebuild(g);
    return true;
  }

  private rebuild(g: number): void {
    // Read the generation before the states: a change racing with this scan
    // bumps the generation past g, so the next pick rebuilds again.
    this.generation = g;
    const n = this.table.size;
    const states = this.states;
    let available = 0;
    for (let i = 0; i < n; i++) {
      const s = this.table.state(i);
      states[i] = s;
      if (s === 0) available++;
    }
    this.panic = available * 100 < this.panicPercent * n;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const s = states[i];
      const ok = this.panic ? (s & STATE_HC_FAILED) === 0 : s === 0;
      this.member[i] = ok ? 1 : 0;
      if (ok) this.list[count++] = i;
    }
    this.count = count;
  }
}
