// Open loop: the memory an engine thread shares with its pacer thread, and
// the claim-and-write step both of them run.
//
// Exactly one thread writes to a connection at a time: a writer first claims
// an idle connection (busy IDLE → WRITING) and then the next request index
// (ctl[NEXT] n → n + 1), both with Atomics.compareExchange, records the
// index and the write time, writes, and marks the connection IN_FLIGHT.
// Requests therefore go out in index order, and requests [0, ctl[NEXT]) are
// exactly the ones sent. The engine thread owns the sockets: it hands a
// connection out (→ IDLE) once it is connected or its response has ended,
// and takes it back (→ CLOSED) when a response ends and before libuv closes
// its descriptor, waiting out a write in progress, so nobody ever writes to
// a closed (or reused) descriptor.
import * as fs from 'fs';
import { performance } from 'perf_hooks';

/** busy[c] states. */
export const IDLE = 0;
export const IN_FLIGHT = 1;
export const CLOSED = 2;
/** Claimed by a writer (creq/sendMs are set before the write(2)). */
export const WRITING = 3;

/** ctl[] slots: next request index to write; requests [0, DUE) are due; the pacer must stop; it has stopped. */
export const NEXT = 0;
export const DUE = 1;
export const STOP = 2;
export const DONE = 3;
const CTL_SLOTS = 4;

export interface Shared {
  ctl: Int32Array;
  busy: Int32Array;
  /** File descriptor of each connection (valid while busy !== CLOSED). */
  fds: Int32Array;
  /** Request index in flight on each connection. */
  creq: Int32Array;
  /** Actual write time of that request, ms after t0. */
  sendMs: Float64Array;
}

export function sharedSize(conns: number): number {
  return 4 * CTL_SLOTS + 12 * conns + 4 + 8 * conns; // (+4: Float64 alignment)
}

export function sharedViews(sab: SharedArrayBuffer, conns: number): Shared {
  let o = 0;
  const ctl = new Int32Array(sab, o, CTL_SLOTS);
  o += 4 * CTL_SLOTS;
  const busy = new Int32Array(sab, o, conns);
  o += 4 * conns;
  const fds = new Int32Array(sab, o, conns);
  o += 4 * conns;
  const creq = new Int32Array(sab, o, conns);
  o += 4 * conns;
  o = Math.ceil(o / 8) * 8;
  const sendMs = new Float64Array(sab, o, conns);
  return { ctl, busy, fds, creq, sendMs };
}

/** This thread's performance.now() at a process.hrtime.bigint() instant (ns). */
export function toLocal(ns: bigint): number {
  return performance.now() + Number(ns - process.hrtime.bigint()) / 1e6;
}

/** How many of `total` requests (request i at phaseMs + i * intervalMs) are due `elapsedMs` after t0. */
export function dueBy(elapsedMs: number, phaseMs: number, intervalMs: number, total: number): number {
  const n = Math.floor((elapsedMs - phaseMs) / intervalMs) + 1;
  return n < 0 ? 0 : n > total ? total : n;
}

/** ctl[DUE] = max(ctl[DUE], due) (both threads may raise it). */
export function raiseDue(ctl: Int32Array, due: number): void {
  for (;;) {
    const cur = Atomics.load(ctl, DUE);
    if (due <= cur || Atomics.compareExchange(ctl, DUE, cur, due) === cur) return;
  }
}

/** Wait until connection c is not being written (a writer holds WRITING for one write(2)). */
export function settle(sh: Shared, c: number): number {
  let s = Atomics.load(sh.busy, c);
  while (s === WRITING) {
    Atomics.wait(sh.busy, c, WRITING, 1);
    s = Atomics.load(sh.busy, c);
  }
  return s;
}

/**
 * Returns dispatch(): write due requests (index < ctl[DUE]) on idle
 * connections until either runs out; returns how many it wrote. `t0` is
 * performance.now() of the start in the calling thread (each thread has its
 * own performance.now() origin; they share process.hrtime, see toLocal()).
 * `writeLimitMs`: a write the peer does not drain (EAGAIN) is retried for
 * this long (or until the stop), then left partial (the exchange then
 * times out).
 */
export function makeDispatch(sh: Shared, req: Uint8Array, t0: number, writeLimitMs: number): (first?: number) => number {
  const { ctl, busy, fds, creq, sendMs } = sh;
  const n = busy.length;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let rr = 0;
  /** `first`: a connection to try before the others (one just freed). */
  return function dispatch(first = -1): number {
    let sent = 0;
    for (;;) {
      const next = Atomics.load(ctl, NEXT);
      if (next >= Atomics.load(ctl, DUE)) return sent;
      let c = -1;
      if (first >= 0 && Atomics.compareExchange(busy, first, IDLE, WRITING) === IDLE) c = first;
      for (let k = 0; c < 0 && k < n; k++) {
        const j = (rr + k) % n;
        if (Atomics.compareExchange(busy, j, IDLE, WRITING) === IDLE) {
          c = j;
          break;
        }
      }
      if (c < 0) return sent; // all busy: the engine sends it when a response frees one
      if (c !== first) rr = (c + 1) % n;
      first = -1;
      if (Atomics.compareExchange(ctl, NEXT, next, next + 1) !== next) {
        Atomics.store(busy, c, IDLE); // the other thread took this index
        continue;
      }
      creq[c] = next;
      const at = performance.now();
      sendMs[c] = at - t0;
      const fd = fds[c];
      let off = 0;
      while (off < req.length) {
        try {
          off += fs.writeSync(fd, req, off, req.length - off);
        } catch (e) {
          // A broken connection is seen (and reported) by the engine's read side.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') break;
          if (performance.now() - at > writeLimitMs || Atomics.load(ctl, STOP) !== 0) break;
          Atomics.wait(pause, 0, 0, 0.1);
        }
      }
      Atomics.store(busy, c, IN_FLIGHT);
      Atomics.notify(busy, c);
      sent++;
    }
  };
}
