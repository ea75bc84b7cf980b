// proxy-wasm shared queues (proxy_register_shared_queue, _resolve_, _enqueue_,
// _dequeue_) in one SharedArrayBuffer: a fixed number of named queues, each
// a bounded byte ring of length-prefixed messages. The main thread creates
// it and posts `.buffers`; workers attach. Producers and consumers on any
// thread touch the rings directly; the consumer learns about new messages
// through Atomics.waitAsync on the queue's SEQ word - no postMessage.
//
// Semantics, after proxy-wasm-cpp-host (src/shared_queue.cc):
//   - register(vm_id, name) returns the same id for the same pair, from any
//     thread; resolve(vm_id, name) finds it or returns NOT_FOUND. Ids start
//     at 1 (0 is "no queue" in cpp-host). Queues are never deleted.
//   - enqueue never blocks: a message that does not fit in the ring's free
//     space returns INTERNAL_FAILURE (cpp-host queues are unbounded, so the
//     ABI has no code for "full"); one over maxMessageBytes is BAD_ARGUMENT.
//   - dequeue returns EMPTY (7) on an empty queue, NOT_FOUND for a bad id.
//   - In cpp-host only the latest registrant gets proxy_on_queue_ready. Here
//     every watch()er of a queue is woken; the host decides who watches
//     (normally: the thread whose root context registered it).
//
// Consumers learn about new messages through watch(), which is
// queue-watch.ts: Atomics.waitAsync on the queue's SEQ word, unref'd by
// default (a pending waitAsync does not keep Node's event loop alive).
//
// Layout (little-endian; offsets in bytes):
//   header, 64 bytes: i32[0] MAGIC 'WMSQ'  [1] VERSION  [2] QUEUES  [3] RING_BYTES
//     [4] MAX_MESSAGE_BYTES  [5] MAX_NAME_BYTES  [6] NAMES_OFFSET  [7] QUEUES_OFFSET
//     [8] RINGS_OFFSET
//   name table (name-table.ts): capacity QUEUES; entry i names queue id i+1;
//     key = u16 LE vm_id length, vm_id, name
//   QUEUES headers of 64 bytes: +0 LOCK  +4 HEAD  +8 TAIL  +12 USED_BYTES
//     +16 COUNT  +20 SEQ  +24 WATCHERS  +28 ENQUEUED (total, u32)  +32 REJECTED_FULL
//   QUEUES rings of RING_BYTES. A message is a u32 length then its bytes,
//   padded to 4; the bytes may wrap around the ring end (the length word,
//   being 4-aligned in a ring whose size is a multiple of 4, never does).
// HEAD, TAIL, USED_BYTES and the ring bytes are only touched under LOCK.
// COUNT is also read lock-free (empty fast path, watch), so it is written
// with Atomics.store.
//
// Sizing: defaults 64 queues x 32 KiB rings, 8 KiB max message, 256 bytes of
// vm_id + name: about 2 MiB (untouched ring pages are not committed by the OS).

import { copyBytes, roundUp, toBytes, validRange } from './bytes';
import { NameTable, initNameTable, nameTableBytes } from './name-table';
import { QueueWatchers, signalQueue, type QueueReadyCallback, type WatchOptions } from './queue-watch';
import { lock, unlock } from './spin-lock';
import { WasmResult } from './status';

export type { QueueReadyCallback, WatchOptions } from './queue-watch';

export interface SharedQueuesOptions {
  /** Number of queues. Default 64. */
  queues?: number;
  /** Ring size per queue, bytes (rounded up to 64). Default 32768. */
  ringBytes?: number;
  /** Largest message. Default 8192; at most ringBytes - 4. */
  maxMessageBytes?: number;
  /** Longest vm_id + name, bytes. Default 256. */
  maxNameBytes?: number;
}

export interface SharedQueuesBuffers {
  readonly queues: SharedArrayBuffer;
}

/** Reusable dequeue() output: the message is value[0, length), a copy. */
export interface QueueResult {
  readonly value: Uint8Array;
  length: number;
}

/** Reusable register()/resolve() output. */
export interface QueueIdResult {
  id: number;
}

