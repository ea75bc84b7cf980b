// Open loop: the pacer thread of one bench worker. It keeps the schedule and
// writes due requests itself, so the engine thread never has to keep time:
// that thread blocks in epoll and only reads responses.
//
// libuv timers have 1 ms resolution, and polling the event loop until a due
// time burns the CPU the measured server needs (the tool and the server
// often share CPUs). So the pacer blocks in Atomics.wait (sub-ms timeouts),
// wakes EARLY_MS before the due time (the wait overshoots by up to ~100 µs)
// and spins only that remainder. When the time comes it publishes how many
// requests are due (ctl[DUE]) and writes them on idle connections; a due
// request that finds none is written by the engine thread when a response
// frees a connection (schedule.ts has the claim protocol).
//
// At high rates both the spinning and the wake-ups would add up to a busy
// CPU: it spins at most SPIN_SHARE of the interval and wakes at most every
// MIN_GAP_MS, writing what fell due meanwhile in one go. The engine thread,
// awake for responses anyway, also writes requests as they fall due.
import { parentPort, workerData } from 'worker_threads';
import { performance } from 'perf_hooks';
import { DONE, DUE, dueBy, makeDispatch, raiseDue, sharedViews, STOP, toLocal } from './schedule';

export interface PacerConfig {
  sab: SharedArrayBuffer;
  conns: number;
  request: Uint8Array;
  /** Request i is due at t0 + phaseMs + i * intervalMs; there are `total`. */
  phaseMs: number;
  intervalMs: number;
  total: number;
  writeLimitMs: number;
}

/** Main → pacer: start the clock at this process.hrtime.bigint() value (ns, as a string). */
export interface PacerStart {
  t0ns: string;
}

const EARLY_MS = 0.15;
/** At most this share of the pacer's time is spent spinning. */
const SPIN_SHARE = 1 / 6;
/** Wake at most this often: above 1/MIN_GAP_MS requests per ms, write them in small batches. */
const MIN_GAP_MS = 0.2;

/** `t0`: performance.now() of the start in this thread. */
function pace(cfg: PacerConfig, t0: number): void {
  const sh = sharedViews(cfg.sab, cfg.conns);
  const { ctl } = sh;
  const dispatch = makeDispatch(sh, cfg.request, t0, cfg.writeLimitMs);
  const { phaseMs, intervalMs, total } = cfg;
  // At high rates spinning EARLY_MS per request would take the whole CPU,
  // often the one the engine thread or the server needs: spin less and let
  // the wake-up be late instead (by the wait's overshoot, tens of µs).
  const early = Math.min(EARLY_MS, intervalMs * SPIN_SHARE);
  let woke = -Infinity;
  for (;;) {
    // the first request not due yet (the engine thread raises DUE too)
    const i = Atomics.load(ctl, DUE);
    if (i >= total) return;
    // Each wake-up costs a context switch, likely on the CPU the engine
    // thread needs: at high rates, wake less often than every request (the
    // engine thread writes due requests too whenever a response wakes it).
    const target = Math.max(t0 + phaseMs + i * intervalMs, woke + MIN_GAP_MS);
    for (;;) {
      const left = target - performance.now();
      if (left <= 0) break;
      // Sleeps on ctl[STOP], so a stop wakes it at once.
      if (left > early) Atomics.wait(ctl, STOP, 0, left - early);
      if (Atomics.load(ctl, STOP) !== 0) return;
    }
    if (Atomics.load(ctl, STOP) !== 0) return;
    woke = performance.now();
    // every request whose time has come (after a stall there may be several)
    raiseDue(ctl, Math.max(i + 1, dueBy(woke - t0, phaseMs, intervalMs, total)));
    dispatch();
  }
}

if (parentPort && workerData && (workerData as { pacer?: unknown }).pacer === true) {
  const cfg = (workerData as { config: PacerConfig }).config;
  parentPort.once('message', (m: PacerStart) => {
    const { ctl } = sharedViews(cfg.sab, cfg.conns);
    try {
      pace(cfg, toLocal(BigInt(m.t0ns)));
    } finally {
      // No write of ours is in progress any more: terminating this thread is safe.
      Atomics.store(ctl, DONE, 1);
      Atomics.notify(ctl, DONE);
    }
  });
  parentPort.postMessage('ready');
}
