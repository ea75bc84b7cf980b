// Outlier detection and accounting in the shared endpoint table. This file
// is also the body of the worker threads in the concurrency tests: loaded
// outside the main thread it runs `hammer` instead of registering tests.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { OutlierDetectionConfig } from '../../runtime/config/types';
import { EndpointStateTable, endpointStateBytes } from '../../runtime/cluster/endpoint-state';

interface HammerJob {
  buffer: SharedArrayBuffer;
  start: SharedArrayBuffer;
  iterations: number;
}

/** Worker body: record mostly-5xx on every endpoint as fast as possible; report own ejections and the highest ejected count seen. */
function hammer(job: HammerJob): void {
  const table = EndpointStateTable.attach(job.buffer);
  const gate = new Int32Array(job.start);
  Atomics.add(gate, 1, 1); // ready
  Atomics.wait(gate, 0, 0); // start together
  let ejections = 0;
  let worst = 0;
  for (let it = 0; it < job.iterations; it++) {
    for (let i = 0; i < table.size; i++) {
      table.onRequestStart(i);
      if (table.recordResponse(i, it % 97 === 0 ? 200 : 503, 0)) ejections++;
      table.onRequestEnd(i);
    }
    // The budget counter always bounds the ejected flags (reserved before a
    // flag is set, released after it is cleared); scanning the flags here
    // would not be an atomic snapshot under churn.
    const ejected = table.ejectedCount();
    if (ejected > worst) worst = ejected;
  }
  parentPort!.postMessage({ ejections, worst });
}

if (!isMainThread) {
  hammer(workerData as HammerJob);
} else {
  registerTests();
}

