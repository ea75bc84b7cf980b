// Plain proxying: request line, headers in both directions, bodiless responses.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { request } from '../support/http';
import { oneClusterConfig, startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('proxying basics', () => {
  let up: Upstream;
  let px: RunningProxy;
  const seen: { url: string; headers: Record<string, string | string[] | undefined>; raw: string[] }[] = [];

  before(async () => {
    up = await startUpstream((req, res) => {
      seen.push({ url: req.url!, headers: req.headers, raw: req.rawHeaders });
      switch (req.url) {
        case '/204':
          res.writeHead(204).end();
          return;
        case '/304':
          res.writeHead(304, { etag: '"x"' }).end();
          return;
        case '/hop':
          res.writeHead(200, { connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }).end('ok');
          return;
        case '/multi':
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.end('multi');
          return;
        default:
          res.setHeader('content-type', 'text/plain');
          res.setHeader('date', 'Tue, 01 Jan 2030 00:00:00 GMT');
          res.setHeader('content-length', Buffer.byteLength(`hello ${req.method} ${req.url}`));
          res.end(`hello ${req.method} ${req.url}`);
      }
    });
    px = await startProxy(oneClusterConfig([up.address]));
  });
  after(async () => {
    await px?.stop();
    await up?.close();
  });

  it('forwards method, path and query, and the response body', async () => {
    const r = await request({ port: px.port, path: '/a/b?x=1&y=%20z' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello GET /a/b?x=1&y=%20z');
    assert.equal(r.headers['content-type'], 'text/plain');
  });

  it('sends exactly one Date header', async () => {
    const out = await new Promise<string>((resolve) => {
      let buf = '';
      const s = net.connect(px.port, '127.0.0.1', () => s.write('GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      s.on('data', (d) => (buf += d));
      s.on('close', () => resolve(buf));
    });
    assert.equal(out.match(/^date:/gim)?.length, 1, out);
  });

  it('adds x-forwarded-for, x-forwarded-proto and x-request-id, keeping an incoming request id', async () => {
    seen.length = 0;
    await request({ port: px.port, path: '/h1', headers: { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https' } });
    const h = seen[0]!.headers;
    assert.equal(h['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http', 'the listener, not the client, says what the scheme was');
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
    seen.length = 0;
    await request({ port: px.port, path: '/h2', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(seen[0]!.headers['x-request-id'], 'abc-123');
  });

  it('strips hop-by-hop request headers, including those named in Connection', async () => {
    seen.length = 0;
    await request({ port: px.port, path: '/h3', headers: { connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': '1', te: 'trailers', 'proxy-connection': 'x', 'x-normal': 'n' } });
    const h = seen[0]!.headers;
    assert.equal(h['x-secret'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h['te'], undefined);
    assert.equal(h['proxy-connection'], undefined);
    assert.equal(h['x-normal'], 'n');
  });

  it('strips hop-by-hop response headers and keeps repeated ones', async () => {
    const r = await request({ port: px.port, path: '/hop' });
    assert.equal(r.headers['x-hop'], undefined);
    assert.equal(r.headers['keep-alive'], undefined);
    assert.equal(r.headers['x-kept'], 'yes');
    const m = await request({ port: px.port, path: '/multi' });
    assert.deepEqual(m.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('keeps repeated request headers in order', async () => {
    seen.length = 0;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(px.port, '127.0.0.1', () => s.write('GET /dup HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\nConnection: close\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const raw = seen[0]!.raw;
    const vals = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'x-a');
    assert.deepEqual(vals, ['1', '2']);
  });

  it('answers HEAD with the GET length and no body', async () => {
    const r = await request({ port: px.port, path: '/head-me', method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String('hello HEAD /head-me'.length));
    assert.equal(r.body.length, 0);
  });

  it('passes 204 and 304 without a body or content-length', async () => {
    const a = await request({ port: px.port, path: '/204' });
    assert.equal(a.status, 204);
    assert.equal(a.headers['content-length'], undefined);
    const b = await request({ port: px.port, path: '/304' });
    assert.equal(b.status, 304);
    assert.equal(b.headers['etag'], '"x"');
    assert.equal(b.body.length, 0);
  });

  it('serves many sequential requests on one keep-alive connection', async () => {
    const http = await import('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 50; i++) {
      const r = await request({ port: px.port, path: `/k${i}`, agent });
      assert.equal(r.body.toString(), `hello GET /k${i}`);
    }
    agent.destroy();
  });

  it('reports the native uWebSockets.js binary, never the JS fallback', async () => {
    const info = JSON.parse((await request({ port: px.adminPort, path: '/server_info' })).body.toString());
    assert.match(info.uwsBinary, /uws_linux_x64_\d+\.node$/);
  });
});
