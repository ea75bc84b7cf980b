// proxy-wasm filter metrics (proxy_define_metric, proxy_increment_metric,
// proxy_record_metric, proxy_get_metric) in one SharedArrayBuffer. Every
// worker attaches the same buffer, so a metric is one process-wide value:
// workers update it with Atomics, the main thread reads it for
// /stats/prometheus, and nothing is summed or messaged.
//
// Semantics, after Envoy (source/extensions/common/wasm/context.cc):
//   - define(type, name): the same (type, name) gets the same id on every
//     thread (a shared name table, see name-table.ts). Unlike Envoy, a name
//     is one metric: defining it again with another type is BAD_ARGUMENT.
//     Bad type or name (empty, over maxNameBytes) is BAD_ARGUMENT; a full
//     table is INTERNAL_FAILURE.
//   - increment(id, offset): counters need offset > 0 (else BAD_ARGUMENT, as
//     in Envoy); gauges add any signed offset; histograms: BAD_ARGUMENT.
//   - record(id, value): counters add value, gauges are set to it,
//     histograms record it (value is a u64 in the ABI: a negative BigInt is
//     read as >= 2^63, i.e. the +Inf bucket).
//   - get(id): counters (unsigned) and gauges (signed); histograms: BAD_ARGUMENT.
//   - An id that was never defined: NOT_FOUND.
// Ids carry the type in their low 2 bits, as Envoy's do: id = (index+1)<<2 | type,
// so they are never 0 and a stale id of another type is rejected.
//
// Values are i64 words in a BigInt64Array, updated with Atomics.add/store.
// The ABI passes i64 as BigInt; Atomics on a BigInt64Array return a BigInt,
// which V8 may allocate - the one allocation per update we cannot avoid.
// Histograms use the buckets of runtime/stats/layout.ts (Envoy's defaults),
// one count word per bucket plus +Inf, and a sum word; the count is the sum
// of the buckets, so a snapshot is always self-consistent (+Inf == _count).
//
// Layout (little-endian; offsets in bytes):
//   header, 64 bytes: i32[0] MAGIC 'WMMT'  [1] VERSION  [2] CAPACITY
//     [3] MAX_NAME_BYTES  [4] NAMES_OFFSET  [5] VALUES_OFFSET
//   name table (capacity CAPACITY, AUX = type); entry i is metric index i
//   values: CAPACITY x STRIDE i64 words (STRIDE = buckets + 2 rounded up to 8,
//     i.e. 192 bytes, so no two metrics share a cache line). Word 0 is the
//     counter/gauge value; histograms use words [0, buckets] for bucket
//     counts (last = +Inf) and word buckets+1 for the sum.
// Defaults (1024 metrics, 256-byte names) take about 470 KiB.

import { HISTOGRAM_BUCKETS_MS } from '../../stats/layout';
import { roundUp, toBytes } from './bytes';
import { renderMetricsPrometheus } from './metrics-prometheus';
import { NameTable, initNameTable, nameTableBytes } from './name-table';
import { WasmResult } from './status';

export { prometheusName, renderMetricsPrometheus } from './metrics-prometheus';

export const enum MetricType {
  COUNTER = 0,
  GAUGE = 1,
  HISTOGRAM = 2,
}

export interface SharedMetricsOptions {
  /** Maximum number of metrics. Default 1024. */
  capacity?: number;
  /** Longest metric name, bytes. Default 256. */
  maxNameBytes?: number;
}

export interface SharedMetricsBuffers {
  readonly metrics: SharedArrayBuffer;
}

/** Reusable define() output. */
export interface MetricIdResult {
  id: number;
}

/** Reusable get() output. */
export interface MetricValueResult {
  value: bigint;
}

export interface HistogramBucket {
  /** Upper bound; Infinity for the +Inf bucket. */
  le: number;
  /** Cumulative count of values <= le. */
  count: bigint;
}

export type MetricSnapshot =
  | { id: number; name: string; type: MetricType.COUNTER | MetricType.GAUGE; value: bigint }
  | { id: number; name: string; type: MetricType.HISTOGRAM; buckets: HistogramBucket[]; count: bigint; sum: bigint };