const MAGIC = 0x574d5351;
const VERSION = 1;
const HEADER_BYTES = 64;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_QUEUES = 2;
const H_RING_BYTES = 3;
const H_MAX_MESSAGE = 4;
const H_MAX_NAME = 5;
const H_NAMES_OFFSET = 6;
const H_QUEUES_OFFSET = 7;
const H_RINGS_OFFSET = 8;

const QUEUE_HEADER_BYTES = 64;
const Q_LOCK = 0;
const Q_HEAD = 1;
const Q_TAIL = 2;
const Q_USED = 3;
const Q_COUNT = 4;
const Q_SEQ = 5;
const Q_WATCHERS = 6;
const Q_ENQUEUED = 7;
const Q_REJECTED = 8;

const WHAT = 'shared queue';

function sizing(o: SharedQueuesOptions) {
  const queues = o.queues ?? 64;
  const ringBytes = roundUp(o.ringBytes ?? 32768, 64);
  const maxMessage = o.maxMessageBytes ?? Math.min(8192, ringBytes - 4);
  const maxName = o.maxNameBytes ?? 256;
  if (!Number.isInteger(queues) || queues < 1 || queues > 1 << 16) throw new RangeError(`shared queues: bad queues ${queues}`);
  if (!Number.isInteger(ringBytes) || ringBytes < 64 || ringBytes > 1 << 26) throw new RangeError(`shared queues: bad ringBytes ${ringBytes}`);
  if (!Number.isInteger(maxMessage) || maxMessage < 0 || maxMessage > ringBytes - 4) throw new RangeError(`shared queues: bad maxMessageBytes ${maxMessage}`);
  if (!Number.isInteger(maxName) || maxName < 1 || maxName > 0xffff) throw new RangeError(`shared queues: bad maxNameBytes ${maxName}`);
  const namesOffset = HEADER_BYTES;
  const queuesOffset = namesOffset + nameTableBytes(queues, maxName + 2);
  const ringsOffset = queuesOffset + queues * QUEUE_HEADER_BYTES;
  const total = ringsOffset + queues * ringBytes;
  if (total > 1 << 30) throw new RangeError('shared queues: larger than 1 GiB');
  return { queues, ringBytes, maxMessage, maxName, namesOffset, queuesOffset, ringsOffset, total };
}

export class SharedQueues {
  readonly buffers: SharedQueuesBuffers;
  readonly queueCount: number;
  readonly ringBytes: number;
  readonly maxMessageBytes: number;
  readonly maxNameBytes: number;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly names: NameTable;
  private readonly queuesWord: number;
  private readonly ringsOffset: number;
  /** vm_id/name key scratch for register/resolve. */
  private readonly keyScratch: Uint8Array;
  private readonly watchers: QueueWatchers;

  static bytes(options: SharedQueuesOptions = {}): number {
    return sizing(options).total;
  }

  /** New, with no queues registered (main thread). */
  static create(options: SharedQueuesOptions = {}): SharedQueues {
    const s = sizing(options);
    const buffer = new SharedArrayBuffer(s.total);
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    h[H_MAGIC] = MAGIC;
    h[H_VERSION] = VERSION;
    h[H_QUEUES] = s.queues;
    h[H_RING_BYTES] = s.ringBytes;
    h[H_MAX_MESSAGE] = s.maxMessage;
    h[H_MAX_NAME] = s.maxName;
    h[H_NAMES_OFFSET] = s.namesOffset;
    h[H_QUEUES_OFFSET] = s.queuesOffset;
    h[H_RINGS_OFFSET] = s.ringsOffset;
    initNameTable(buffer, s.namesOffset, s.queues, s.maxName + 2);
    return new SharedQueues({ queues: buffer });
  }

  static attach(buffers: SharedQueuesBuffers): SharedQueues {
    return new SharedQueues(buffers);
  }

