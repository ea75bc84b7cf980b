import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedQueues } from '../../../runtime/wasm/shared/queues';
import { WasmResult } from '../../../runtime/wasm/shared/status';
import { WORKER, sleep, startWorkers, until, within } from './helpers';
import type { WorkerData } from './worker';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n));

function register(q: SharedQueues, vm: string, name: string): number {
  const out = { id: 0 };
  assert.equal(q.register(vm, name, out), WasmResult.Ok);
  return out.id;
}

test('register/resolve: same (vm_id, name) -> same id, scoped by vm_id, ids start at 1', () => {
  const q = SharedQueues.create({ queues: 3, maxNameBytes: 16 });
  const out = { id: 0 };
  assert.equal(q.resolve('vm', 'jobs', out), WasmResult.NotFound);
  const a = register(q, 'vm', 'jobs');
  assert.equal(a, 1);
  assert.equal(register(q, 'vm', 'jobs'), a);
  assert.equal(q.resolve('vm', 'jobs', out), WasmResult.Ok);
  assert.equal(out.id, a);
  // "vmj"+"obs" must not alias "vm"+"jobs".
  const b = register(q, 'vmj', 'obs');
  assert.notEqual(b, a);
  const other = SharedQueues.attach(structuredClone(q.buffers));
  assert.equal(other.resolve('vmj', 'obs', out), WasmResult.Ok);
  assert.equal(out.id, b);
  assert.equal(register(other, 'vm2', 'jobs'), 3);
  assert.equal(q.register('vm3', 'jobs', out), WasmResult.InternalFailure, 'all queues taken');
  assert.equal(q.register('vm', 'x'.repeat(15), out), WasmResult.BadArgument, 'vm_id + name over maxNameBytes');
  assert.equal(q.resolve('vm', 'x'.repeat(15), out), WasmResult.BadArgument);
});

test('enqueue/dequeue: FIFO, EMPTY, NOT_FOUND, limits, full queue rejects without blocking', () => {
  const q = SharedQueues.create({ queues: 2, ringBytes: 64, maxMessageBytes: 20 });
  const id = register(q, 'vm', 'q');
  const out = q.createResult();
  assert.equal(q.dequeue(id, out), WasmResult.Empty);
  assert.equal(q.dequeue(2, out), WasmResult.NotFound, 'not registered yet');
  assert.equal(q.enqueue(2, enc('x')), WasmResult.NotFound);
  assert.equal(q.enqueue(0, enc('x')), WasmResult.NotFound);
  assert.equal(q.enqueue(id, new Uint8Array(21)), WasmResult.BadArgument);
  assert.equal(q.enqueue(id, enc('x'), 0, 2), WasmResult.BadArgument, 'range past the end');
  // 64-byte ring: records are 4 + roundUp(len, 4) bytes.
  assert.equal(q.enqueue(id, enc('first message 20 b!')), WasmResult.Ok); // 24
  assert.equal(q.enqueue(id, enc('second')), WasmResult.Ok); // 12 -> 36
  assert.equal(q.enqueue(id, new Uint8Array(0)), WasmResult.Ok); // 4 -> 40
  assert.equal(q.enqueue(id, enc('fills-ring-exactly!')), WasmResult.Ok); // 24 -> 64, exactly full
  assert.equal(q.pending(id), 4);
  assert.equal(q.enqueue(id, enc('x')), WasmResult.InternalFailure, 'ring full');
  assert.deepEqual(q.stats(id), { pending: 4, enqueued: 4, rejectedFull: 1 });
  for (const want of ['first message 20 b!', 'second', '', 'fills-ring-exactly!']) {
    assert.equal(q.dequeue(id, out), WasmResult.Ok);
    assert.equal(dec(out.value, out.length), want);
  }
  assert.equal(q.dequeue(id, out), WasmResult.Empty);
  assert.throws(() => q.dequeue(id, { value: new Uint8Array(1), length: 0 }), RangeError);
});

test('ring wrap-around keeps every message intact (model check, 20,000 operations)', () => {
  const q = SharedQueues.create({ queues: 1, ringBytes: 256, maxMessageBytes: 100 });
  const id = register(q, 'vm', 'wrap');
  const out = q.createResult();
  const model: Uint8Array[] = [];
  let seed = 12345;
  const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  let wrapsChecked = 0;
  for (let op = 0; op < 20_000; op++) {
    if (rnd(2) === 0) {
      const msg = Uint8Array.from({ length: rnd(101) }, () => rnd(256));
      const used = model.reduce((a, m) => a + 4 + ((m.length + 3) & ~3), 0);
      const r = q.enqueue(id, msg);
      if (used + 4 + ((msg.length + 3) & ~3) <= 256) {
        assert.equal(r, WasmResult.Ok);
        model.push(msg);
      } else {
        assert.equal(r, WasmResult.InternalFailure);
      }
    } else {
      const r = q.dequeue(id, out);
      const want = model.shift();
      if (!want) {
        assert.equal(r, WasmResult.Empty);
      } else {
        assert.equal(r, WasmResult.Ok);
        assert.deepEqual(out.value.subarray(0, out.length), want);
        wrapsChecked++;
      }
    }
  }
  assert.ok(wrapsChecked > 5000);
});