const MAGIC = 0x574d4d54;
const VERSION = 1;
const HEADER_BYTES = 64;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;
const H_MAX_NAME = 3;
const H_NAMES_OFFSET = 4;
const H_VALUES_OFFSET = 5;

const BOUNDS = HISTOGRAM_BUCKETS_MS;
const NB = BOUNDS.length;
/** i64 words per metric. */
const STRIDE = roundUp(NB + 2, 8);
const SUM = NB + 1;

function sizing(o: SharedMetricsOptions) {
  const capacity = o.capacity ?? 1024;
  const maxName = o.maxNameBytes ?? 256;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) throw new RangeError(`shared metrics: bad capacity ${capacity}`);
  if (!Number.isInteger(maxName) || maxName < 1 || maxName > 1 << 16) throw new RangeError(`shared metrics: bad maxNameBytes ${maxName}`);
  const namesOffset = HEADER_BYTES;
  const valuesOffset = namesOffset + nameTableBytes(capacity, maxName);
  const total = valuesOffset + capacity * STRIDE * 8;
  if (total > 1 << 30) throw new RangeError('shared metrics: larger than 1 GiB');
  return { capacity, maxName, namesOffset, valuesOffset, total };
}

const decoder = new TextDecoder();

export class SharedMetrics {
  readonly buffers: SharedMetricsBuffers;
  readonly capacity: number;
  readonly maxNameBytes: number;
  private readonly names: NameTable;
  private readonly i64: BigInt64Array;
  private readonly u64: BigUint64Array;

  static bytes(options: SharedMetricsOptions = {}): number {
    return sizing(options).total;
  }

  /** New, with no metrics defined (main thread). */
  static create(options: SharedMetricsOptions = {}): SharedMetrics {
    const s = sizing(options);
    const buffer = new SharedArrayBuffer(s.total);
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    h[H_MAGIC] = MAGIC;
    h[H_VERSION] = VERSION;
    h[H_CAPACITY] = s.capacity;
    h[H_MAX_NAME] = s.maxName;
    h[H_NAMES_OFFSET] = s.namesOffset;
    h[H_VALUES_OFFSET] = s.valuesOffset;
    initNameTable(buffer, s.namesOffset, s.capacity, s.maxName);
    return new SharedMetrics({ metrics: buffer });
  }

  static attach(buffers: SharedMetricsBuffers): SharedMetrics {
    return new SharedMetrics(buffers);
  }

