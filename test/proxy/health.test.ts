// Active health checks and outlier detection, end to end.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { request } from '../support/http';
import { startProxy } from '../support/proxy';
import { startUpstream } from '../support/upstream';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function clusters(adminPort: number): Promise<{ address: string; healthy: boolean; ejected: boolean }[]> {
  return JSON.parse((await request({ port: adminPort, path: '/clusters' })).body.toString())[0].endpoints;
}

async function until(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(25);
  }
  return false;
}

describe('endpoint health', () => {
  it('active health checks take a failing endpoint out and bring it back', async () => {
    let aHealthy = true;
    const a = await startUpstream((req, res) => res.writeHead(req.url === '/healthz' && !aHealthy ? 503 : 200).end('a'));
    const b = await startUpstream((_q, res) => res.end('b'));
    cleanups.push(() => a.close(), () => b.close());
    const px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${a.address}, ${b.address}]
    healthCheck: { path: /healthz, interval: 50ms, unhealthyThreshold: 2, healthyThreshold: 2 }
`);
    cleanups.push(() => px.stop());
    aHealthy = false;
    assert.ok(await until(async () => !(await clusters(px.adminPort))[0]!.healthy, 3000), 'a marked unhealthy');
    for (let i = 0; i < 10; i++) assert.equal((await request({ port: px.port })).body.toString(), 'b');
    aHealthy = true;
    assert.ok(await until(async () => (await clusters(px.adminPort))[0]!.healthy, 3000), 'a healthy again');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await request({ port: px.port })).body.toString());
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  it('outlier detection ejects after consecutive 5xx and returns the endpoint after the ejection time', async () => {
    let failing = true;
    const a = await startUpstream((_q, res) => res.writeHead(failing ? 500 : 200).end('a'));
    const b = await startUpstream((_q, res) => res.end('b'));
    cleanups.push(() => a.close(), () => b.close());
    const px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${a.address}, ${b.address}]
    outlierDetection: { consecutive5xx: 3, interval: 100ms, baseEjectionTime: 700ms, maxEjectionPercent: 50 }
`);
    cleanups.push(() => px.stop());
    let fivexx = 0;
    for (let i = 0; i < 6; i++) if ((await request({ port: px.port })).status === 500) fivexx++;
    assert.equal(fivexx, 3, 'a served 3 failures (round robin), then was ejected');
    const eps = await clusters(px.adminPort);
    assert.equal(eps[0]!.ejected, true);
    for (let i = 0; i < 6; i++) assert.equal((await request({ port: px.port })).body.toString(), 'b');
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.match(stats, /wasmesh_cluster_outlier_ejected\{cluster="web"\} 1/);
    failing = false;
    assert.ok(await until(async () => !(await clusters(px.adminPort))[0]!.ejected, 3000), 'returned after the ejection time');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request({ port: px.port })).body.toString());
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });
});
