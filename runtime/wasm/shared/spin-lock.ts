// A one-word spin lock in shared memory, for the short critical sections of
// the shared KV store, queues and name tables (copying at most a few KB).
//
// Why not Atomics.wait: it is not allowed on the main thread (which may run
// an in-process worker), and a notify on every unlock would cost a V8 futex
// mutex round trip even when nobody waits. So unlock is a plain store and a
// waiter spins. Past a spin budget the holder was most likely descheduled
// (more threads than cores): a worker thread then sleeps in short
// Atomics.wait timeouts (no notify needed, the timeout wakes it) to give the
// holder its core back; the main thread keeps spinning. Either way the wait
// is bounded: after LOCK_TIMEOUT_MS we throw LockTimeoutError instead of
// hanging, since it means the holder died mid-section (worker.terminate() or
// OOM), and the structure behind that lock cannot be trusted anymore.

import { isMainThread } from 'node:worker_threads';

/** Lock word values. 0 must be "free" so a zero-filled buffer starts unlocked. */
const FREE = 0;
const HELD = 1;

/** Failed compareExchange attempts before the slow path starts timing. */
const SPIN_LIMIT = 256;
/** Worker-thread sleep between attempts on the slow path, in ms. */
const SLEEP_MS = 0.05;
/** How long anyone waits for a lock before declaring it abandoned. */
export const LOCK_TIMEOUT_MS = 1000;

const canSleep = !isMainThread;

export class LockTimeoutError extends Error {
  constructor(what: string) {
    super(`${what}: shared lock not released within ${LOCK_TIMEOUT_MS} ms (holder thread died inside a critical section?)`);
    this.name = 'LockTimeoutError';
  }
}

/** Acquire the lock word `i32[index]`. Throws LockTimeoutError (never hangs). */
export function lock(i32: Int32Array, index: number, what: string): void {
  // Uncontended fast path: one CAS.
  if (Atomics.compareExchange(i32, index, FREE, HELD) !== FREE) lockSlow(i32, index, what);
}

/** Release a lock taken with lock(). The seq-cst store publishes every write made under it. */
export function unlock(i32: Int32Array, index: number): void {
  Atomics.store(i32, index, FREE);
}

function lockSlow(i32: Int32Array, index: number, what: string): void {
  let deadline = 0;
  for (let spins = 0; ; spins++) {
    // Test before test-and-set: spinning on a load keeps the cache line shared.
    if (Atomics.load(i32, index) === FREE && Atomics.compareExchange(i32, index, FREE, HELD) === FREE) return;
    if (spins < SPIN_LIMIT) continue;
    const now = performance.now();
    if (deadline === 0) deadline = now + LOCK_TIMEOUT_MS;
    else if (now > deadline) throw new LockTimeoutError(what);
    if (canSleep) Atomics.wait(i32, index, HELD, SLEEP_MS);
  }
}
