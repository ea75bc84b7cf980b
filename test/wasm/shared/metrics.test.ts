import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HISTOGRAM_BUCKETS_MS } from '../../../runtime/stats/layout';
import { MetricType, SharedMetrics, prometheusName, type MetricSnapshot } from '../../../runtime/wasm/shared/metrics';
import { WasmResult } from '../../../runtime/wasm/shared/status';
import { startWorkers } from './helpers';

function define(m: SharedMetrics, type: MetricType, name: string): number {
  const out = { id: 0 };
  assert.equal(m.define(type, name, out), WasmResult.Ok, `define ${name}`);
  return out.id;
}

test('define: stable ids, type in the low bits, conflicts and bad input', () => {
  const m = SharedMetrics.create({ capacity: 8, maxNameBytes: 16 });
  const c = define(m, MetricType.COUNTER, 'hits');
  assert.notEqual(c, 0);
  assert.equal(c & 3, MetricType.COUNTER);
  assert.equal(define(m, MetricType.COUNTER, 'hits'), c, 'same name and type: same id');
  const g = define(m, MetricType.GAUGE, 'active');
  assert.equal(g & 3, MetricType.GAUGE);
  assert.notEqual(g, c);
  const out = { id: -1 };
  assert.equal(m.define(MetricType.GAUGE, 'hits', out), WasmResult.BadArgument, 'same name, other type');
  assert.equal(out.id, -1, 'out untouched on error');
  assert.equal(m.define(3 as MetricType, 'x', out), WasmResult.BadArgument);
  assert.equal(m.define(MetricType.COUNTER, '', out), WasmResult.BadArgument);
  assert.equal(m.define(MetricType.COUNTER, 'x'.repeat(17), out), WasmResult.BadArgument);
  assert.equal(m.define(MetricType.COUNTER, new TextEncoder().encode('hits'), out), WasmResult.Ok, 'bytes work like strings');
  assert.equal(out.id, c);
  // Another thread's view resolves the same names to the same ids.
  const other = SharedMetrics.attach(structuredClone(m.buffers));
  assert.equal(define(other, MetricType.GAUGE, 'active'), g);
});

test('capacity: past it define returns INTERNAL_FAILURE, existing names still resolve', () => {
  const m = SharedMetrics.create({ capacity: 3 });
  const ids = ['a', 'b', 'c'].map((n) => define(m, MetricType.COUNTER, n));
  const out = { id: 0 };
  assert.equal(m.define(MetricType.COUNTER, 'd', out), WasmResult.InternalFailure);
  assert.equal(define(m, MetricType.COUNTER, 'b'), ids[1]);
  assert.equal(m.size(), 3);
});

test('increment / record / get follow Envoy semantics per type', () => {
  const m = SharedMetrics.create();
  const c = define(m, MetricType.COUNTER, 'c');
  const g = define(m, MetricType.GAUGE, 'g');
  const h = define(m, MetricType.HISTOGRAM, 'h');
  const v = { value: 0n };

  assert.equal(m.increment(c, 5n), WasmResult.Ok);
  assert.equal(m.increment(c, 0n), WasmResult.BadArgument);
  assert.equal(m.increment(c, -1n), WasmResult.BadArgument);
  assert.equal(m.record(c, 10n), WasmResult.Ok, 'record on a counter adds');
  assert.equal(m.get(c, v), WasmResult.Ok);
  assert.equal(v.value, 15n);

  assert.equal(m.increment(g, 7n), WasmResult.Ok);
  assert.equal(m.increment(g, -10n), WasmResult.Ok);
  assert.equal(m.get(g, v), WasmResult.Ok);
  assert.equal(v.value, -3n, 'gauges read back signed');
  assert.equal(m.record(g, 42n), WasmResult.Ok, 'record on a gauge sets');
  assert.equal(m.get(g, v), WasmResult.Ok);
  assert.equal(v.value, 42n);

  assert.equal(m.increment(h, 1n), WasmResult.BadArgument);
  assert.equal(m.get(h, v), WasmResult.BadArgument);
  assert.equal(m.record(h, 3n), WasmResult.Ok);

  // Unknown ids, and a real index with the wrong type bits.
  for (const bad of [0, 1, 4 * 99, c + 1, -4, 1.5]) {
    assert.equal(m.increment(bad, 1n), WasmResult.NotFound, `id ${bad}`);
    assert.equal(m.record(bad, 1n), WasmResult.NotFound);
    assert.equal(m.get(bad, v), WasmResult.NotFound);
  }
  // i64 wrap-around is two's complement, like the u64 the ABI carries.
  const big = define(m, MetricType.COUNTER, 'big');
  assert.equal(m.record(big, 2n ** 64n - 1n), WasmResult.Ok);
  assert.equal(m.get(big, v), WasmResult.Ok);
  assert.equal(v.value, 2n ** 64n - 1n, 'counters read back unsigned');
});