  private constructor(buffers: SharedMetricsBuffers) {
    const buffer = buffers.metrics;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) throw new TypeError('shared metrics: not a SharedArrayBuffer of the right size');
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (h[H_MAGIC] !== MAGIC || h[H_VERSION] !== VERSION) throw new TypeError('shared metrics: bad magic/version');
    this.capacity = h[H_CAPACITY];
    this.maxNameBytes = h[H_MAX_NAME];
    const s = sizing({ capacity: this.capacity, maxNameBytes: this.maxNameBytes });
    // The bucket count is baked into STRIDE; a build with other buckets must not attach.
    if (buffer.byteLength !== s.total || h[H_VALUES_OFFSET] !== s.valuesOffset) throw new RangeError('shared metrics: buffer does not match its header');
    this.names = new NameTable(buffer, h[H_NAMES_OFFSET], 'shared metric names');
    this.i64 = new BigInt64Array(buffer, s.valuesOffset, this.capacity * STRIDE);
    this.u64 = new BigUint64Array(buffer, s.valuesOffset, this.capacity * STRIDE);
    this.buffers = { metrics: buffer };
  }

  /** Metrics defined so far. */
  size(): number {
    return this.names.count();
  }

  /** proxy_define_metric. OK with out.id, BAD_ARGUMENT or INTERNAL_FAILURE (see header). */
  define(type: MetricType, name: string | Uint8Array, out: MetricIdResult): WasmResult {
    if (type !== MetricType.COUNTER && type !== MetricType.GAUGE && type !== MetricType.HISTOGRAM) return WasmResult.BadArgument;
    const bytes = toBytes(name);
    if (bytes.length === 0 || bytes.length > this.maxNameBytes) return WasmResult.BadArgument;
    const index = this.names.add(bytes, 0, bytes.length, type);
    if (index < 0) return WasmResult.InternalFailure;
    if (this.names.aux(index) !== type) return WasmResult.BadArgument;
    out.id = ((index + 1) << 2) | type;
    return WasmResult.Ok;
  }

  /** proxy_increment_metric. OK, NOT_FOUND or BAD_ARGUMENT. */
  increment(id: number, offset: bigint): WasmResult {
    const w = this.word(id);
    if (w < 0) return WasmResult.NotFound;
    if (typeof offset !== 'bigint') return WasmResult.BadArgument;
    switch (id & 3) {
      case MetricType.COUNTER:
        if (offset <= 0n) return WasmResult.BadArgument;
        Atomics.add(this.i64, w, offset);
        return WasmResult.Ok;
      case MetricType.GAUGE:
        Atomics.add(this.i64, w, offset);
        return WasmResult.Ok;
      default:
        return WasmResult.BadArgument;
    }
  }

  /** proxy_record_metric. OK, NOT_FOUND or BAD_ARGUMENT (not a BigInt). */
  record(id: number, value: bigint): WasmResult {
    const w = this.word(id);
    if (w < 0) return WasmResult.NotFound;
    if (typeof value !== 'bigint') return WasmResult.BadArgument;
    switch (id & 3) {
      case MetricType.COUNTER:
        Atomics.add(this.i64, w, value);
        return WasmResult.Ok;
      case MetricType.GAUGE:
        Atomics.store(this.i64, w, value);
        return WasmResult.Ok;
      default: {
        // Envoy's rule (and Prometheus'): a value goes in the first bucket with value <= bound.
        const x = value < 0n ? Infinity : Number(value);
        let i = 0;
        while (i < NB && x > BOUNDS[i]!) i++;
        Atomics.add(this.i64, w + i, 1n);
        Atomics.add(this.i64, w + SUM, value);
        return WasmResult.Ok;
      }
    }
  }

  /** proxy_get_metric. OK with out.value, NOT_FOUND, or BAD_ARGUMENT for a histogram. */
  get(id: number, out: MetricValueResult): WasmResult {
    const w = this.word(id);
    if (w < 0) return WasmResult.NotFound;
    switch (id & 3) {
      case MetricType.COUNTER:
        out.value = Atomics.load(this.u64, w);
        return WasmResult.Ok;
      case MetricType.GAUGE:
        out.value = Atomics.load(this.i64, w);
        return WasmResult.Ok;
      default:
        return WasmResult.BadArgument;
    }
  }

  /** Every defined metric with its current value, in definition order. Allocates; for the admin path. */
  snapshot(): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    const n = this.names.count();
    for (let index = 0; index < n; index++) {
      const type = this.names.aux(index) as MetricType;
      const id = ((index + 1) << 2) | type;
      const name = decoder.decode(this.names.key(index));
      const w = index * STRIDE;
      if (type === MetricType.HISTOGRAM) {
        const buckets: HistogramBucket[] = [];
        let cumulative = 0n;
        for (let i = 0; i <= NB; i++) {
          cumulative += Atomics.load(this.u64, w + i);
          buckets.push({ le: i < NB ? BOUNDS[i]! : Infinity, count: cumulative });
        }
        out.push({ id, name, type, buckets, count: cumulative, sum: Atomics.load(this.u64, w + SUM) });
      } else {
        out.push({ id, name, type, value: type === MetricType.COUNTER ? Atomics.load(this.u64, w) : Atomics.load(this.i64, w) });
      }
    }
    return out;
  }

  /** Prometheus text of every metric (see metrics-prometheus.ts). Allocates; for the admin path. */
  renderPrometheus(prefix = ''): string {
    return renderMetricsPrometheus(this.snapshot(), prefix);
  }

  /** Word index of metric `id`'s values, or -1 if no such metric. */
  private word(id: number): number {
    if (!Number.isInteger(id) || id < 4 || id > 0x7fffffff) return -1;
    const index = (id >>> 2) - 1;
    if (index >= this.names.count() || this.names.aux(index) !== (id & 3)) return -1;
    return index * STRIDE;
  }
}
