import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SharedKv } from '../../../runtime/wasm/shared/kv-store';
import { LOCK_TIMEOUT_MS, LockTimeoutError, lock, unlock } from '../../../runtime/wasm/shared/spin-lock';
import { startWorkers } from './helpers';

test('main thread: an abandoned lock throws LockTimeoutError after the bound instead of hanging', () => {
  const kv = SharedKv.create({ slots: 1, maxKeyBytes: 4, maxValueBytes: 4 });
  const key = new TextEncoder().encode('k');
  kv.set(key, key, 0);
  // Simulate a thread that died inside a critical section: slot 0's LOCK (byte 128) stays held.
  const i32 = new Int32Array(kv.buffers.kv);
  Atomics.store(i32, 128 / 4, 1);
  const t0 = performance.now();
  assert.throws(() => kv.get(key, kv.createResult()), LockTimeoutError);
  const waited = performance.now() - t0;
  assert.ok(waited >= LOCK_TIMEOUT_MS * 0.9 && waited < LOCK_TIMEOUT_MS * 3, `waited ${waited} ms`);
  Atomics.store(i32, 128 / 4, 0);
  assert.equal(kv.get(key, kv.createResult()), 0, 'usable again once released');
});

test('a worker holding the lock briefly: the main thread spins and then gets it', { timeout: 30_000 }, async () => {
  const word = new SharedArrayBuffer(4);
  const i32 = new Int32Array(word);
  const started = startWorkers<{ waitedMs: number }>([{ kind: 'lock', word, holdMs: 150 }]);
  await started.release();
  while (Atomics.load(i32, 0) === 0) await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  lock(i32, 0, 'test'); // blocks this thread while the worker holds it (~150 ms, under the bound)
  const waited = performance.now() - t0;
  unlock(i32, 0);
  await started.results;
  assert.ok(waited > 50, `main waited ${waited} ms`);
});

test('the main thread holding the lock: a worker waits on its sleep path and then gets it', { timeout: 30_000 }, async () => {
  const word = new SharedArrayBuffer(4);
  const i32 = new Int32Array(word);
  lock(i32, 0, 'test');
  const started = startWorkers<{ waitedMs: number }>([{ kind: 'lock', word, holdMs: 0 }]);
  await started.release();
  await new Promise((r) => setTimeout(r, 200));
  unlock(i32, 0);
  const [r] = await started.results;
  assert.ok(r!.waitedMs > 100 && r!.waitedMs < LOCK_TIMEOUT_MS, `worker waited ${r!.waitedMs} ms`);
});
