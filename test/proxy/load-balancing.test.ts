// Each LB policy, observed end to end: which upstream served each request.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { request } from '../support/http';
import { startProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('load balancing through the proxy', () => {
  const ups: Upstream[] = [];
  const stops: (() => Promise<unknown>)[] = [];
  before(async () => {
    for (let i = 0; i < 3; i++) ups.push(await startUpstream((_q, r) => r.end(String(i)), String(i)));
  });
  after(async () => {
    for (const s of stops) await s();
    for (const u of ups) await u.close();
  });

  async function proxy(lb: string, extra = '', workers = 1) {
    const px = await startProxy(
      `admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${ups.map((u) => u.address).join(', ')}]
    lb: ${lb}
${extra}`,
      { workers },
    );
    stops.push(() => px.stop());
    return px;
  }

  async function counts(port: number, n: number, headers?: (i: number) => http.OutgoingHttpHeaders): Promise<number[]> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const c = [0, 0, 0];
    for (let i = 0; i < n; i += 8) {
      const batch = await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, j) => request({ port, agent, headers: headers?.(i + j) })));
      for (const r of batch) c[Number(r.body.toString())]!++;
    }
    agent.destroy();
    return c;
  }

  it('round_robin spreads requests evenly (one worker: exactly)', async () => {
    const px = await proxy('round_robin');
    assert.deepEqual(await counts(px.port, 300), [100, 100, 100]);
  });

  it('random spreads requests roughly evenly', async () => {
    const px = await proxy('random');
    const c = await counts(px.port, 600);
    // Each share is Binomial(600, 1/3): mean 200, sd ~11.5; [140, 260] is > 5 sd.
    for (const x of c) assert.ok(x > 140 && x < 260, `counts ${c}`);
  });

  it('least_request avoids the endpoint that holds slow requests', async () => {
    const slow = await startUpstream((req, res) => (req.url === '/slow' ? setTimeout(() => res.end('s'), 1500) : res.end('s')));
    const fast = await startUpstream((_q, r) => r.end('f'));
    const px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${slow.address}, ${fast.address}]
    lb: least_request
`);
    stops.push(() => px.stop(), () => slow.close(), () => fast.close());
    // Send /slow requests until one is parked on `slow` (P2C picks at random between two idle endpoints; those sent
    // to `fast` finish at once). Once `slow` holds one, P2C never picks it again while `fast` is idle.
    const parked: Promise<unknown>[] = [];
    const slowActive = async () => JSON.parse((await request({ port: px.adminPort, path: '/clusters' })).body.toString())[0].endpoints[0].activeRequests as number;
    for (let i = 0; i < 30 && (await slowActive()) < 1; i++) {
      parked.push(request({ port: px.port, path: '/slow' }));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await slowActive(), 1, 'exactly one request parked on the slow endpoint');
    const before = slow.hits;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 40; i++) await request({ port: px.port, path: '/quick', agent });
    agent.destroy();
    const toSlow = slow.hits - before;
    await Promise.all(parked);
    // With two endpoints P2C always compares both and picks the one with fewer active requests;
    // random or round robin would send about 20 of 40 here.
    assert.ok(toSlow <= 1, `slow endpoint got ${toSlow} of 40 while busy`);
  });

  for (const lb of ['ring_hash', 'maglev']) {
    it(`${lb} sends the same key to the same endpoint, across workers`, async () => {
      const px = await proxy(lb, '    hashOn: header:x-user', 2);
      const owner = new Map<string, string>();
      for (let round = 0; round < 3; round++) {
        for (let u = 0; u < 30; u++) {
          const r = await request({ port: px.port, headers: { 'x-user': `user-${u}` } });
          const prev = owner.get(`user-${u}`);
          if (prev !== undefined) assert.equal(r.body.toString(), prev, `user-${u} moved`);
          owner.set(`user-${u}`, r.body.toString());
        }
      }
      assert.ok(new Set(owner.values()).size >= 2, 'keys spread over more than one endpoint');
    });
  }
});