  private constructor(buffers: SharedQueuesBuffers) {
    const buffer = buffers.queues;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) throw new TypeError('shared queues: not a SharedArrayBuffer of the right size');
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC || this.i32[H_VERSION] !== VERSION) throw new TypeError('shared queues: bad magic/version');
    this.queueCount = this.i32[H_QUEUES];
    this.ringBytes = this.i32[H_RING_BYTES];
    this.maxMessageBytes = this.i32[H_MAX_MESSAGE];
    this.maxNameBytes = this.i32[H_MAX_NAME];
    const s = sizing({ queues: this.queueCount, ringBytes: this.ringBytes, maxMessageBytes: this.maxMessageBytes, maxNameBytes: this.maxNameBytes });
    if (buffer.byteLength !== s.total || this.i32[H_RINGS_OFFSET] !== s.ringsOffset) throw new RangeError('shared queues: buffer does not match its header');
    this.names = new NameTable(buffer, this.i32[H_NAMES_OFFSET], 'shared queue names');
    this.queuesWord = this.i32[H_QUEUES_OFFSET] >> 2;
    this.ringsOffset = s.ringsOffset;
    this.keyScratch = new Uint8Array(2 + this.maxNameBytes);
    this.watchers = new QueueWatchers(this.i32);
    this.buffers = { queues: buffer };
  }

  createResult(): QueueResult {
    return { value: new Uint8Array(this.maxMessageBytes), length: 0 };
  }

  /**
   * proxy_register_shared_queue: the id of (vmId, name), creating the queue
   * on first use. OK, BAD_ARGUMENT (vm_id + name over maxNameBytes) or
   * INTERNAL_FAILURE (all queues taken).
   */
  register(vmId: string | Uint8Array, name: string | Uint8Array, out: QueueIdResult): WasmResult {
    const len = this.key(vmId, name);
    if (len < 0) return WasmResult.BadArgument;
    const index = this.names.add(this.keyScratch, 0, len, 0);
    if (index < 0) return WasmResult.InternalFailure;
    out.id = index + 1;
    return WasmResult.Ok;
  }

  /** proxy_resolve_shared_queue: OK with out.id, NOT_FOUND, or BAD_ARGUMENT. */
  resolve(vmId: string | Uint8Array, name: string | Uint8Array, out: QueueIdResult): WasmResult {
    const len = this.key(vmId, name);
    if (len < 0) return WasmResult.BadArgument;
    const index = this.names.find(this.keyScratch, 0, len);
    if (index < 0) return WasmResult.NotFound;
    out.id = index + 1;
    return WasmResult.Ok;
  }

  /**
   * proxy_enqueue_shared_queue: append data[off, off+len). OK, NOT_FOUND (no
   * such queue), BAD_ARGUMENT (bad range, over maxMessageBytes) or
   * INTERNAL_FAILURE (not enough free ring space; nothing is written).
   */
  enqueue(id: number, data: Uint8Array, off = 0, len = data.length - off): WasmResult {
    const h = this.header(id);
    if (h < 0) return WasmResult.NotFound;
    if (!validRange(data, off, len) || len > this.maxMessageBytes) return WasmResult.BadArgument;
    const size = this.ringBytes;
    const record = 4 + roundUp(len, 4);
    lock(this.i32, h + Q_LOCK, WHAT);
    const used = this.i32[h + Q_USED];
    if (used + record > size) {
      unlock(this.i32, h + Q_LOCK);
      Atomics.add(this.i32, h + Q_REJECTED, 1);
      return WasmResult.InternalFailure;
    }
    const base = this.ringBase(id);
    const tail = this.i32[h + Q_TAIL];
    this.i32[(base + tail) >> 2] = len;
    const pos = tail + 4 === size ? 0 : tail + 4;
    const first = Math.min(len, size - pos);
    copyBytes(data, off, this.u8, base + pos, first);
    if (first < len) copyBytes(data, off + first, this.u8, base, len - first);
    this.i32[h + Q_TAIL] = tail + record >= size ? tail + record - size : tail + record;
    this.i32[h + Q_USED] = used + record;
    Atomics.store(this.i32, h + Q_COUNT, this.i32[h + Q_COUNT] + 1);
    this.i32[h + Q_ENQUEUED]++;
    unlock(this.i32, h + Q_LOCK);
    // After the commit, so a woken consumer finds the message.
    signalQueue(this.i32, h + Q_SEQ, h + Q_WATCHERS);
    return WasmResult.Ok;
  }

  /**
   * proxy_dequeue_shared_queue: copy the oldest message into out.value and
   * set out.length. OK, EMPTY or NOT_FOUND. Allocates nothing (messages over
   * 64 bytes: one subarray view, see copyBytes).
   */
  dequeue(id: number, out: QueueResult): WasmResult {
    const h = this.header(id);
    if (h < 0) return WasmResult.NotFound;
    if (out.value.length < this.maxMessageBytes) throw new RangeError('shared queues: result buffer smaller than maxMessageBytes (use createResult())');
    // Lock-free fast path for the drain-until-EMPTY loop's last call.
    if (Atomics.load(this.i32, h + Q_COUNT) === 0) return WasmResult.Empty;
    lock(this.i32, h + Q_LOCK, WHAT);
    const count = this.i32[h + Q_COUNT];
    if (count === 0) {
      unlock(this.i32, h + Q_LOCK);
      return WasmResult.Empty;
    }
    const size = this.ringBytes;
    const base = this.ringBase(id);
    const head = this.i32[h + Q_HEAD];
    const len = this.i32[(base + head) >> 2];
    const record = 4 + roundUp(len, 4);
    const pos = head + 4 === size ? 0 : head + 4;
    const first = Math.min(len, size - pos);
    copyBytes(this.u8, base + pos, out.value, 0, first);
    if (first < len) copyBytes(this.u8, base, out.value, first, len - first);
    this.i32[h + Q_HEAD] = head + record >= size ? head + record - size : head + record;
    this.i32[h + Q_USED] -= record;
    Atomics.store(this.i32, h + Q_COUNT, count - 1);
    unlock(this.i32, h + Q_LOCK);
    out.length = len;
    return WasmResult.Ok;
  }

  /** Messages waiting in a queue, or -1 for a bad id. */
  pending(id: number): number {
    const h = this.header(id);
    return h < 0 ? -1 : Atomics.load(this.i32, h + Q_COUNT);
  }

  /** Lifetime counters of a queue (for stats), or null for a bad id. */
  stats(id: number): { pending: number; enqueued: number; rejectedFull: number } | null {
    const h = this.header(id);
    if (h < 0) return null;
    return {
      pending: Atomics.load(this.i32, h + Q_COUNT),
      enqueued: Atomics.load(this.i32, h + Q_ENQUEUED) >>> 0,
      rejectedFull: Atomics.load(this.i32, h + Q_REJECTED) >>> 0,
    };
  }

  /**
   * Call `callback(id)` on this thread's event loop whenever messages may
   * have arrived in queue `id` (coalesced; drain until EMPTY). Fires once
   * soon if messages are already waiting. Replaces this instance's earlier
   * watch of the same queue. OK or NOT_FOUND. A throwing callback surfaces
   * as an uncaught exception; watching continues. See queue-watch.ts.
   */
  watch(id: number, callback: QueueReadyCallback, options: WatchOptions = {}): WasmResult {
    const h = this.header(id);
    if (h < 0) return WasmResult.NotFound;
    this.watchers.watch(id, { seq: h + Q_SEQ, watchers: h + Q_WATCHERS, count: h + Q_COUNT }, callback, options);
    return WasmResult.Ok;
  }

  /** Stop watching `id` on this instance. True if it was watched. */
  unwatch(id: number): boolean {
    return this.watchers.unwatch(id);
  }

  /** Unwatch everything this instance watches (thread shutdown). */
  close(): void {
    this.watchers.close();
  }

  /** Header word index of queue `id`, or -1 if it is not a registered queue. */
  private header(id: number): number {
    if (!Number.isInteger(id) || id < 1 || id > this.names.count()) return -1;
    return this.queuesWord + (id - 1) * (QUEUE_HEADER_BYTES >> 2);
  }

  private ringBase(id: number): number {
    return this.ringsOffset + (id - 1) * this.ringBytes;
  }

  /** Build the name-table key in keyScratch; its length, or -1 if too long. */
  private key(vmId: string | Uint8Array, name: string | Uint8Array): number {
    const vm = toBytes(vmId);
    const n = toBytes(name);
    if (vm.length + n.length > this.maxNameBytes) return -1;
    const k = this.keyScratch;
    k[0] = vm.length & 0xff;
    k[1] = vm.length >>> 8;
    copyBytes(vm, 0, k, 2, vm.length);
    copyBytes(n, 0, k, 2 + vm.length, n.length);
    return 2 + vm.length + n.length;
  }
}
