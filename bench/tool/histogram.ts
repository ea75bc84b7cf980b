// HdrHistogram helpers: every latency is recorded in integer microseconds in
// a JS (non-WASM) histogram with 3 significant digits; workers send theirs
// as compressed base64, the main thread decodes and adds them.
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000, // 60 s in µs (grows if needed)
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decode(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

/** Decode worker histograms and add them into one. */
export function merge(encoded: string[]): Histogram {
  const out = newHistogram();
  for (const s of encoded) out.add(decode(s));
  return out;
}

export interface Summary {
  count: number;
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

/** Summary in milliseconds (values are recorded in µs; 1 µs resolution). */
export function summarize(h: Histogram): Summary {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    p9999: ms(h.getValueAtPercentile(99.99)),
    max: ms(h.maxValue),
  };
}

export interface SpectrumPoint {
  /** Percentile, 0–100. */
  percentile: number;
  /** Latency at that percentile, ms. */
  ms: number;
}

/**
 * The percentile spectrum as HdrHistogram prints it: `ticks` points per
 * halving of the distance to 100 %, down to the last recorded value, then
 * the max at 100 %.
 */
export function spectrum(h: Histogram, ticks = 5): SpectrumPoint[] {
  const out: SpectrumPoint[] = [];
  const n = h.totalCount;
  if (n === 0) return out;
  for (let k = 0; ; k++) {
    const p = 100 * (1 - Math.pow(2, -k / ticks));
    // stop once the remaining tail holds less than one value
    if ((1 - p / 100) * n < 1) break;
    out.push({ percentile: round(p, 6), ms: ms(h.getValueAtPercentile(p)) });
    if (k > 40 * ticks) break;
  }
  out.push({ percentile: 100, ms: ms(h.maxValue) });
  return out;
}

function round(x: number, digits: number): number {
  const f = Math.pow(10, digits);
  return Math.round(x * f) / f;
}

/** Number of recorded values at or above `us` (for tests and reports). */
export function countAtOrAbove(h: Histogram, us: number): number {
  // Walk the percentile spectrum backwards is imprecise; use the recorded values instead.
  let c = 0;
  const it = (h as unknown as { recordedValuesIterator?: unknown }).recordedValuesIterator;
  if (it === undefined) {
    // Fallback through percentiles (1-value resolution).
    const n = h.totalCount;
    for (let i = 1; i <= n; i++) if (h.getValueAtPercentile((100 * i) / n) >= us) c++;
    return c;
  }
  const iter = it as { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
  iter.reset();
  while (iter.hasNext()) {
    const v = iter.next();
    if (v.valueIteratedTo >= us) c += v.countAtValueIteratedTo;
  }
  return c;
}

/**
 * Cheap recording for the hot path: values below 65.536 ms are counted
 * exactly in a flat array (one increment per value), larger ones go straight
 * into the HdrHistogram. flush() moves the counts into the histogram.
 */
export class Recorder {
  private readonly counts = new Uint32Array(65536);
  private min = 65536;
  private max = -1;
  constructor(readonly histogram: Histogram = newHistogram()) {}

  record(us: number): void {
    if (us < 65536) {
      this.counts[us]++;
      if (us < this.min) this.min = us;
      if (us > this.max) this.max = us;
    } else {
      this.histogram.recordValue(us);
    }
  }

  flush(): Histogram {
    const c = this.counts;
    for (let v = this.min; v <= this.max; v++) {
      if (c[v] !== 0) {
        this.histogram.recordValueWithCount(v, c[v]);
        c[v] = 0;
      }
    }
    this.min = 65536;
    this.max = -1;
    return this.histogram;
  }
}
