// 1 GiB through the proxy each way, streamed with backpressure: the proxy's
// peak RSS must stay far below the body size.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { request } from '../support/http';
import { oneClusterConfig, startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

const GIB = 1024 * 1024 * 1024;
const BLOCK = randomBytes(1024 * 1024);
const RSS_LIMIT_MB = 200;

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

function expectedSha(): string {
  const h = createHash('sha256');
  for (let i = 0; i < GIB / BLOCK.length; i++) h.update(BLOCK);
  return h.digest('hex');
}

describe('1 GiB bodies with bounded memory', () => {
  let up: Upstream;
  let px: RunningProxy;
  let pid = 0;
  const want = expectedSha();

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.method === 'POST') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ n, sha: h.digest('hex') })));
        return;
      }
      res.setHeader('content-length', GIB);
      let sent = 0;
      const pump = () => {
        while (sent < GIB) {
          sent += BLOCK.length;
          if (!res.write(BLOCK)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    px = await startProxy(oneClusterConfig([up.address], { cluster: 'timeout: 120s' }));
    pid = JSON.parse((await request({ port: px.adminPort, path: '/server_info' })).body.toString()).pid;
  });
  after(async () => {
    await px?.stop();
    await up?.close();
  });

  it('downloads 1 GiB intact', async () => {
    const got = await new Promise<{ n: number; sha: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: px.port, path: '/big', agent: false }, (res) => {
        const h = createHash('sha256');
        let n = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        res.on('end', () => resolve({ n, sha: h.digest('hex') }));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.equal(got.n, GIB);
    assert.equal(got.sha, want);
    assert.ok(peakRssMb(pid) < RSS_LIMIT_MB, `proxy peak RSS ${peakRssMb(pid)} MB`);
  });

  // uWS 20.30 parses at most 9 digits of a request Content-Length (see
  // docs/operations.md), so a body this large has to arrive chunked.
  it('uploads 1 GiB (chunked) intact', async () => {
    const got = await new Promise<{ n: number; sha: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: px.port, path: '/up', method: 'POST', headers: { 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(JSON.parse(s)));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < GIB) {
          sent += BLOCK.length;
          if (!req.write(BLOCK)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(got.n, GIB);
    assert.equal(got.sha, want);
    assert.ok(peakRssMb(pid) < RSS_LIMIT_MB, `proxy peak RSS ${peakRssMb(pid)} MB`);
  });
});
