// Body integrity in both directions: content-length and chunked framing,
// checked by sha256 of random 10 MiB bodies; plus Expect: 100-continue.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { oneClusterConfig, startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

const SIZE = 10 * 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('body integrity', () => {
  let up: Upstream;
  let px: RunningProxy;
  const download = randomBytes(SIZE);

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url === '/echo-hash') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ sha: h.digest('hex'), n, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null })));
        return;
      }
      if (req.url === '/download-cl') {
        res.setHeader('content-length', SIZE);
        res.end(download);
        return;
      }
      if (req.url === '/download-chunked') {
        // Several writes without a length: node uses chunked encoding.
        for (let off = 0; off < SIZE; off += 1 << 20) res.write(download.subarray(off, off + (1 << 20)));
        res.end();
        return;
      }
      res.end();
    });
    px = await startProxy(oneClusterConfig([up.address]));
  });
  after(async () => {
    await px?.stop();
    await up?.close();
  });

  function upload(body: Buffer, chunked: boolean): Promise<{ sha: string; n: number; te: string | null; cl: string | null }> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length };
      const req = http.request({ host: '127.0.0.1', port: px.port, path: '/echo-hash', method: 'POST', headers, agent: false }, (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(JSON.parse(s)));
      });
      req.on('error', reject);
      for (let off = 0; off < body.length; off += 256 * 1024) req.write(body.subarray(off, off + 256 * 1024));
      req.end();
    });
  }

  function get(path: string): Promise<{ body: Buffer; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: px.port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ body: Buffer.concat(chunks), headers: res.headers }));
      }).on('error', reject);
    });
  }

  it('uploads 10 MiB with content-length intact', async () => {
    const body = randomBytes(SIZE);
    const r = await upload(body, false);
    assert.equal(r.n, SIZE);
    assert.equal(r.sha, sha(body));
    assert.equal(r.cl, String(SIZE));
  });

  it('uploads 10 MiB chunked intact, and re-frames it as chunked upstream', async () => {
    const body = randomBytes(SIZE);
    const r = await upload(body, true);
    assert.equal(r.n, SIZE);
    assert.equal(r.sha, sha(body));
    assert.equal(r.te, 'chunked');
  });

  it('downloads 10 MiB with content-length intact', async () => {
    const r = await get('/download-cl');
    assert.equal(r.headers['content-length'], String(SIZE));
    assert.equal(sha(r.body), sha(download));
  });

  it('downloads 10 MiB chunked intact', async () => {
    const r = await get('/download-chunked');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(sha(r.body), sha(download));
  });

  it('answers Expect: 100-continue and then forwards the body', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const s = net.connect(px.port, '127.0.0.1', () => s.write('POST /echo-hash HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n'));
      let buf = '';
      let sent = false;
      s.on('data', (d) => {
        buf += d;
        if (!sent && buf.startsWith('HTTP/1.1 100')) {
          sent = true;
          s.write('hello');
        }
      });
      s.on('close', () => resolve(buf));
      s.on('error', reject);
      setTimeout(() => s.destroy(), 5000);
    });
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.ok(out.includes(sha(Buffer.from('hello'))), out);
  });
});
