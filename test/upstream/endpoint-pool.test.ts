import { strict as assert } from 'assert';
import * as http from 'http';
import * as net from 'net';
import { describe, it } from 'node:test';
import { Worker } from 'worker_threads';
import type { UpstreamError } from '../../runtime/core/errors';
import { ClusterBudget, PoolCounter, PoolGauge } from '../../runtime/upstream/endpoint-pool';
import type { PoolWaiter, UpstreamRequestSink } from '../../runtime/upstream/types';
import { closeServer, CountingObserver, Exchange, listen, makePool, run, sleep, waitFor, within } from './helpers';

/**
 * A loopback port whose accept queue is full, so a new SYN is dropped and
 * connect() hangs until our timeout: a worker thread listens with backlog 1
 * and then blocks its event loop (Atomics.wait), so nothing is ever
 * accepted; we open filler connections until one no longer completes. Linux
 * drops SYNs to a listener with a full accept queue (even with syncookies),
 * which makes this deterministic without leaving 127.0.0.1.
 */
async function saturatedPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('worker_threads');
     const net = require('net');
     const flag = new Int32Array(workerData);
     const srv = net.createServer(() => {});
     srv.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(srv.address().port);
       const t0 = Date.now();
       while (Atomics.load(flag, 0) === 0 && Date.now() - t0 < 30000) Atomics.wait(flag, 0, 0, 50);
       process.exit(0);
     });`,
    { eval: true, workerData: flag.buffer },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: net.Socket[] = [];
  let full = false;
  for (let i = 0; i < 16 && !full; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    full = !(await new Promise<boolean>((r) => {
      const t = setTimeout(() => r(false), 300);
      s.once('connect', () => {
        clearTimeout(t);
        r(true);
      });
    }));
  }
  assert.ok(full, 'accept queue never filled');
  return {
    port,
    release: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

class Waiter implements PoolWaiter {
  conn: UpstreamRequestSink | null = null;
  error: UpstreamError | null = null;
  onPoolReady(conn: UpstreamRequestSink): void {
    this.conn = conn;
  }
  onPoolFailure(err: UpstreamError): void {
    this.error = err;
  }
}

/** An HTTP server that answers only when the test releases the request. */
function holdingServer(): { server: http.Server; held: http.ServerResponse[]; conns: () => number } {
  const held: http.ServerResponse[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/now') res.end('now');
    else held.push(res);
  });
  server.on('connection', () => n++);
  return { server, held, conns: () => n };
}

describe('EndpointPool', () => {
  it('times out a connect that never completes (UPSTREAM_CONNECT_TIMEOUT)', async () => {
    const sat = await saturatedPort();
    const obs = new CountingObserver();
    const budget = new ClusterBudget(10, 10);
    const pool = makePool(sat.port, { connectTimeoutMs: 150, observer: obs, budget });
    try {
      const t0 = Date.now();
      const ex = await run(pool, {}, 3000);
      const took = Date.now() - t0;
      assert.equal(ex.poolError?.code, 'UPSTREAM_CONNECT_TIMEOUT');
      assert.ok(took >= 140 && took < 1000, `timed out after ${took}ms`);
      assert.equal(obs.c(PoolCounter.CxConnectTimeout), 1);
      assert.equal(obs.c(PoolCounter.CxConnectFail), 1);
      assert.equal(obs.g(PoolGauge.CxActive), 0);
      assert.equal(pool.size, 0);
      assert.equal(budget.connections, 0);
    } finally {
      pool.close();
      await sat.release();
    }
  });

  it('reports a refused connect as UPSTREAM_CONNECT_FAILURE', async () => {
    const s = net.createServer();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      const ex = await run(pool);
      assert.equal(ex.poolError?.code, 'UPSTREAM_CONNECT_FAILURE');
      assert.match(ex.poolError!.message, /ECONNREFUSED/);
      assert.equal(obs.c(PoolCounter.CxConnectFail), 1);
      assert.equal(obs.c(PoolCounter.CxConnectTimeout), 0);
      assert.equal(pool.budget.connections, 0);
    } finally {
      pool.close();
    }
  });

  it('queues over maxConnections and overflows over maxPendingRequests', async () => {
    const h = holdingServer();
    const port = await listen(h.server);
    const obs = new CountingObserver();
    const budget = new ClusterBudget(1, 1);
    const pool = makePool(port, { budget, observer: obs });
    try {
      const a = new Exchange({ head: 'GET /a HTTP/1.1\r\nhost: x' });
      const b = new Exchange({ head: 'GET /b HTTP/1.1\r\nhost: x' });
      const c = new Exchange({ head: 'GET /c HTTP/1.1\r\nhost: x' });
      pool.acquire(a); // opens the only connection
      pool.acquire(b); // queued as pending
      pool.acquire(c); // over maxPendingRequests
      assert.equal(c.poolError?.code, 'UPSTREAM_OVERFLOW');
      assert.equal(obs.c(PoolCounter.RqPendingOverflow), 1);
      assert.equal(obs.c(PoolCounter.CxOverflow), 1);
      assert.equal(budget.pending, 1);
      assert.equal(pool.pendingCount, 2);
      await waitFor(() => h.held.length === 1, 2000, 'first request');
      assert.equal(b.conn, null);
      h.held.shift()!.end('A');
      await within(a.done, 2000);
      await waitFor(() => h.held.length === 1, 2000, 'second request on the same connection');
      h.held.shift()!.end('B');
      await within(b.done, 2000);
      assert.equal(a.bodyBuffer.toString(), 'A');
      assert.equal(b.bodyBuffer.toString(), 'B');
      assert.equal(b.conn, a.conn);
      assert.equal(h.conns(), 1);
      assert.equal(budget.pending, 0);
      assert.equal(obs.g(PoolGauge.RqPendingActive), 0);
      assert.equal(obs.g(PoolGauge.CxActive), 1);
      assert.equal(obs.g(PoolGauge.CxIdle), 1);
    } finally {
      pool.close();
      await closeServer(h.server);
    }
  });

  it('cancels a queued waiter', async () => {
    const h = holdingServer();
    const port = await listen(h.server);
    const budget = new ClusterBudget(1, 10);
    const pool = makePool(port, { budget });
    try {
      const a = new Exchange();
      pool.acquire(a);
      await waitFor(() => h.held.length === 1, 2000, 'first request');
      const w = new Waiter();
      pool.acquire(w);
      assert.equal(pool.pendingCount, 1);
      assert.equal(budget.pending, 1);
      assert.equal(pool.cancel(w), true);
      assert.equal(pool.cancel(w), false);
      assert.equal(pool.pendingCount, 0);
      assert.equal(budget.pending, 0);
      h.held.shift()!.end('x');
      await within(a.done, 2000);
      await sleep(10);
      assert.equal(w.conn, null);
      assert.equal(w.error, null);
      assert.equal(pool.idleCount, 1);
    } finally {
      pool.close();
      await closeServer(h.server);
    }
  });

  it('hands out the most recently used idle connection first (LIFO)', async () => {
    const h = holdingServer();
    const port = await listen(h.server);
    const pool = makePool(port);
    try {
      const a = new Exchange();
      const b = new Exchange();
      pool.acquire(a);
      pool.acquire(b);
      await waitFor(() => h.held.length === 2, 2000, 'two requests');
      assert.notEqual(a.conn, b.conn);
      // Finish one request, then the other: the second one's connection is the most recent.
      h.held[1].end('1');
      await within(Promise.race([a.done, b.done]), 2000);
      const first = a.ended ? a : b;
      const second = first === a ? b : a;
      h.held[0].end('0');
      await within(second.done, 2000);
      assert.equal(pool.idleCount, 2);
      const w = new Waiter();
      pool.acquire(w);
      assert.equal(w.conn, second.conn, 'most recently released connection first');
      w.conn!.abort();
    } finally {
      pool.close();
      await closeServer(h.server);
    }
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    const closed: number[] = [];
    const server = http.createServer((_req, res) => res.end('ok'));
    server.on('connection', (s: net.Socket) => s.on('close', () => closed.push(Date.now())));
    const port = await listen(server);
    const obs = new CountingObserver();
    const pool = makePool(port, { idleTimeoutMs: 100, observer: obs });
    try {
      await run(pool);
      const t0 = Date.now();
      assert.equal(pool.idleCount, 1);
      await sleep(50);
      assert.equal(pool.idleCount, 1, 'still idle before the timeout');
      // Reuse refreshes the idle clock.
      await run(pool);
      const t1 = Date.now();
      await waitFor(() => pool.idleCount === 0, 2000, 'idle timeout');
      const took = Date.now() - t1;
      assert.ok(took >= 80, `closed after ${took}ms`);
      assert.ok(Date.now() - t0 >= 130);
      await waitFor(() => closed.length === 1, 2000, 'server sees the close');
      assert.equal(obs.c(PoolCounter.CxDestroyLocal), 1);
      assert.equal(obs.g(PoolGauge.CxIdle), 0);
      assert.equal(obs.g(PoolGauge.CxActive), 0);
    } finally {
      pool.close();
      await closeServer(server);
    }
  });

  it('shares maxConnections across the pools of a cluster', async () => {
    const h = holdingServer();
    const port = await listen(h.server);
    const budget = new ClusterBudget(1, 10);
    const obs = new CountingObserver();
    const poolA = makePool(port, { budget, observer: obs });
    const poolB = makePool(port, { budget, observer: obs });
    try {
      // An idle connection in A is reclaimed when B needs the only slot.
      const a1 = await run(poolA, { head: 'GET /now HTTP/1.1\r\nhost: x' });
      assert.equal(a1.bodyBuffer.toString(), 'now');
      assert.equal(poolA.idleCount, 1);
      const b1 = await run(poolB, { head: 'GET /now HTTP/1.1\r\nhost: x' });
      assert.equal(b1.status, 200);
      assert.equal(poolA.size, 0);
      assert.equal(poolB.idleCount, 1);
      assert.equal(budget.connections, 1);

      // A busy connection in B, then a waiter in A: when B finishes with no
      // waiters of its own, it gives its slot up for A.
      const b2 = new Exchange();
      poolB.acquire(b2);
      await waitFor(() => h.held.length === 1, 2000, 'b2 request');
      const a2 = new Exchange({ head: 'GET /now HTTP/1.1\r\nhost: x' });
      poolA.acquire(a2);
      assert.equal(a2.conn, null);
      assert.equal(budget.pending, 1);
      h.held.shift()!.end('b2');
      await within(b2.done, 2000);
      await within(a2.done, 2000);
      assert.equal(a2.bodyBuffer.toString(), 'now');
      assert.equal(poolB.size, 0);
      assert.equal(budget.pending, 0);
      assert.equal(budget.connections, 1);
    } finally {
      poolA.close();
      poolB.close();
      await closeServer(h.server);
    }
  });

  it('close() fails waiters and running exchanges; drain() waits for busy connections', async () => {
    const h = holdingServer();
    const port = await listen(h.server);
    const budget = new ClusterBudget(1, 10);
    const pool = makePool(port, { budget });
    try {
      const a = new Exchange();
      pool.acquire(a);
      await waitFor(() => h.held.length === 1, 2000, 'request');
      const w = new Waiter();
      pool.acquire(w);
      pool.close();
      assert.equal(w.error?.code, 'UPSTREAM_CONNECT_FAILURE');
      await within(a.done, 1000);
      assert.equal(a.error?.code, 'UPSTREAM_RESET_BEFORE_HEADERS');
      assert.equal(budget.connections, 0);
      const late = new Waiter();
      pool.acquire(late);
      assert.equal(late.error?.code, 'UPSTREAM_CONNECT_FAILURE');
    } finally {
      pool.close();
    }

    h.held.splice(0); // the aborted request's response object
    const pool2 = makePool(port, { budget: new ClusterBudget(10, 10) });
    try {
      await run(pool2, { head: 'GET /now HTTP/1.1\r\nhost: x' });
      const busy = new Exchange();
      pool2.acquire(busy);
      await waitFor(() => h.held.length === 1, 2000, 'request');
      let drained = false;
      pool2.drain(() => (drained = true));
      assert.equal(pool2.idleCount, 0, 'idle closed at once');
      assert.equal(pool2.size, 1);
      assert.equal(drained, false);
      h.held.shift()!.end('done');
      await within(busy.done, 2000);
      assert.equal(busy.bodyBuffer.toString(), 'done');
      assert.equal(pool2.size, 0);
      assert.equal(drained, true);
    } finally {
      pool2.close();
      await closeServer(h.server);
    }
  });

  it('fails one waiter per failed connect attempt and keeps counts straight', async () => {
    const s = net.createServer();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    const budget = new ClusterBudget(2, 10);
    const obs = new CountingObserver();
    const pool = makePool(port, { budget, observer: obs });
    try {
      const ws = [new Exchange(), new Exchange(), new Exchange(), new Exchange()];
      for (const w of ws) pool.acquire(w);
      await within(Promise.all(ws.map((w) => w.done)), 3000);
      for (const w of ws) assert.equal(w.poolError?.code, 'UPSTREAM_CONNECT_FAILURE');
      assert.equal(obs.c(PoolCounter.CxConnectFail), 4);
      assert.equal(budget.connections, 0);
      assert.equal(budget.pending, 0);
      assert.equal(obs.g(PoolGauge.RqPendingActive), 0);
      assert.equal(obs.g(PoolGauge.CxActive), 0);
    } finally {
      pool.close();
    }
  });
});
