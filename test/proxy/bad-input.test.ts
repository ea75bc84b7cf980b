// Hostile or broken clients. None of this may crash a worker or disturb other traffic.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { request } from '../support/http';
import { oneClusterConfig, startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

/** Sends raw bytes (optionally in several writes) and returns what came back and when the server closed. */
function raw(port: number, parts: string[], waitMs: number): Promise<{ data: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    let closed: number | null = null;
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const p of parts) {
        s.write(p);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    s.on('data', (d) => (data += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = Date.now() - t0;
      clearTimeout(timer);
      resolve({ data, closedAfterMs: closed });
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closedAfterMs: null });
    }, waitMs);
  });
}

describe('bad input from clients', () => {
  let up: Upstream;
  let px: RunningProxy;
  before(async () => {
    up = await startUpstream((_q, r) => r.end('fine'));
    px = await startProxy(oneClusterConfig([up.address], { listener: 'maxRequestHeadersSize: 8KiB' }));
  });
  after(async () => {
    await px?.stop();
    await up?.close();
  });

  async function stat(re: RegExp): Promise<number> {
    const s = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    const m = re.exec(s);
    return m ? Number(m[1]) : 0;
  }

  it('headers over the limit: 431, connection closed, counter up, nothing forwarded', async () => {
    const hits = up.hits;
    const r = await raw(px.port, [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`], 3000);
    assert.match(r.data, /^HTTP\/1\.1 431 /);
    assert.match(r.data, /x-wasmesh-reason: DPE/i);
    assert.notEqual(r.closedAfterMs, null, 'connection closed');
    assert.equal(up.hits, hits);
    assert.equal(await stat(/wasmesh_listener_downstream_rq_rejected_total\{listener="edge",reason="headers_too_large"\} (\d+)/), 1);
  });

  it('a request head split across reads beyond uWS\'s buffer is dropped without reaching the upstream', async () => {
    const hits = up.hits;
    const r = await raw(px.port, ['GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(3000), 'b'.repeat(3000), 'c'.repeat(3000) + '\r\n\r\n'], 3000);
    assert.notEqual(r.closedAfterMs, null);
    assert.equal(up.hits, hits);
  });

  it('content-length together with transfer-encoding (smuggling shape) is refused and never forwarded', async () => {
    const hits = up.hits;
    const r = await raw(px.port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 3000);
    assert.doesNotMatch(r.data, /^HTTP\/1\.1 200/);
    assert.notEqual(r.closedAfterMs, null);
    assert.equal(up.hits, hits);
  });

  it('malformed request lines and slowloris heads are closed by the header timeout, while others are served', async () => {
    const garbage = raw(px.port, ['GARBAGE\r\n\r\n'], 20_000);
    const slow = raw(px.port, ['GET / HTTP/1.1\r\nHost: x\r\n'], 20_000);
    // Meanwhile normal traffic flows.
    for (let i = 0; i < 20; i++) assert.equal((await request({ port: px.port })).body.toString(), 'fine');
    const [g, s] = await Promise.all([garbage, slow]);
    assert.notEqual(g.closedAfterMs, null, 'garbage connection closed');
    assert.notEqual(s.closedAfterMs, null, 'slowloris connection closed');
    assert.ok(s.closedAfterMs! < 16_000, `slowloris held ${s.closedAfterMs} ms`);
    assert.equal(g.data, '');
  });

  it('pipelined requests close the connection (uWS 20.30 aborts a pending response) and nothing else is disturbed', async () => {
    const r = await raw(px.port, ['GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'], 3000);
    assert.notEqual(r.closedAfterMs, null, 'connection closed rather than left hanging');
    assert.equal((await request({ port: px.port })).body.toString(), 'fine');
  });

  it('a client that disconnects mid-request leaves the proxy serving', async () => {
    await raw(px.port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial'], 200);
    assert.equal((await request({ port: px.port })).body.toString(), 'fine');
  });
});