test('watch: fires for waiting messages, coalesces, unwatch stops it', async () => {
  const q = SharedQueues.create({ queues: 2 });
  const id = register(q, 'vm', 'w');
  const consumer = SharedQueues.attach(q.buffers);
  assert.equal(consumer.watch(99, () => {}), WasmResult.NotFound);
  q.enqueue(id, enc('early'));
  const got: string[] = [];
  let calls = 0;
  const out = consumer.createResult();
  assert.equal(
    consumer.watch(id, (qid) => {
      assert.equal(qid, id);
      calls++;
      while (consumer.dequeue(qid, out) === WasmResult.Ok) got.push(dec(out.value, out.length));
    }),
    WasmResult.Ok,
  );
  await until(() => got.length === 1, 5000, 'the message enqueued before watch()');
  assert.deepEqual(got, ['early']);
  // A burst from this same thread: one wake-up covers all of it.
  for (let i = 0; i < 50; i++) q.enqueue(id, enc(`m${i}`));
  await until(() => got.length === 51, 5000, 'the burst');
  assert.ok(calls <= 3, `coalesced: ${calls} calls`);
  assert.equal(consumer.unwatch(id), true);
  assert.equal(consumer.unwatch(id), false);
  q.enqueue(id, enc('after'));
  await sleep(50);
  assert.equal(got.length, 51, 'no callback after unwatch');
  assert.equal(q.pending(id), 1);
  consumer.close();
});

test('3 worker producers -> main-thread watcher: all messages, in order per producer', { timeout: 120_000 }, async (t) => {
  // A small ring so producers hit "full" and the watcher must keep up.
  const q = SharedQueues.create({ queues: 4, ringBytes: 2048, maxMessageBytes: 64 });
  const id = register(q, 'vm', 'telemetry');
  const producers = 3;
  const count = 5_000;
  const nextSeq = new Array<number>(producers).fill(0);
  let received = 0;
  let callbacks = 0;
  const out = q.createResult();
  const view = new DataView(out.value.buffer);
  let orderError: string | null = null;
  q.watch(id, (qid) => {
    callbacks++;
    while (q.dequeue(qid, out) === WasmResult.Ok) {
      const p = view.getUint32(0, true);
      const seq = view.getUint32(4, true);
      if (out.length !== 8 + (p % 5) * 7 || seq !== nextSeq[p]) orderError ??= `producer ${p}: got seq ${seq} (len ${out.length}), want ${nextSeq[p]}`;
      nextSeq[p] = seq + 1;
      received++;
    }
  });
  const started = startWorkers<{ fullRetries: number }>(
    Array.from({ length: producers }, (_, p) => ({ kind: 'enqueue' as const, queues: q.buffers, vmId: 'vm', name: 'telemetry', producer: p, count })),
  );
  await started.release();
  const results = await started.results;
  await until(() => received === producers * count, 30_000, `all ${producers * count} messages (have ${received})`);
  q.close();
  assert.equal(orderError, null);
  assert.deepEqual(nextSeq, new Array(producers).fill(count));
  assert.equal(q.pending(id), 0);
  assert.equal(q.stats(id)!.enqueued, producers * count);
  t.diagnostic(`callbacks ${callbacks}, producer full-queue retries ${results.map((r) => r.fullRetries).join('/')}`);
});

function watchWorker(q: SharedQueues, keepAlive: boolean): { worker: Worker; exited: Promise<number>; messages: unknown[] } {
  const messages: unknown[] = [];
  const worker = new Worker(WORKER, {
    workerData: { job: { kind: 'watch', queues: q.buffers, vmId: 'vm', name: 'life', keepAlive }, gate: new SharedArrayBuffer(8) } satisfies WorkerData,
  });
  worker.on('message', (m) => messages.push(m));
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  return { worker, exited, messages };
}

test('a watch does not keep a thread alive; keepAlive does until unwatch', { timeout: 60_000 }, async () => {
  const q = SharedQueues.create({ queues: 2 });
  // Default: the worker registers, watches and then has nothing else to do, so it exits.
  const plain = watchWorker(q, false);
  const code = await within(plain.exited, 10_000, 'still running');
  assert.equal(code, 0, 'a pending Atomics.waitAsync does not hold the event loop');
  assert.deepEqual(plain.messages, [{ watching: 1 }]);

  // keepAlive: the worker stays up and receives messages until its callback unwatches.
  const kept = watchWorker(q, true);
  await until(() => kept.messages.length === 1, 10_000, 'watching');
  let exited = false;
  void kept.exited.then(() => (exited = true));
  await sleep(300);
  assert.equal(exited, false, 'keepAlive holds the thread');
  assert.equal(q.enqueue(1, enc('hello')), WasmResult.Ok);
  assert.equal(q.enqueue(1, enc('stop')), WasmResult.Ok);
  const code2 = await within(kept.exited, 10_000, 'still running');
  assert.equal(code2, 0, 'unwatch released it');
  assert.deepEqual(kept.messages, [{ watching: 1 }, { got: 'hello' }, { got: 'stop' }]);
});