test('histogram buckets use runtime/stats/layout buckets with le semantics', () => {
  const m = SharedMetrics.create();
  const h = define(m, MetricType.HISTOGRAM, 'lat');
  for (const x of [0n, 1n, 2n, 5n, 6n, 3_600_000n, 3_600_001n, -1n]) assert.equal(m.record(h, x), WasmResult.Ok);
  const snap = m.snapshot()[0] as Extract<MetricSnapshot, { type: MetricType.HISTOGRAM }>;
  assert.equal(snap.type, MetricType.HISTOGRAM);
  assert.deepEqual(snap.buckets.map((b) => b.le), [...HISTOGRAM_BUCKETS_MS, Infinity]);
  const at = (le: number): bigint => snap.buckets.find((b) => b.le === le)!.count;
  assert.equal(at(0.5), 1n); // 0
  assert.equal(at(1), 2n); // + 1
  assert.equal(at(5), 4n); // + 2, 5
  assert.equal(at(10), 5n); // + 6
  assert.equal(at(3_600_000), 6n);
  assert.equal(at(Infinity), 8n); // + 3,600,001 and u64 2^64-1
  assert.equal(snap.count, 8n);
  // Sum wraps mod 2^64 like a u64: -1 adds 2^64-1.
  assert.equal(snap.sum, (0n + 1n + 2n + 5n + 6n + 3_600_000n + 3_600_001n + 2n ** 64n - 1n) % 2n ** 64n);
});

test('renderPrometheus: TYPE lines, sanitised names, cumulative buckets, _sum/_count', () => {
  const m = SharedMetrics.create();
  const c = define(m, MetricType.COUNTER, 'wasmcustom.requests-total');
  const g = define(m, MetricType.GAUGE, '9lives');
  const h = define(m, MetricType.HISTOGRAM, 'rt ms');
  define(m, MetricType.COUNTER, 'wasmcustom_requests_total'); // sanitises to the same family as the first
  m.increment(c, 3n);
  m.record(g, -2n);
  m.record(h, 7n);
  m.record(h, 700n);
  const text = m.renderPrometheus('wasm_');
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.includes('# TYPE wasm_wasmcustom_requests_total counter'));
  assert.ok(lines.includes('wasm_wasmcustom_requests_total 3'));
  assert.ok(lines.includes('# TYPE wasm_9lives gauge'), 'prefix makes a leading digit legal');
  assert.ok(lines.includes('wasm_9lives -2'));
  assert.ok(lines.includes('# TYPE wasm_rt_ms histogram'));
  assert.ok(lines.includes('wasm_rt_ms_bucket{le="5"} 0'));
  assert.ok(lines.includes('wasm_rt_ms_bucket{le="10"} 1'));
  assert.ok(lines.includes('wasm_rt_ms_bucket{le="0.5"} 0'));
  assert.ok(lines.includes('wasm_rt_ms_bucket{le="1000"} 2'));
  assert.ok(lines.includes('wasm_rt_ms_bucket{le="+Inf"} 2'));
  assert.ok(lines.includes('wasm_rt_ms_sum 707'));
  assert.ok(lines.includes('wasm_rt_ms_count 2'));
  // The colliding family got its id appended instead of a duplicate series.
  const dupId = (4 << 2) | MetricType.COUNTER;
  assert.ok(lines.includes(`# TYPE wasm_wasmcustom_requests_total_${dupId} counter`));
  // Every sample line is name{labels} value with a legal name, and every family has one TYPE line.
  const types = new Set<string>();
  for (const l of lines) {
    if (l.startsWith('# TYPE ')) {
      const fam = l.split(' ')[2]!;
      assert.ok(!types.has(fam), `duplicate TYPE ${fam}`);
      types.add(fam);
    } else if (!l.startsWith('# HELP ')) {
      assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{le="[^"]+"\})? -?\d+$/);
    }
  }
  assert.equal(types.size, 4);
  assert.equal(prometheusName('0a.b-c:d'), '_0a_b_c:d');
});

test('worker threads: define from 4 threads returns identical ids; updates are exact', { timeout: 120_000 }, async () => {
  const m = SharedMetrics.create();
  const names: Array<[MetricType, string]> = [
    [MetricType.COUNTER, 'requests.total'],
    [MetricType.GAUGE, 'inflight'],
    [MetricType.HISTOGRAM, 'latency_ms'],
    ...Array.from({ length: 60 }, (_, i): [MetricType, string] => [(i % 3) as MetricType, `extra_${i}`]),
  ];
  const workers = 4;
  const iterations = 20_000;
  // Each worker defines the names in a different order, so they race on the table.
  const started = startWorkers<{ ids: Record<string, number> }>(
    Array.from({ length: workers }, (_, w) => ({
      kind: 'metrics' as const,
      metrics: m.buffers,
      names: w % 2 === 0 ? names : [...names].reverse(),
      iterations,
    })),
  );
  await started.release();
  const results = await started.results;
  for (const r of results) assert.deepEqual(r.ids, results[0]!.ids);
  assert.equal(m.size(), names.length, 'each name defined exactly once');
  const ids = results[0]!.ids;
  const v = { value: 0n };
  assert.equal(m.get(ids['requests.total']!, v), WasmResult.Ok);
  assert.equal(v.value, BigInt(workers * iterations));
  assert.equal(m.get(ids['inflight']!, v), WasmResult.Ok);
  assert.equal(v.value, 0n);
  const h = m.snapshot().find((s) => s.name === 'latency_ms')!;
  assert.equal(h.type, MetricType.HISTOGRAM);
  if (h.type !== MetricType.HISTOGRAM) return;
  assert.equal(h.count, BigInt(workers * iterations));
  // Values 0..99 each recorded iterations/100 times per worker.
  const per = BigInt((workers * iterations) / 100);
  assert.equal(h.sum, per * BigInt((99 * 100) / 2));
  assert.equal(h.buckets.find((b) => b.le === 0.5)!.count, per); // only 0
  assert.equal(h.buckets.find((b) => b.le === 50)!.count, per * 51n); // 0..50
  assert.equal(h.buckets.find((b) => b.le === 100)!.count, per * 100n);
  // Defining in the main thread afterwards still agrees.
  assert.equal(define(m, MetricType.GAUGE, 'inflight'), ids['inflight']);
});
