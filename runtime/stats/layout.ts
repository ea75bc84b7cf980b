// Stat slots live in one SharedArrayBuffer region per worker; the main thread
// sums the regions when scraped. The main thread owns the name -> slot map
// and ships it with every config, so workers never allocate or message on the
// hot path, and counters survive reloads (a slot is never reused).

export type StatKind = 'counter' | 'gauge' | 'histogram';

export interface StatDef {
  /** Prometheus family name, e.g. wasmesh_cluster_upstream_rq_total. */
  name: string;
  /** Rendered label set without braces, e.g. cluster="web". */
  labels: string;
  kind: StatKind;
  help: string;
  slot: number;
}

/** Envoy's default histogram buckets, in milliseconds. */
export const HISTOGRAM_BUCKETS_MS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Slots a histogram occupies: one per bucket, +Inf, sum, count. */
export const HISTOGRAM_SLOTS = HISTOGRAM_BUCKETS_MS.length + 3;

export const SLOTS_PER_WORKER = 1 << 15;

export class StatsLayout {
  private readonly byKey = new Map<string, StatDef>();
  private next = 0;

  /** The slot of `name{labels}`, allocating it on first use. */
  slot(name: string, labels: string, kind: StatKind, help: string): number {
    const key = labels ? `${name}{${labels}}` : name;
    const have = this.byKey.get(key);
    if (have) return have.slot;
    const width = kind === 'histogram' ? HISTOGRAM_SLOTS : 1;
    if (this.next + width > SLOTS_PER_WORKER) throw new RangeError(`stats: more than ${SLOTS_PER_WORKER} slots needed`);
    const def: StatDef = { name, labels, kind, help, slot: this.next };
    this.next += width;
    this.byKey.set(key, def);
    return def.slot;
  }

  defs(): IterableIterator<StatDef> {
    return this.byKey.values();
  }

  /** key -> slot, for shipping to workers. */
  toSlots(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, d] of this.byKey) out[k] = d.slot;
    return out;
  }
}

/** Per-worker view: one Float64Array over that worker's region. */
export function workerView(sab: SharedArrayBuffer, workerIndex: number): Float64Array {
  return new Float64Array(sab, workerIndex * SLOTS_PER_WORKER * 8, SLOTS_PER_WORKER);
}

/** A slot's total over every worker region (what /stats shows). */
export function sumSlot(sab: SharedArrayBuffer, workers: number, slot: number): number {
  let n = 0;
  for (let w = 0; w < workers; w++) n += workerView(sab, w)[slot]!;
  return n;
}

export function allocateStatsBuffer(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workers * SLOTS_PER_WORKER * 8);
}

/** Records one observation into a histogram at `base`. */
export function observe(v: Float64Array, base: number, valueMs: number): void {
  const b = HISTOGRAM_BUCKETS_MS;
  let i = 0;
  while (i < b.length && valueMs > b[i]!) i++;
  v[base + i]!++;
  v[base + b.length + 1]! += valueMs;
  v[base + b.length + 2]!++;
}