function registerTests(): void {
  const od = (over: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig => ({
    consecutive5xx: 3,
    intervalMs: 1000,
    baseEjectionTimeMs: 1000,
    maxEjectionPercent: 100,
    ...over,
  });

  test('N consecutive 5xx eject; a non-5xx in between resets the run', () => {
    const t = EndpointStateTable.create(4, od());
    const now = 1_000_000;
    assert.equal(t.recordResponse(0, 500, now), false);
    assert.equal(t.recordResponse(0, 503, now), false);
    assert.equal(t.recordResponse(0, 404, now), false); // 4xx is not a server error: run ends
    assert.equal(t.snapshot().endpoints[0].consecutive5xx, 0);
    assert.equal(t.recordResponse(0, 502, now), false);
    assert.equal(t.recordResponse(0, 504, now), false);
    assert.equal(t.isAvailable(0), true);
    assert.equal(t.recordResponse(0, 599, now), true);
    assert.equal(t.isAvailable(0), false);
    assert.equal(t.isEjected(0), true);
    assert.equal(t.isHealthy(0), true, 'ejection is not an active-HC verdict');
    const s = t.snapshot();
    assert.equal(s.endpoints[0].ejectionCount, 1);
    assert.equal(s.endpoints[0].ejectedUntilMs, now + 1000);
    assert.equal(s.endpoints[0].consecutive5xx, 0, 'run resets after ejection');
    assert.equal(s.ejected, 1);
    assert.equal(s.available, 3);
    // More failures on an ejected endpoint do not eject it again.
    for (let k = 0; k < 10; k++) assert.equal(t.recordResponse(0, 500, now), false);
    assert.equal(t.snapshot().endpoints[0].ejectionsTotal, 1);
  });

  test('connect failures count as 5xx (gateway errors)', () => {
    const t = EndpointStateTable.create(2, od());
    assert.equal(t.recordConnectFailure(1, 5), false);
    assert.equal(t.recordResponse(1, 503, 5), false);
    assert.equal(t.recordConnectFailure(1, 5), true);
    assert.equal(t.isEjected(1), true);
  });

  test('sweep returns the endpoint after base x count; the count decays one per clean interval', () => {
    const t = EndpointStateTable.create(2, od({ consecutive5xx: 1 }));
    let now = 10_000;
    assert.equal(t.recordResponse(0, 500, now), true);
    assert.equal(t.sweep(now + 999), 0);
    assert.equal(t.isEjected(0), true);
    assert.equal(t.sweep(now + 1000), 1);
    assert.equal(t.isAvailable(0), true);
    assert.equal(t.snapshot().endpoints[0].lastUnejectedMs, now + 1000);
    // Second ejection right away lasts 2 x base.
    now += 1000;
    assert.equal(t.recordResponse(0, 500, now), true);
    assert.equal(t.snapshot().endpoints[0].ejectionCount, 2);
    assert.equal(t.sweep(now + 1999), 0);
    assert.equal(t.sweep(now + 2000), 1);
    assert.equal(t.snapshot().endpoints[0].ejectionCount, 2, 'not decremented in the sweep that un-ejects');
    // Two clean sweeps bring the multiplier back to 0; the next ejection is 1 x base again.
    t.sweep(now + 3000);
    assert.equal(t.snapshot().endpoints[0].ejectionCount, 1);
    t.sweep(now + 4000);
    t.sweep(now + 5000);
    assert.equal(t.snapshot().endpoints[0].ejectionCount, 0);
    now += 6000;
    t.recordResponse(0, 500, now);
    assert.equal(t.snapshot().endpoints[0].ejectedUntilMs, now + 1000);
    assert.equal(t.snapshot().endpoints[0].ejectionsTotal, 3);
  });

  test('ejection time is capped at max(300 s, base) like Envoy max_ejection_time', () => {
    const t = EndpointStateTable.create(1, od({ consecutive5xx: 1, baseEjectionTimeMs: 100_000 }));
    let now = 0;
    for (let k = 0; k < 6; k++) {
      assert.equal(t.recordResponse(0, 500, now), true);
      const until = t.snapshot().endpoints[0].ejectedUntilMs;
      assert.equal(until - now, Math.min(100_000 * (k + 1), 300_000));
      now = until;
      t.sweep(now);
    }
    assert.ok(t.snapshot().endpoints[0].ejectionCount <= 4);
  });

  test('maxEjectionPercent is never exceeded (Envoy: 100 * (ejected + 1) / n <= max)', () => {
    const t = EndpointStateTable.create(10, od({ consecutive5xx: 1, maxEjectionPercent: 20 }));
    assert.equal(t.recordResponse(0, 500, 0), true);
    assert.equal(t.recordResponse(1, 500, 0), true);
    assert.equal(t.recordResponse(2, 500, 0), false, 'third ejection would be 30%');
    assert.equal(t.isAvailable(2), true);
    assert.equal(t.ejectedCount(), 2);
    // Once a slot frees up, a fresh failure run ejects it.
    assert.equal(t.sweep(1000), 2);
    assert.equal(t.recordResponse(2, 500, 1000), true);
    // 10% of 9 endpoints allows no ejection at all (no always_eject_one_host).
    const small = EndpointStateTable.create(9, od({ consecutive5xx: 1, maxEjectionPercent: 10 }));
    assert.equal(small.recordResponse(0, 500, 0), false);
    // Without outlier detection nothing is ever ejected.
    const off = EndpointStateTable.create(2, null);
    for (let k = 0; k < 100; k++) assert.equal(off.recordResponse(0, 500, 0), false);
    assert.equal(off.isAvailable(0), true);
    assert.equal(off.sweep(1e15), 0);
  });

  test('health flag and ejection combine; counters and generation stay exact', () => {
    const t = EndpointStateTable.create(3, od({ consecutive5xx: 1 }));
    const g0 = t.generation();
    assert.equal(t.setHealthy(1, false), true);
    assert.equal(t.setHealthy(1, false), false, 'no change, no transition');
    assert.equal(t.generation(), g0 + 1);
    assert.equal(t.recordResponse(1, 500, 0), true); // HC-failed and ejected
    assert.equal(t.unhealthyCount(), 1);
    assert.equal(t.ejectedCount(), 1);
    assert.equal(t.availableCount(), 2);
    assert.equal(t.setHealthy(1, true), true);
    assert.equal(t.isAvailable(1), false, 'still ejected');
    assert.equal(t.uneject(1), true);
    assert.equal(t.uneject(1), false);
    assert.equal(t.isAvailable(1), true);
    assert.equal(t.availableCount(), 3);
    assert.equal(t.ejectedCount(), 0);
    assert.equal(t.unhealthyCount(), 0);
  });

  test('two views over one SAB see each other and never double-eject', () => {
    const a = EndpointStateTable.create(2, od());
    const b = EndpointStateTable.attach(a.buffer);
    assert.equal(a.recordResponse(0, 500, 0), false);
    assert.equal(b.recordResponse(0, 500, 0), false);
    assert.equal(a.recordResponse(0, 500, 0), true); // the third of the run, through either view
    assert.equal(b.isEjected(0), true);
    for (let k = 0; k < 9; k++) assert.equal((k % 2 ? a : b).recordResponse(0, 500, 0), false);
    assert.equal(b.snapshot().endpoints[0].ejectionsTotal, 1);
    assert.throws(() => EndpointStateTable.attach(new SharedArrayBuffer(256)), TypeError);
  });

  test('request accounting: active sum over workers, 64-bit total, documented layout', () => {
    const t = EndpointStateTable.create(2, null);
    assert.equal(t.buffer.byteLength, endpointStateBytes(2));
    assert.equal(endpointStateBytes(2), 128 + 2 * 64);
    const other = EndpointStateTable.attach(t.buffer);
    t.onRequestStart(1);
    other.onRequestStart(1);
    assert.equal(t.activeRequests(1), 2);
    other.onRequestEnd(1);
    assert.equal(t.activeRequests(1), 1);
    // Row 1 starts at byte 128 + 64; total requests low word at +16, high at +20.
    const u32 = new Uint32Array(t.buffer);
    const lo = (128 + 64 + 16) / 4;
    u32[lo] = 0xffffffff;
    t.onRequestStart(1);
    assert.equal(u32[lo], 0);
    assert.equal(u32[lo + 1], 1);
    assert.equal(t.snapshot().endpoints[1].totalRequests, 2 ** 32);
    assert.throws(() => t.onRequestStart(2), RangeError);
  });

  function runWorkers(buffer: SharedArrayBuffer, workers: number, iterations: number): Promise<Array<{ ejections: number; worst: number }>> {
    const start = new SharedArrayBuffer(8);
    const gate = new Int32Array(start);
    const done = Array.from({ length: workers }, () => {
      const w = new Worker(__filename, { workerData: { buffer, start, iterations } satisfies HammerJob });
      return new Promise<{ ejections: number; worst: number }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exit ${code}`)));
      });
    });
    // Release all workers at once, so they really race.
    const release = (): void => {
      if (Atomics.load(gate, 1) < workers) return void setTimeout(release, 1);
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    };
    release();
    return Promise.all(done);
  }

  test('worker_threads hammering recordResponse: every endpoint ejected exactly once', async () => {
    const t = EndpointStateTable.create(10, od({ consecutive5xx: 5 }));
    const results = await runWorkers(t.buffer, 4, 20_000);
    const s = t.snapshot();
    const reported = results.reduce((a, r) => a + r.ejections, 0);
    assert.equal(reported, 10, 'exactly one worker won each ejection');
    for (const e of s.endpoints) {
      assert.equal(e.ejected, true);
      assert.equal(e.ejectionsTotal, 1);
      assert.equal(e.ejectionCount, 1);
      assert.equal(e.activeRequests, 0);
      assert.equal(e.totalRequests, 4 * 20_000);
    }
    assert.equal(s.ejected, 10);
    assert.equal(s.available, 0);
  });

  test('worker_threads racing ejections against a concurrent sweep never exceed maxEjectionPercent', async (tc) => {
    const t = EndpointStateTable.create(10, od({ consecutive5xx: 2, maxEjectionPercent: 30 }));
    // Main thread sweeps with a clock far in the future, so every ejection
    // ends at the next sweep and workers keep re-ejecting: maximum churn.
    let sweeping = true;
    let sweeps = 0;
    const sweep = (): void => {
      if (!sweeping) return;
      t.sweep(1e15);
      sweeps++;
      setImmediate(sweep);
    };
    sweep();
    const results = await runWorkers(t.buffer, 4, 20_000);
    sweeping = false;
    for (const r of results) assert.ok(r.worst <= 3, `a worker saw ${r.worst} endpoints ejected`);
    const s = t.snapshot();
    const reported = results.reduce((a, r) => a + r.ejections, 0);
    assert.equal(s.endpoints.reduce((a, e) => a + e.ejectionsTotal, 0), reported, 'every ejection counted once');
    tc.diagnostic(`ejections ${reported}, sweeps ${sweeps}, peak ${Math.max(...results.map((r) => r.worst))}`);
    assert.ok(reported >= 3, `ejections ${reported}, sweeps ${sweeps}`);
    const ejectedNow = s.endpoints.filter((e) => e.ejected).length;
    assert.ok(ejectedNow <= 3);
    assert.equal(s.ejected, ejectedNow, 'budget counter matches the flags');
    assert.equal(s.available, 10 - ejectedNow, 'unavailable counter matches the flags');
  });
}
