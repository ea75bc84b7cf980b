// Every locally generated failure: right status, response flag in
// x-wasmesh-reason, the flag in the access log, and the proxy keeps serving.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { request } from '../support/http';
import { oneClusterConfig, startProxy, tmpDir, type RunningProxy } from '../support/proxy';
import { closedPort, startRawUpstream, startUpstream } from '../support/upstream';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A proxy with an access log in front of one cluster; `cluster` is extra YAML for it. */
async function proxyFor(endpoints: string[], cluster = ''): Promise<RunningProxy & { accessLog: string }> {
  const accessLog = path.join(tmpDir(), 'access.log');
  const px = await startProxy(oneClusterConfig(endpoints, { cluster, top: `accessLog: { path: ${accessLog} }` }));
  cleanups.push(() => px.stop());
  return Object.assign(px, { accessLog });
}

async function logLines(file: string, n: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n) return lines.map((l) => JSON.parse(l));
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`access log ${file} has fewer than ${n} lines`);
}

describe('resilience', () => {
  it('connection refused: 503 UF, logged with the flag', async () => {
    const port = await closedPort();
    const px = await proxyFor([`127.0.0.1:${port}`]);
    const r = await request({ port: px.port, path: '/x' });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'UF');
    const [line] = await logLines(px.accessLog, 1);
    assert.equal(line!.flags, 'UF');
    assert.equal(line!.status, 503);
    assert.equal(line!.upstream_host, `127.0.0.1:${port}`);
    for (const k of ['start_time', 'method', 'path', 'bytes_received', 'bytes_sent', 'duration_ms', 'upstream_duration_ms']) assert.ok(k in line!, k);
  });

  it('connect timeout: 504 UT', async () => {
    // A listener that never accepts: once its backlog is full, further SYNs are dropped and connect() hangs.
    const py = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)']);
    cleanups.push(() => void py.kill());
    const port = await new Promise<number>((r) => py.stdout.once('data', (d) => r(Number(String(d).trim()))));
    const fillers: net.Socket[] = [];
    for (let i = 0; i < 4; i++) fillers.push(net.connect(port, '127.0.0.1').on('error', () => undefined));
    cleanups.push(() => fillers.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 100));
    const px = await proxyFor([`127.0.0.1:${port}`], `connectTimeout: 200ms`);
    const t0 = Date.now();
    const r = await request({ port: px.port });
    assert.equal(r.status, 504);
    assert.equal(r.headers['x-wasmesh-reason'], 'UT');
    assert.ok(Date.now() - t0 < 3000);
  });

  it('request timeout: 504 UT, and the upstream connection is dropped', async () => {
    const up = await startUpstream((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.end('fast');
    });
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address], `timeout: 300ms`);
    const r = await request({ port: px.port, path: '/slow' });
    assert.equal(r.status, 504);
    assert.equal(r.headers['x-wasmesh-reason'], 'UT');
    assert.equal((await request({ port: px.port, path: '/fast' })).body.toString(), 'fast');
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.match(stats, /wasmesh_cluster_upstream_rq_timeout_total\{cluster="web"\} 1/);
  });

  it('no healthy endpoint: 503 UH', async () => {
    const up = await startUpstream((req, res) => res.writeHead(req.url === '/healthz' ? 503 : 200).end('x'));
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address], `healthCheck: { path: /healthz, interval: 50ms, unhealthyThreshold: 1, healthyThreshold: 1 }`);
    let r = await request({ port: px.port });
    for (let i = 0; i < 50 && r.status !== 503; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await request({ port: px.port });
    }
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'UH');
  });

  it('pending requests over maxPendingRequests: 503 UO', async () => {
    const up = await startUpstream((_req, res) => setTimeout(() => res.end('slow'), 400));
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address], `maxConnections: 1\nmaxPendingRequests: 1`);
    const rs = await Promise.all([0, 1, 2, 3].map(() => request({ port: px.port })));
    const codes = rs.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 200, 503, 503]);
    assert.ok(rs.filter((r) => r.status === 503).every((r) => r.headers['x-wasmesh-reason'] === 'UO'));
  });

  it('upstream reset before headers: 503 UC', async () => {
    const up = await startRawUpstream((s) => s.once('data', () => s.destroy()));
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address]);
    const r = await request({ port: px.port });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'UC');
  });

  it('upstream reset during the body: the client sees a truncated response, the log says UC', async () => {
    const up = await startRawUpstream((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
        setTimeout(() => s.destroy(), 50);
      }),
    );
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address]);
    await assert.rejects(request({ port: px.port }));
    const [line] = await logLines(px.accessLog, 1);
    assert.equal(line!.flags, 'UC');
    assert.equal(line!.status, 200);
  });

  it('malformed upstream response: 502 UPE, and the proxy keeps serving', async () => {
    let n = 0;
    const up = await startRawUpstream((s) =>
      s.on('data', () => {
        n++;
        s.write(n === 1 ? 'HTTP/1.1 2x0 Weird\r\nbroken header line\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }),
    );
    cleanups.push(() => up.close());
    const px = await proxyFor([up.address]);
    const r = await request({ port: px.port });
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-wasmesh-reason'], 'UPE');
    const ok = await request({ port: px.port });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'ok');
  });
});
