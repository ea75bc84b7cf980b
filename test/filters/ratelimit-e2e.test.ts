// The built-in ratelimit filter in a real proxy with 2 workers: the buckets
// live in shared data, so the limit is exact across workers.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { request, type Res } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('ratelimit end to end, 2 workers', () => {
  let web: Upstream;
  let px: RunningProxy;

  before(async () => {
    web = await startUpstream((_req, res) => res.end('ok'));
    // Per hour, so refill during the test (under a token) cannot blur the count.
    const global = { descriptors: [{ key: 'const:global', requestsPerUnit: 50, unit: 'hour', burst: 50 }] };
    const perKey = { descriptors: [{ key: 'header:x-api-key', requestsPerUnit: 5, unit: 'minute' }] };
    px = await startProxy(
      `admin: { address: 127.0.0.1:0 }
listeners:
  - name: global
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: ratelimit, module: builtin:ratelimit, vmId: rl-global, config: ${JSON.stringify(global)} }
  - name: keyed
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: ratelimit-keyed, module: builtin:ratelimit, vmId: rl-keyed, config: ${JSON.stringify(perKey)} }
clusters:
  - { name: web, endpoints: [${web.address}] }
`,
      { workers: 2 },
    );
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it('80 concurrent requests against 50 tokens: exactly 50 x 200 and 30 x 429', async () => {
    // A new connection per request, so the kernel spreads them over both workers.
    const results = await Promise.all(Array.from({ length: 80 }, () => request({ port: px.ports.global!, path: '/' })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(ok.length, 50);
    assert.equal(limited.length, 30);
    assert.equal(web.hits, 50);
    for (const r of limited) {
      assert.equal(r.headers['x-wasmesh-reason'], 'RL');
      assert.equal(r.headers['x-ratelimit-limit'], '50');
      assert.equal(r.headers['x-ratelimit-remaining'], '0');
      assert.ok(Number(r.headers['retry-after']) >= 71, `retry-after ${r.headers['retry-after']}`);
    }
    const remaining = ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((a, b) => a - b);
    assert.deepEqual(remaining, Array.from({ length: 50 }, (_, i) => i), 'each token handed out once');
    assert.ok(ok.every((r) => r.headers['x-ratelimit-limit'] === '50'));
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    const value = (name: string) => Number(stats.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ').pop());
    assert.equal(value('wasmesh_filter_ratelimit_rq_allowed'), 50);
    assert.equal(value('wasmesh_filter_ratelimit_rq_limited'), 30);
  });

  it('per-key buckets are isolated, and shared by both workers', async () => {
    const port = px.ports.keyed!;
    const burst = (key: string): Promise<Res[]> =>
      Promise.all(Array.from({ length: 12 }, () => request({ port, path: '/', headers: { 'x-api-key': key } })));
    const [a, b] = await Promise.all([burst('a'), burst('b')]);
    for (const rs of [a!, b!]) {
      assert.equal(rs.filter((r) => r.status === 200).length, 5);
      assert.equal(rs.filter((r) => r.status === 429).length, 7);
    }
    const anonymous = await Promise.all(Array.from({ length: 8 }, () => request({ port, path: '/' })));
    assert.ok(anonymous.every((r) => r.status === 200), 'no x-api-key: not limited by that descriptor');
  });
});
