// Wake-ups for shared-queue consumers: Atomics.waitAsync on a queue's SEQ
// word, which every enqueue bumps (queues.ts). No postMessage, and it works
// on worker threads and on the main thread alike.
//
// Protocol with enqueue (all seq-cst): the producer commits the message
// (COUNT), bumps SEQ, then notifies only if WATCHERS > 0 (a notify takes a
// process-wide V8 mutex, so it is skipped when nobody listens). A watcher
// bumps WATCHERS before it reads SEQ and COUNT. Either the producer sees the
// watcher and notifies, or the watcher sees the new SEQ/COUNT: no lost wake-up.
//
// Callbacks are coalesced: one call may stand for many messages, and a call
// may find the queue already drained, so consumers dequeue until EMPTY.
//
// Event-loop lifetime (measured on Node 20, see queues.test.ts): a pending
// Atomics.waitAsync does NOT keep the event loop alive, on the main thread
// or in a worker. So a watch is "unref'd" by default and never holds a
// closing thread open; { keepAlive: true } holds a timer handle until
// unwatch(). unwatch() also notifies SEQ so the pending waiter settles now
// instead of at the next enqueue (other watchers of that queue wake
// spuriously, see SEQ unchanged, and re-arm).

export type QueueReadyCallback = (queueId: number) => void;

export interface WatchOptions {
  /** Hold this thread's event loop open while watching. Default false. */
  keepAlive?: boolean;
}

/** Word indices (into the queue buffer's Int32Array) of one queue's header fields. */
export interface QueueWords {
  seq: number;
  watchers: number;
  count: number;
}

// Atomics.waitAsync is ES2024; Node 20 has it but lib ES2022 does not declare it.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const atomics = Atomics as typeof Atomics & { waitAsync?: (ta: Int32Array, index: number, value: number) => WaitAsyncResult };

const KEEP_ALIVE_MS = 0x7fffffff;

interface Watcher {
  readonly id: number;
  readonly words: QueueWords;
  readonly callback: QueueReadyCallback;
  seen: number;
  active: boolean;
  keepAlive: ReturnType<typeof setInterval> | null;
}

/** Producer side: tell watchers (if any) that SEQ moved. Call after committing a message. */
export function signalQueue(i32: Int32Array, seqWord: number, watchersWord: number): void {
  Atomics.add(i32, seqWord, 1);
  if (Atomics.load(i32, watchersWord) > 0) Atomics.notify(i32, seqWord);
}

/** This thread's watches over one queue buffer. */
export class QueueWatchers {
  private readonly active = new Map<number, Watcher>();

  constructor(private readonly i32: Int32Array) {}

  /** Start (or replace) the watch of queue `id`. */
  watch(id: number, words: QueueWords, callback: QueueReadyCallback, options: WatchOptions): void {
    if (!atomics.waitAsync) throw new Error('shared queues: Atomics.waitAsync is not available (Node >= 16 required)');
    this.unwatch(id);
    Atomics.add(this.i32, words.watchers, 1);
    const seq = Atomics.load(this.i32, words.seq);
    // Messages already waiting count as news: start one step behind.
    const waiting = Atomics.load(this.i32, words.count) > 0;
    const w: Watcher = {
      id,
      words,
      callback,
      seen: waiting ? (seq - 1) | 0 : seq,
      active: true,
      keepAlive: options.keepAlive ? setInterval(() => {}, KEEP_ALIVE_MS) : null,
    };
    this.active.set(id, w);
    this.arm(w);
  }

  /** Stop watching `id`. True if it was watched. */
  unwatch(id: number): boolean {
    const w = this.active.get(id);
    if (!w) return false;
    this.active.delete(id);
    w.active = false;
    if (w.keepAlive) clearInterval(w.keepAlive);
    Atomics.sub(this.i32, w.words.watchers, 1);
    Atomics.notify(this.i32, w.words.seq);
    return true;
  }

  close(): void {
    for (const id of [...this.active.keys()]) this.unwatch(id);
  }

  private arm(w: Watcher): void {
    const r = atomics.waitAsync!(this.i32, w.words.seq, w.seen);
    // setImmediate, not a microtask, when SEQ already moved: a busy producer
    // must not be able to starve this thread's event loop.
    if (r.async) void r.value.then(() => this.wake(w));
    else setImmediate(() => this.wake(w));
  }

  private wake(w: Watcher): void {
    if (!w.active) return;
    const seq = Atomics.load(this.i32, w.words.seq);
    const changed = seq !== w.seen;
    w.seen = seq;
    // Re-arm first: the callback may unwatch, or throw.
    this.arm(w);
    if (!changed) return;
    try {
      w.callback(w.id);
    } catch (err) {
      // Surface it like a throwing event listener would; keep watching.
      process.nextTick(() => {
        throw err;
      });
    }
  }
}
