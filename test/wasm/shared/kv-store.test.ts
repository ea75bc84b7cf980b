import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SharedKv } from '../../../runtime/wasm/shared/kv-store';
import { WasmResult } from '../../../runtime/wasm/shared/status';
import { startWorkers } from './helpers';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n));

test('get/set: NOT_FOUND, insert, overwrite, cas bumps and is never 0', () => {
  const kv = SharedKv.create({ slots: 16, maxKeyBytes: 32, maxValueBytes: 32 });
  const out = kv.createResult();
  assert.equal(kv.get(enc('a'), out), WasmResult.NotFound);
  assert.equal(kv.set(enc('a'), enc('one'), 0), WasmResult.Ok);
  assert.equal(kv.get(enc('a'), out), WasmResult.Ok);
  assert.equal(dec(out.value, out.length), 'one');
  assert.equal(out.cas, 1);
  // Wrong cas: nothing written.
  assert.equal(kv.set(enc('a'), enc('two'), 7), WasmResult.CasMismatch);
  assert.equal(kv.get(enc('a'), out), WasmResult.Ok);
  assert.equal(dec(out.value, out.length), 'one');
  assert.equal(out.cas, 1);
  // Right cas, then unconditional: each write bumps the cas.
  assert.equal(kv.set(enc('a'), enc('two'), 1), WasmResult.Ok);
  assert.equal(kv.set(enc('a'), enc(''), 0), WasmResult.Ok);
  assert.equal(kv.get(enc('a'), out), WasmResult.Ok);
  assert.equal(out.length, 0);
  assert.equal(out.cas, 3);
  // A stale cas fails after someone else wrote.
  assert.equal(kv.set(enc('a'), enc('x'), 2), WasmResult.CasMismatch);
  // cpp-host semantics: a missing key is inserted whatever the cas.
  assert.equal(kv.set(enc('b'), enc('bee'), 42), WasmResult.Ok);
  assert.equal(kv.get(enc('b'), out), WasmResult.Ok);
  assert.equal(out.cas, 1);
  assert.equal(kv.size(), 2);
});

test('cas wraps from 2^32-1 to 1, and i32 cas values from Wasm are read as u32', () => {
  const kv = SharedKv.create({ slots: 1, maxKeyBytes: 8, maxValueBytes: 8 });
  const out = kv.createResult();
  assert.equal(kv.set(enc('k'), enc('v'), 0), WasmResult.Ok);
  // Documented layout: slot 0 at byte 128, CAS at +20.
  const i32 = new Int32Array(kv.buffers.kv);
  i32[(128 + 20) / 4] = -2; // 0xfffffffe
  assert.equal(kv.get(enc('k'), out), WasmResult.Ok);
  assert.equal(out.cas, 0xfffffffe);
  assert.equal(kv.set(enc('k'), enc('v'), -2), WasmResult.Ok, 'i32 -2 is cas 0xfffffffe');
  assert.equal(kv.get(enc('k'), out), WasmResult.Ok);
  assert.equal(out.cas, 0xffffffff);
  assert.equal(kv.set(enc('k'), enc('v'), 0xffffffff), WasmResult.Ok);
  assert.equal(kv.get(enc('k'), out), WasmResult.Ok);
  assert.equal(out.cas, 1, 'skips 0');
  assert.equal(kv.set(enc('k'), enc('v'), 2 ** 32), WasmResult.BadArgument);
  assert.equal(kv.set(enc('k'), enc('v'), 1.5), WasmResult.BadArgument);
});

test('limits: key and value sizes, ranges, full table', () => {
  const kv = SharedKv.create({ slots: 4, maxKeyBytes: 8, maxValueBytes: 4 });
  const out = kv.createResult();
  assert.equal(kv.set(enc('12345678'), enc('abcd'), 0), WasmResult.Ok, 'exactly at both limits');
  assert.equal(kv.set(enc('123456789'), enc('a'), 0), WasmResult.BadArgument);
  assert.equal(kv.get(enc('123456789'), out), WasmResult.BadArgument);
  assert.equal(kv.set(enc('k'), enc('abcde'), 0), WasmResult.BadArgument);
  assert.equal(kv.set(enc('k'), enc('a'), 0, 0, 5), WasmResult.BadArgument, 'key range past the end');
  assert.equal(kv.set(enc('k2'), enc('ab'), 0), WasmResult.Ok);
  assert.equal(kv.set(enc('k3'), enc('ab'), 0), WasmResult.Ok);
  assert.equal(kv.set(enc('k4'), enc('ab'), 0), WasmResult.Ok);
  assert.equal(kv.size(), 4);
  assert.equal(kv.set(enc('k5'), enc('ab'), 0), WasmResult.InternalFailure, 'table full');
  assert.equal(kv.get(enc('k5'), out), WasmResult.NotFound, 'a miss on a full table terminates');
  // Existing keys stay writable when full.
  assert.equal(kv.set(enc('k3'), enc('zz'), 0), WasmResult.Ok);
  assert.equal(kv.get(enc('k3'), out), WasmResult.Ok);
  assert.equal(dec(out.value, out.length), 'zz');
  assert.throws(() => kv.get(enc('k3'), { value: new Uint8Array(1), length: 0, cas: 0 }), RangeError);
  assert.throws(() => SharedKv.create({ slots: 0 }), RangeError);
});

