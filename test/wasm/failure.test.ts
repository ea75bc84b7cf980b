// A filter that traps, loops forever or runs out of memory fails only the
// request it was serving, per its failure policy; the proxy keeps serving, the
// VM is recreated, counters record it, and a filter that keeps failing is
// quarantined (visible in /stats and /config_dump).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildFixture } from '../support/fixture-filters';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

describe('filter failures', () => {
  let web: Upstream;
  let px: RunningProxy;
  const seen: (string | undefined)[] = [];

  before(async () => {
    const wasm = await buildFixture('misbehave');
    web = await startUpstream((req, res) => {
      seen.push(req.headers['x-misbehave'] as string | undefined);
      res.end('ok');
    });
    const listener = (name: string, policy: string, extra = '') => `  - name: ${name}
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: misbehave, module: ${wasm}, failurePolicy: ${policy}, vmId: ${name}, executionBudget: 2000000, maxMemory: 8MiB${extra} }
`;
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
${listener('closed', 'failClosed')}${listener('open', 'failOpen')}${listener('reload', 'reload')}${listener('quarantine', 'failClosed')}clusters:
  - { name: web, endpoints: [${web.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it('failClosed: a trap answers that request 503 WF; the next request gets a fresh VM', async () => {
    const port = px.ports.closed!;
    const r = await request({ port, path: '/trap' });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'WF');
    const ok = await request({ port, path: '/fine' });
    assert.equal(ok.status, 200);
    assert.equal(seen.at(-1), 'ok', 'the recreated VM ran the filter');
    assert.match(px.output(), /filter "misbehave" trapped/);
  });

  it('a callback that never returns is stopped by its execution budget', async () => {
    const port = px.ports.closed!;
    const t0 = Date.now();
    const r = await request({ port, path: '/loop', timeoutMs: 10_000 });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'WF');
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    assert.equal((await request({ port, path: '/fine' })).status, 200);
    assert.match(px.output(), /exceeded its execution budget \(2000000 units\) \[WASM_BUDGET_EXHAUSTED\]/);
  });

  it('running out of memory at the cap is a failure like any trap', async () => {
    const port = px.ports.closed!;
    const r = await request({ port, path: '/oom' });
    assert.equal(r.status, 503);
    assert.equal((await request({ port, path: '/fine' })).status, 200);
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    const lb = 'listener="closed",filter="misbehave"';
    assert.equal(metric(stats, 'wasmesh_wasm_filter_traps_total', lb), 3);
    assert.equal(metric(stats, 'wasmesh_wasm_filter_budget_exhausted_total', lb), 1);
    assert.equal(metric(stats, 'wasmesh_wasm_filter_out_of_memory_total', lb), 1);
    assert.equal(metric(stats, 'wasmesh_wasm_filter_rq_failed_closed_total', lb), 3);
    assert.equal(metric(stats, 'wasmesh_wasm_filter_vm_starts_total', lb), 4);
  });

  it('failOpen: the failing request goes on without the filter', async () => {
    const before = seen.length;
    const r = await request({ port: px.ports.open!, path: '/trap' });
    assert.equal(r.status, 200);
    assert.equal(seen.length, before + 1);
    assert.equal(seen.at(-1), undefined, 'the filter did not touch the request');
  });

  it('reload: the request is replayed once on a fresh VM', async () => {
    const r = await request({ port: px.ports.reload!, path: '/trap-once' });
    assert.equal(r.status, 200);
    assert.equal(seen.at(-1), 'ok');
    const again = await request({ port: px.ports.reload!, path: '/trap' });
    assert.equal(again.status, 503, 'a trap on the fresh VM too fails closed');
  });

  it('a filter that keeps trapping is quarantined, visibly', async () => {
    const port = px.ports.quarantine!;
    for (let i = 0; i < 5; i++) assert.equal((await request({ port, path: '/trap' })).status, 503);
    const r = await request({ port, path: '/fine' });
    assert.equal(r.status, 503, 'quarantined: no VM runs, the policy answers');
    assert.equal(r.headers['x-wasmesh-reason'], 'WF');
    const dump = JSON.parse((await request({ port: px.adminPort, path: '/config_dump' })).body.toString());
    const q = dump.filters.find((f: { listener: string }) => f.listener === 'quarantine');
    assert.equal(q.quarantinedWorkers, 1);
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.equal(metric(stats, 'wasmesh_wasm_filter_quarantined', 'listener="quarantine",filter="misbehave"'), 1);
    // The other listeners' copies of the same module are unaffected.
    assert.equal((await request({ port: px.ports.closed!, path: '/fine' })).status, 200);
  });
});
