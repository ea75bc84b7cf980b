// Body callbacks through a real proxy: buffering on request (Pause until the
// end), the buffer cap (413 BTL), streaming without buffering, and a response
// body rewritten to another length (re-framed as chunked).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildFixture } from '../support/fixture-filters';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('Wasm body filtering', () => {
  let web: Upstream;
  let px: RunningProxy;

  before(async () => {
    const wasm = await buildFixture('bodyfilter');
    web = await startUpstream((req, res) => {
      const h = createHash('sha256');
      let n = 0;
      let text = '';
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
        if (text.length < 64) text += c.toString().slice(0, 64);
      });
      req.on('end', () => {
        if (req.url === '/wrap') res.setHeader('x-body', 'wrap');
        res.setHeader('x-received', String(n));
        res.setHeader('x-sha256', h.digest('hex'));
        res.end(req.url === '/wrap' ? 'inner' : text);
      });
    });
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: body, module: ${wasm}, rootId: "", maxBufferedBody: 64KiB }
clusters:
  - { name: web, endpoints: [${web.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it('a filter that buffers the request body sees all of it and can rewrite it', async () => {
    const body = 'hello wasm body '.repeat(1000); // 16 KB, several chunks
    const r = await request({ port: px.port, method: 'POST', path: '/up', headers: { 'x-body': 'buffer' }, body });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-received'], String(body.length));
    assert.equal(r.headers['x-sha256'], createHash('sha256').update(body.toUpperCase()).digest('hex'));
  });

  it('buffering past maxBufferedBody is refused with 413 BTL', async () => {
    const r = await request({ port: px.port, method: 'POST', path: '/up', headers: { 'x-body': 'buffer' }, body: Buffer.alloc(200 * 1024, 97) });
    assert.equal(r.status, 413);
    assert.equal(r.headers['x-wasmesh-reason'], 'BTL');
  });

  it('a filter that lets chunks pass streams a body far larger than the cap', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const r = await request({ port: px.port, method: 'POST', path: '/up', headers: { 'x-body': 'stream' }, body, timeoutMs: 20_000 });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-received'], String(body.length));
    assert.equal(r.headers['x-sha256'], createHash('sha256').update(body).digest('hex'));
    assert.ok(Number(r.headers['x-chunks-seen']) > 1, `chunks seen: ${r.headers['x-chunks-seen']}`);
  });

  it('a response body rewritten to another length reaches the client whole', async () => {
    const r = await request({ port: px.port, path: '/wrap' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '[inner]');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
  });
});