test('key and value sub-ranges of a larger buffer (e.g. Wasm memory) without copies', () => {
  const kv = SharedKv.create({ slots: 8, maxKeyBytes: 16, maxValueBytes: 16 });
  const mem = enc('....vm1\0keyXYZ....value!!');
  assert.equal(kv.set(mem, mem, 0, 4, 10, 18, 7), WasmResult.Ok);
  const out = kv.createResult();
  assert.equal(kv.get(enc('vm1\0keyXYZ'), out), WasmResult.Ok);
  assert.equal(dec(out.value, out.length), 'value!!');
  assert.equal(kv.get(mem, out, 4, 10), WasmResult.Ok);
  assert.equal(kv.get(enc('vm2\0keyXYZ'), out), WasmResult.NotFound, 'the vm_id prefix scopes keys');
});

test('many colliding keys in a small table all round-trip; attach sees the same data', () => {
  const kv = SharedKv.create({ slots: 257, maxKeyBytes: 16, maxValueBytes: 16 });
  for (let i = 0; i < 257; i++) assert.equal(kv.set(enc(`key-${i}`), enc(`v${i}`), 0), WasmResult.Ok);
  assert.equal(kv.set(enc('one-too-many'), enc('x'), 0), WasmResult.InternalFailure);
  const other = SharedKv.attach(structuredClone(kv.buffers));
  assert.equal(other.slots, 257);
  const out = other.createResult();
  for (let i = 0; i < 257; i++) {
    assert.equal(other.get(enc(`key-${i}`), out), WasmResult.Ok);
    assert.equal(dec(out.value, out.length), `v${i}`);
  }
  assert.throws(() => SharedKv.attach({ kv: new SharedArrayBuffer(256) }), TypeError);
});

test('default sizing and memory footprint', () => {
  assert.equal(SharedKv.bytes(), 128 + 4096 * 576);
  const kv = SharedKv.create();
  assert.equal(kv.slots, 4096);
  assert.equal(kv.maxKeyBytes, 256);
  assert.equal(kv.maxValueBytes, 256);
});

test('4 worker threads x 20,000 CAS increments (+ the main thread) of one key are exact', { timeout: 120_000 }, async (t) => {
  const kv = SharedKv.create();
  const key = enc('vm\0rate-limit/counter');
  // Create the key first: on a missing key set() ignores cas (as cpp-host does).
  const zero = new Uint8Array(4);
  assert.equal(kv.set(key, zero, 0), WasmResult.Ok);
  const workers = 4;
  const iterations = 20_000;
  const insertKeys = 500;
  const started = startWorkers<{ mismatches: number }>(
    Array.from({ length: workers }, () => ({ kind: 'kv-cas' as const, kv: kv.buffers, key: 'vm\0rate-limit/counter', iterations, insertKeys })),
  );
  await started.release();
  // The main thread (where lock() may not Atomics.wait) competes too, in
  // chunks so its event loop keeps running.
  const out = kv.createResult();
  const next = new Uint8Array(4);
  const outView = new DataView(out.value.buffer);
  const nextView = new DataView(next.buffer);
  const mainIterations = 5_000;
  let mainMismatches = 0;
  for (let done = 0; done < mainIterations; ) {
    for (let k = 0; k < 100; k++, done++) {
      for (;;) {
        assert.equal(kv.get(key, out), WasmResult.Ok);
        nextView.setUint32(0, outView.getUint32(0, true) + 1, true);
        const r = kv.set(key, next, out.cas);
        if (r === WasmResult.Ok) break;
        assert.equal(r, WasmResult.CasMismatch);
        mainMismatches++;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  const results = await started.results;
  assert.equal(kv.get(key, out), WasmResult.Ok);
  const total = workers * iterations + mainIterations;
  assert.equal(outView.getUint32(0, true), total);
  // Every successful write bumped the cas once: the initial insert + each increment.
  assert.equal(out.cas, 1 + total);
  // Four threads raced to insert the same 500 keys: each exists exactly once.
  assert.equal(kv.size(), 1 + insertKeys);
  for (let i = 0; i < insertKeys; i++) assert.equal(kv.get(enc(`fresh-${i}`), out), WasmResult.Ok);
  const mismatches = results.reduce((a, r) => a + r.mismatches, mainMismatches);
  t.diagnostic(`CAS mismatches (retries): ${mismatches}`);
  assert.ok(mismatches > 0, 'the threads really contended');
});
