import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as http from 'http';
import * as net from 'net';
import { describe, it } from 'node:test';
import type { UpstreamConnection } from '../../runtime/upstream/connection';
import { PoolCounter } from '../../runtime/upstream/endpoint-pool';
import { closeServer, CountingObserver, Exchange, listen, makePool, RawServer, run, sleep, waitFor, within } from './helpers';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('UpstreamConnection', () => {
  it('reuses one keep-alive connection for sequential requests and strips hop-by-hop headers', async () => {
    let n = 0;
    const server = http.createServer((req, res) => {
      res.setHeader('x-n', String(n++));
      res.end('ok ' + req.url);
    });
    let conns = 0;
    server.on('connection', () => conns++);
    const port = await listen(server);
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      for (let i = 0; i < 20; i++) {
        const ex = await run(pool, { head: `GET /r${i} HTTP/1.1\r\nhost: x` });
        assert.equal(ex.error, null);
        assert.equal(ex.status, 200);
        assert.equal(ex.reason, 'OK');
        assert.equal(ex.bodyBuffer.toString(), `ok /r${i}`);
        assert.equal(ex.contentLength, `ok /r${i}`.length);
        assert.equal(ex.header('x-n'), String(i));
        for (const h of ['connection', 'keep-alive', 'content-length', 'transfer-encoding']) assert.equal(ex.header(h), undefined, h);
      }
      assert.equal(conns, 1, 'one upstream connection for all requests');
      assert.equal(obs.c(PoolCounter.CxTotal), 1);
      assert.equal(pool.idleCount, 1);
    } finally {
      pool.close();
      await closeServer(server);
    }
  });

  it('writes framing headers: content-length, chunked, and content-length: 0 only for POST/PUT/PATCH', async () => {
    const heads: string[] = [];
    const srv = new RawServer((sock, head) => {
      heads.push(head);
      sock.write(OK);
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      await run(pool, { head: 'GET /a HTTP/1.1\r\nhost: x' });
      await run(pool, { head: 'POST /b HTTP/1.1\r\nhost: x' });
      await run(pool, { head: 'DELETE /c HTTP/1.1\r\nhost: x' });
      await run(pool, { head: 'PUT /d HTTP/1.1\r\nhost: x', body: Buffer.from('hello') });
      await run(pool, { head: 'POST /e HTTP/1.1\r\nhost: x', body: { chunked: Buffer.from('hello world') }, sliceSize: 4 });
      assert.deepEqual(heads, [
        'GET /a HTTP/1.1\r\nhost: x',
        'POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 0',
        'DELETE /c HTTP/1.1\r\nhost: x',
        'PUT /d HTTP/1.1\r\nhost: x\r\ncontent-length: 5',
        'POST /e HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked',
      ]);
      assert.equal(srv.connections, 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('skips 100-continue and 103 before the final response', async () => {
    const srv = new RawServer((sock) => {
      sock.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
      setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nX-Final: 1\r\nContent-Length: 2\r\n\r\nok'), 10);
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      for (let i = 0; i < 2; i++) {
        const ex = await run(pool);
        assert.equal(ex.status, 200);
        assert.deepEqual(ex.headers, ['x-final', '1']);
        assert.equal(ex.bodyBuffer.toString(), 'ok');
      }
      assert.equal(srv.connections, 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('reads no body for HEAD, 204 and 304 and keeps the connection', async () => {
    const srv = new RawServer((sock, head) => {
      if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      else if (head.startsWith('GET /204')) sock.write('HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n');
      else if (head.startsWith('GET /304')) sock.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n');
      else sock.write(OK);
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      const h = await run(pool, { head: 'HEAD / HTTP/1.1\r\nhost: x', isHead: true });
      assert.equal(h.status, 200);
      assert.equal(h.hasBody, false);
      assert.equal(h.contentLength, 1000);
      const n = await run(pool, { head: 'GET /204 HTTP/1.1\r\nhost: x' });
      assert.equal(n.status, 204);
      assert.equal(n.hasBody, false);
      const m = await run(pool, { head: 'GET /304 HTTP/1.1\r\nhost: x' });
      assert.equal(m.status, 304);
      assert.equal(m.hasBody, false);
      assert.equal(m.contentLength, 5);
      const g = await run(pool);
      assert.equal(g.bodyBuffer.toString(), 'ok');
      assert.equal(srv.connections, 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('closes after `connection: close` and removes headers named in Connection', async () => {
    const srv = new RawServer((sock) => {
      sock.write(
        'HTTP/1.1 200 OK\r\nConnection: close, X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=1\r\n' +
          'Transfer-Encoding: chunked\r\nX-Public: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      );
      // The server leaves the socket open: the client must close it.
    });
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      const a = await run(pool);
      assert.deepEqual(a.headers, ['x-public', '2']);
      assert.equal(a.contentLength, -1);
      assert.equal(a.bodyBuffer.toString(), 'ok');
      assert.equal(pool.size, 0);
      assert.equal(obs.c(PoolCounter.CxDestroyLocal), 1);
      await run(pool);
      assert.equal(srv.connections, 2);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('talks to an HTTP/1.0 upstream (no keep-alive, close-delimited body)', async () => {
    const srv = new RawServer((sock, head) => {
      if (head.startsWith('GET /cl')) sock.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi');
      else if (head.startsWith('GET /ka')) sock.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka');
      else {
        sock.write('HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until ');
        setTimeout(() => sock.end('close'), 10);
      }
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      const a = await run(pool, { head: 'GET /cl HTTP/1.1\r\nhost: x' });
      assert.equal(a.bodyBuffer.toString(), 'hi');
      assert.equal(pool.size, 0, 'HTTP/1.0 without keep-alive is not reused');
      const b = await run(pool, { head: 'GET /eof HTTP/1.1\r\nhost: x' });
      assert.equal(b.error, null);
      assert.equal(b.contentLength, -1);
      assert.equal(b.bodyBuffer.toString(), 'body until close');
      const c = await run(pool, { head: 'GET /ka HTTP/1.1\r\nhost: x' });
      assert.equal(c.bodyBuffer.toString(), 'ka');
      assert.equal(pool.idleCount, 1, 'HTTP/1.0 with keep-alive is reused');
      assert.equal(srv.connections, 3);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('maps malformed responses to UPSTREAM_MALFORMED_RESPONSE', async () => {
    const bad = [
      'HTTP/1.1 200 OK\r\nFoo : bar\r\n\r\n',
      'HTTP/1.1 200 OK\r\nFoo: a\r\n b\r\n\r\n',
      'HTTP/1.1 2OO OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nXYZ\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(600) + '\r\n\r\n',
    ];
    let k = 0;
    const srv = new RawServer((sock) => sock.write(bad[k++]));
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs, maxResponseHeadBytes: 512 });
    try {
      for (let i = 0; i < bad.length; i++) {
        const ex = await run(pool);
        assert.equal(ex.error?.code, 'UPSTREAM_MALFORMED_RESPONSE', bad[i]);
      }
      assert.equal(obs.c(PoolCounter.CxProtocolError), bad.length);
      assert.equal(pool.size, 0);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('reports resets before headers and during the body', async () => {
    const srv = new RawServer((sock, head) => {
      if (head.startsWith('GET /fin')) sock.destroy();
      else if (head.startsWith('GET /rst')) sock.resetAndDestroy();
      else if (head.startsWith('GET /half')) sock.end('HTTP/1.1 200 OK\r\nConte');
      else if (head.startsWith('GET /body')) {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789');
        setTimeout(() => sock.destroy(), 10);
      } else if (head.startsWith('GET /chunk')) {
        sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        setTimeout(() => sock.resetAndDestroy(), 10);
      }
    });
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      for (const p of ['/fin', '/rst', '/half']) {
        const ex = await run(pool, { head: `GET ${p} HTTP/1.1\r\nhost: x` });
        assert.equal(ex.error?.code, 'UPSTREAM_RESET_BEFORE_HEADERS', p);
        assert.equal(ex.gotHeaders, false);
      }
      const b = await run(pool, { head: 'GET /body HTTP/1.1\r\nhost: x' });
      assert.equal(b.error?.code, 'UPSTREAM_RESET_DURING_BODY');
      assert.equal(b.gotHeaders, true);
      assert.equal(b.bodyBytes, 10);
      const c = await run(pool, { head: 'GET /chunk HTTP/1.1\r\nhost: x' });
      assert.equal(c.error?.code, 'UPSTREAM_RESET_DURING_BODY');
      assert.equal(c.bodyBuffer.toString(), 'hello');
      assert.equal(srv.connections, 5, 'fresh connections are never retried');
      assert.equal(obs.c(PoolCounter.CxDestroyRemote), 5);
      assert.equal(pool.size, 0);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('retries a bodiless request once on a fresh connection when a reused one turns out stale', async () => {
    // The server serves one request per connection, then drops the socket as
    // soon as the next request arrives: the idle-close race seen from our side.
    const srv = new RawServer((sock, _head, index) => {
      if (index === 0) sock.write(OK);
      else sock.destroy();
    });
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      assert.equal((await run(pool)).status, 200);
      const second = await run(pool);
      assert.equal(second.error, null);
      assert.equal(second.status, 200);
      assert.equal(srv.connections, 2);
      assert.equal(obs.c(PoolCounter.RqRetryStale), 1);
      assert.equal(pool.idleCount, 1);

      // A request with a body is not replayed.
      const post = await run(pool, { head: 'POST /x HTTP/1.1\r\nhost: x', body: Buffer.from('data') });
      assert.equal(post.error?.code, 'UPSTREAM_RESET_BEFORE_HEADERS');
      // Nor is a non-idempotent method without a body.
      assert.equal((await run(pool)).status, 200);
      const bare = await run(pool, { head: 'POST /y HTTP/1.1\r\nhost: x' });
      assert.equal(bare.error?.code, 'UPSTREAM_RESET_BEFORE_HEADERS');
      assert.equal(obs.c(PoolCounter.RqRetryStale), 1);
      assert.equal(srv.connections, 3);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('does not retry when disabled, and fails when the retry fails too', async () => {
    const srv = new RawServer((sock, _head, index) => {
      if (index === 0) sock.write(OK);
      else sock.destroy();
    });
    const port = await srv.listen();
    const pool = makePool(port, { retryStale: false });
    try {
      await run(pool);
      const ex = await run(pool);
      assert.equal(ex.error?.code, 'UPSTREAM_RESET_BEFORE_HEADERS');
      assert.equal(srv.connections, 1);
    } finally {
      pool.close();
      await srv.close();
    }
    // Retry on a server that has gone away: the replacement connect is refused.
    const srv2 = new RawServer((sock, _h, index) => {
      if (index === 0) sock.write(OK);
      else sock.destroy();
    });
    const port2 = await srv2.listen();
    const pool2 = makePool(port2);
    try {
      await run(pool2);
      srv2.server.close();
      const ex = await run(pool2);
      assert.equal(ex.error?.code, 'UPSTREAM_CONNECT_FAILURE');
      assert.equal(pool2.size, 0);
      assert.equal(pool2.budget.connections, 0);
    } finally {
      pool2.close();
      await srv2.close();
    }
  });

  it('notices an idle connection closed by the upstream', async () => {
    const srv = new RawServer((sock) => {
      sock.write(OK);
      setTimeout(() => sock.end(), 30);
    });
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      await run(pool);
      assert.equal(pool.idleCount, 1);
      await waitFor(() => pool.idleCount === 0, 2000, 'idle connection removal');
      assert.equal(pool.size, 0);
      assert.equal(obs.c(PoolCounter.CxDestroyRemote), 1);
      assert.equal((await run(pool)).status, 200);
      assert.equal(obs.c(PoolCounter.RqRetryStale), 0);
      assert.equal(srv.connections, 2);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('delivers an early response to an unfinished upload, then closes', async () => {
    const srv = new RawServer(
      (sock) => {
        sock.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!');
      },
      { readBodies: false },
    );
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      const ex = new Exchange({ head: 'POST /up HTTP/1.1\r\nhost: x', body: Buffer.alloc(1 << 20, 97), holdBody: true });
      pool.acquire(ex);
      await within(ex.done, 3000);
      assert.equal(ex.status, 413);
      assert.equal(ex.bodyBuffer.toString(), 'too big!');
      assert.equal(ex.error, null);
      assert.equal(pool.size, 0, 'connection with an unfinished request is not reused');
      assert.equal(obs.c(PoolCounter.CxDestroyLocal), 1);
      ex.writeRest(); // late writes from the stream are ignored
      await sleep(10);
      assert.equal(ex.error, null);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  for (const mode of ['content-length', 'chunked'] as const) {
    it(`moves 10 MiB each way with ${mode} framing intact`, async () => {
      const server = http.createServer((req, res) => {
        const h = crypto.createHash('sha256');
        if (mode === 'content-length') {
          const parts: Buffer[] = [];
          req.on('data', (d: Buffer) => {
            h.update(d);
            parts.push(d);
          });
          req.on('end', () => {
            const all = Buffer.concat(parts);
            res.writeHead(200, { 'content-length': all.length, 'x-sha': h.digest('hex'), 'x-te': String(req.headers['transfer-encoding']) });
            res.end(all);
          });
        } else {
          res.writeHead(200, { 'x-te': String(req.headers['transfer-encoding']) });
          req.pipe(res);
        }
      });
      const port = await listen(server);
      const pool = makePool(port);
      try {
        const body = crypto.randomBytes(10 * 1024 * 1024);
        const sent = crypto.createHash('sha256').update(body).digest('hex');
        const ex = await run(
          pool,
          { head: 'POST /echo HTTP/1.1\r\nhost: x', body: mode === 'chunked' ? { chunked: body } : body, sliceSize: 100_000 },
          20_000,
        );
        assert.equal(ex.error, null);
        assert.equal(ex.status, 200);
        const got = crypto.createHash('sha256').update(ex.bodyBuffer).digest('hex');
        assert.equal(got, sent);
        if (mode === 'content-length') {
          assert.equal(ex.header('x-sha'), sent);
          assert.equal(ex.contentLength, body.length);
          assert.equal(ex.header('x-te'), 'undefined');
        } else {
          assert.equal(ex.contentLength, -1);
          assert.equal(ex.header('x-te'), 'chunked');
        }
        assert.ok(ex.writesRefused > 0 && ex.drains > 0, 'upload hit backpressure and resumed on drain');
        assert.equal(pool.idleCount, 1, 'connection reused after a full exchange');
      } finally {
        pool.close();
        await closeServer(server);
      }
    });
  }

  it('stops reading while paused, so the upstream blocks (download backpressure)', async () => {
    const TOTAL = 48 * 1024 * 1024;
    const CHUNK = Buffer.alloc(64 * 1024, 120);
    let written = 0;
    const server = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => {
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${TOTAL}\r\n\r\n`);
        const pump = (): void => {
          while (written < TOTAL) {
            written += CHUNK.length;
            if (!sock.write(CHUNK)) return;
          }
        };
        sock.on('drain', pump);
        pump();
      });
    });
    const port = await listen(server);
    const pool = makePool(port);
    let pausedOnce = false;
    try {
      const ex = new Exchange({
        onData: () => {
          if (!pausedOnce) {
            pausedOnce = true;
            return false; // pause by return value
          }
          return true;
        },
      });
      pool.acquire(ex);
      await waitFor(() => pausedOnce, 3000, 'first body chunk');
      const conn = ex.conn as UpstreamConnection;
      await sleep(200);
      const read1 = conn.socket.bytesRead;
      const w1 = written;
      await sleep(200);
      assert.equal(conn.socket.bytesRead, read1, 'no reads while paused');
      assert.equal(written, w1, 'the upstream is blocked');
      assert.ok(written < TOTAL / 2, `upstream wrote only ${written} bytes`);
      assert.ok(conn.socket.readableLength < 1024 * 1024, 'little is buffered on our side');
      assert.equal(ex.ended, false);

      conn.resume();
      await waitFor(() => ex.bodyBytes > read1 + 4 * 1024 * 1024, 3000, 'progress after resume');
      // Explicit pause() works the same way.
      conn.pause();
      await sleep(100);
      const read2 = conn.socket.bytesRead;
      await sleep(150);
      assert.equal(conn.socket.bytesRead, read2);
      conn.resume();
      await within(ex.done, 10_000);
      assert.equal(ex.error, null);
      assert.equal(ex.bodyBytes, TOTAL);
    } finally {
      pool.close();
      await closeServer(server);
    }
  });

  it('signals write backpressure and drains when the upstream reads again', async () => {
    const SIZE = 16 * 1024 * 1024;
    let serverSock: net.Socket | null = null;
    const server = net.createServer((sock) => {
      serverSock = sock;
      sock.on('error', () => {});
      sock.pause(); // read nothing until told
      let got = -1;
      let buf = Buffer.alloc(0);
      sock.on('data', (d) => {
        if (got < 0) {
          buf = Buffer.concat([buf, d]);
          const e = buf.indexOf('\r\n\r\n');
          if (e < 0) return;
          got = buf.length - e - 4;
        } else got += d.length;
        if (got === SIZE) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(got).length}\r\n\r\n${got}`);
      });
    });
    const port = await listen(server);
    const pool = makePool(port);
    try {
      const ex = new Exchange({ head: 'PUT /big HTTP/1.1\r\nhost: x', body: Buffer.alloc(SIZE, 1), sliceSize: 256 * 1024 });
      pool.acquire(ex);
      await waitFor(() => ex.writesRefused > 0, 3000, 'write() returning false');
      await sleep(100);
      assert.equal(ex.drains, 0, 'no drain while the upstream does not read');
      serverSock!.resume();
      await within(ex.done, 10_000);
      assert.ok(ex.drains > 0);
      assert.equal(ex.bodyBuffer.toString(), String(SIZE));
    } finally {
      pool.close();
      await closeServer(server);
    }
  });

  it('abort() before start returns the connection; abort() mid-response destroys it quietly', async () => {
    const srv = new RawServer((sock, head) => {
      if (head.startsWith('GET /slow')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else sock.write(OK);
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      await run(pool);
      const got: { c: UpstreamConnection | null } = { c: null };
      pool.acquire({ onPoolReady: (c) => (got.c = c as UpstreamConnection), onPoolFailure: () => {} });
      assert.ok(got.c !== null, 'idle connection handed out synchronously');
      got.c.abort();
      assert.equal(pool.idleCount, 1, 'unused connection went back to idle');
      const ex = new Exchange({ head: 'GET /slow HTTP/1.1\r\nhost: x' });
      pool.acquire(ex);
      await waitFor(() => ex.bodyBytes === 3, 2000, 'partial body');
      ex.conn!.abort();
      await sleep(20);
      assert.equal(ex.error, null, 'no callbacks after abort');
      assert.equal(ex.ended, false);
      assert.equal(pool.size, 0);
    } finally {
      pool.close();
      await srv.close();
    }
  });
  it('defers the end of a response until resume() when paused on its last chunk', async () => {
    const srv = new RawServer((sock) => sock.write(OK));
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      const ex = new Exchange({ onData: () => false });
      pool.acquire(ex);
      await waitFor(() => ex.bodyBytes === 2, 2000, 'body');
      await sleep(30);
      assert.equal(ex.ended, false, 'no onResponseEnd while paused');
      ex.conn!.resume();
      assert.equal(ex.ended, true);
      assert.equal(pool.idleCount, 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('reports a reset that happened while paused once resumed', async () => {
    const srv = new RawServer((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
      setTimeout(() => sock.resetAndDestroy(), 30);
    });
    const port = await srv.listen();
    const pool = makePool(port);
    try {
      const ex = new Exchange({ onData: () => false });
      pool.acquire(ex);
      await waitFor(() => ex.bodyBytes === 3, 2000, 'body');
      await sleep(80);
      assert.equal(ex.error, null, 'nothing delivered while paused');
      ex.conn!.resume();
      const done = await within(ex.done, 1000);
      assert.equal(done.error?.code, 'UPSTREAM_RESET_DURING_BODY');
      assert.equal(pool.size, 0);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('reconnects when the assigned connection went stale before start()', async () => {
    const srv = new RawServer((sock) => sock.write(OK));
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      await run(pool);
      const ex = new Exchange({ head: 'POST /p HTTP/1.1\r\nhost: x', body: Buffer.from('payload') });
      const got: { c: UpstreamConnection | null } = { c: null };
      pool.acquire({ onPoolReady: (c) => (got.c = c as UpstreamConnection), onPoolFailure: () => {} });
      assert.ok(got.c !== null);
      for (const s of srv.sockets) s.destroy();
      await sleep(30);
      ex.onPoolReady(got.c); // start now, on a socket the upstream closed
      await within(ex.done, 2000);
      assert.equal(ex.error, null);
      assert.equal(ex.status, 200);
      assert.equal(srv.connections, 2);
      assert.equal(obs.c(PoolCounter.RqRetryStale), 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('drops an idle connection that receives unsolicited bytes', async () => {
    const srv = new RawServer((sock) => {
      sock.write(OK);
      setTimeout(() => sock.write('HTTP/1.1 200 OK\r\n'), 20);
    });
    const port = await srv.listen();
    const obs = new CountingObserver();
    const pool = makePool(port, { observer: obs });
    try {
      await run(pool);
      await waitFor(() => pool.size === 0, 2000, 'idle connection dropped');
      assert.equal(obs.c(PoolCounter.CxProtocolError), 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });
});
