// The fault filter in a real proxy (module: builtin:fault): a delay observed
// with timing (Istio's 7 s example scaled down to 300 ms), an abort with
// x-wasmesh-reason FI, header matching, and delay followed by abort.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

const DELAY_MS = 300;

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

async function timed(port: number, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; ms: number; reason: unknown; body: string; upstream: unknown }> {
  const t0 = performance.now();
  const r = await request({ port, path, headers });
  return { status: r.status, ms: performance.now() - t0, reason: r.headers['x-wasmesh-reason'], body: r.body.toString(), upstream: r.headers['x-upstream'] };
}

describe('fault filter (end to end)', () => {
  let web: Upstream;
  let px: RunningProxy;

  before(async () => {
    web = await startUpstream((req, res) => {
      if (req.url !== '/echo') return void res.end('upstream\n');
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`echo ${n}\n`));
    }, 'web');
    const listener = (name: string, config: object): string => `  - name: ${name}
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - name: fault
        module: builtin:fault
        config: ${JSON.stringify(config)}
`;
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
${listener('delay', { delay: { fixedDelayMs: DELAY_MS, percentage: 100 }, headers: [{ name: 'end-user', exact: 'jason' }] })}${listener('abort', { abort: { httpStatus: 503, percentage: 100 } })}${listener('both', { delay: { fixedDelay: `${DELAY_MS}ms` }, abort: { httpStatus: 500 } })}${listener('half', { abort: { httpStatus: 429, percentage: 50 } })}clusters:
  - { name: web, endpoints: [${web.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it(`delay: a matching request is held ${DELAY_MS} ms, then reaches the upstream`, async () => {
    const hits = web.hits;
    const fast = await timed(px.ports.delay!, '/', { 'end-user': 'bob' });
    assert.equal(fast.status, 200);
    assert.ok(fast.ms < DELAY_MS / 2, `a request that does not match is not delayed (${fast.ms.toFixed(0)} ms)`);
    const slow = await timed(px.ports.delay!, '/', { 'end-user': 'jason' });
    assert.equal(slow.status, 200);
    assert.equal(slow.body, 'upstream\n');
    assert.ok(slow.ms >= DELAY_MS - 5 && slow.ms < DELAY_MS + 1000, `delayed ${slow.ms.toFixed(0)} ms`);
    assert.equal(web.hits - hits, 2);
  });


  it('a request body waits out the delay and reaches the upstream whole', async () => {
    const body = 'x'.repeat(50_000);
    const t0 = performance.now();
    const r = await request({ port: px.ports.delay!, path: '/echo', method: 'POST', body, headers: { 'end-user': 'jason' } });
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), `echo ${body.length}\n`);
    assert.ok(ms >= DELAY_MS - 5, `${ms.toFixed(0)} ms`);
  });

  it('delays are concurrent: requests do not queue behind each other', async () => {
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 5 }, () => timed(px.ports.delay!, '/', { 'end-user': 'jason' })));
    const total = performance.now() - t0;
    assert.ok(rs.every((r) => r.status === 200));
    assert.ok(total < DELAY_MS * 2.5, `5 concurrent delayed requests took ${total.toFixed(0)} ms`);
  });

  it('abort: 503 with x-wasmesh-reason FI and body "fault filter abort"; the upstream is not called', async () => {
    const hits = web.hits;
    const r = await timed(px.ports.abort!);
    assert.equal(r.status, 503);
    assert.equal(r.reason, 'FI');
    assert.equal(r.body, 'fault filter abort');
    assert.equal(r.upstream, undefined);
    assert.equal(web.hits, hits);
  });

  it('delay and abort: the abort arrives after the delay, and the upstream is not called', async () => {
    const hits = web.hits;
    const r = await timed(px.ports.both!);
    assert.equal(r.status, 500);
    assert.equal(r.reason, 'FI');
    assert.ok(r.ms >= DELAY_MS - 5 && r.ms < DELAY_MS + 1000, `aborted after ${r.ms.toFixed(0)} ms`);
    assert.equal(web.hits, hits);
  });

  it('a client that leaves during delay + abort does not disturb the next request', async () => {
    const port = px.ports.both!;
    await request({ port, timeoutMs: 50 }).catch(() => undefined); // gives up during the delay
    const r = await timed(port);
    assert.equal(r.status, 500);
    assert.ok(r.ms >= DELAY_MS - 5, `${r.ms.toFixed(0)} ms`);
  });

  it('abort at 50%: roughly half of 200 requests', async () => {
    let aborted = 0;
    for (let i = 0; i < 200; i++) {
      const r = await request({ port: px.ports.half! });
      if (r.status === 429) {
        aborted++;
        assert.equal(r.headers['x-wasmesh-reason'], 'FI');
      } else assert.equal(r.status, 200);
    }
    // 200 draws at p = 0.5: sd 7; allow 5 sd.
    assert.ok(aborted > 65 && aborted < 135, `${aborted} of 200 aborted`);
  });

  it('counters are exported', async () => {
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.ok(metric(stats, 'wasmesh_filter_fault_delays_injected') >= 10, stats.split('\n').filter((l) => l.includes('fault')).join('\n'));
    assert.ok(metric(stats, 'wasmesh_filter_fault_aborts_injected') >= 70);
  });
});
