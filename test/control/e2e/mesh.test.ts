// The control plane end to end, all real processes on loopback: `wasmesh
// control`, sidecars that register their app as instances of `reviews`
// (v1/v2/v3) and `productpage`, and a gateway. The issue's documents are
// applied verbatim: the 90/10 canary is measured over 2000 requests, then the
// fault VirtualService replaces it live and its 7 s delay is observed.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { request } from '../../support/http';
import { startUpstream, type Upstream } from '../../support/upstream';
import { eventually, startControl, startMeshProxy, type RunningControl, type RunningMeshProxy } from '../../support/control';
import { ISSUE_DESTINATION_RULE_AND_SPLIT, ISSUE_FAULT_VIRTUAL_SERVICE } from '../mesh/fixtures';

const SERVICES = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - name: http
    port: 9080
---
apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: productpage
spec:
  ports:
  - name: http
    port: 9080
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: { number: 8080, name: http, protocol: HTTP }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - uri: { prefix: /productpage }
    route:
    - destination: { host: productpage }
`;

/** Sends `n` requests with 16 in flight; returns the count per response body. */
async function split(port: number, host: string, n: number): Promise<Record<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        next++;
        const r = await request({ port, path: '/reviews/1', headers: { host }, agent });
        const key = r.status === 200 ? r.body.toString() : `status ${r.status}: ${r.body}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return counts;
}

describe('control plane e2e: registry, canary, fault, gateway', () => {
  let cp: RunningControl;
  const apps: Upstream[] = [];
  const sidecars: RunningMeshProxy[] = [];
  let product: RunningMeshProxy;
  let gateway: RunningMeshProxy;

  before(async () => {
    cp = await startControl({ mesh: `${SERVICES}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT}`, grace: '1s' });
    for (const v of ['v1', 'v2', 'v3']) {
      const app = await startUpstream((_req, res) => res.end(v), v);
      apps.push(app);
      sidecars.push(await startMeshProxy(cp, `reviews-${v}-0`, ['--service', 'reviews', '--labels', `version=${v}`, '--app', app.address]));
    }
    const page = await startUpstream((_req, res) => res.end('productpage'));
    apps.push(page);
    product = await startMeshProxy(cp, 'productpage-v1-0', ['--service', 'productpage', '--labels', 'app=productpage,version=v1', '--app', page.address]);
    gateway = await startMeshProxy(cp, 'ingress-0', ['--gateway']);
  });

  after(async () => {
    for (const p of [gateway, product, ...sidecars]) await p?.stop();
    await cp?.stop();
    for (const a of apps) await a.close();
  });

  it('registers every sidecar as an endpoint and shows every proxy SYNCED', async () => {
    await eventually('all SYNCED', async () => {
      const { json } = await cp.api('GET', '/api/v1/proxies');
      return json.proxies.length === 5 && json.proxies.every((p: { status: string }) => p.status === 'SYNCED');
    });
    const { json } = await cp.api('GET', '/api/v1/services');
    const reviews = json.services.find((s: { name: string }) => s.name === 'reviews');
    assert.deepEqual(
      reviews.endpoints.map((e: { labels: { version: string }; source: string; address: string }) => [e.labels.version, e.source, e.address]).sort(),
      sidecars.map((s, i) => [`v${i + 1}`, 'registered', `127.0.0.1:${s.ports.inbound}`]),
    );
    const status = cp.cli(['status']);
    assert.equal(status.status, 0, status.stderr);
    for (const id of ['reviews-v1-0', 'reviews-v2-0', 'reviews-v3-0', 'productpage-v1-0', 'ingress-0']) assert.match(status.stdout, new RegExp(`${id}\\s.*SYNCED`));
  });

  it('splits 2000 requests 90/10 between reviews v1 and v3 (±3%), through the sidecars', async () => {
    const counts = await split(product.ports.outbound!, 'reviews', 2000);
    assert.equal((counts.v1 ?? 0) + (counts.v3 ?? 0), 2000, JSON.stringify(counts));
    const share = (counts.v1 ?? 0) / 2000;
    assert.ok(Math.abs(share - 0.9) <= 0.03, `v1 share ${share} (${JSON.stringify(counts)})`);
  });

  it('routes the gateway by the Gateway and VirtualService bound to it', async () => {
    const r = await request({ port: gateway.ports['gateway-bookinfo-gateway']!, path: '/productpage', headers: { host: 'bookinfo.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'productpage');
    const miss = await request({ port: gateway.ports['gateway-bookinfo-gateway']!, path: '/nothing', headers: { host: 'bookinfo.example' } });
    assert.equal(miss.status, 404);
  });

  it('applies the fault VirtualService live: every proxy ACKs within a second and the 7 s delay is observed', async () => {
    const before = (await cp.api('GET', '/api/v1/proxies')).json.configVersion as number;
    const applied = await cp.api('POST', '/api/v1/apply', { documents: [{ source: 'fault.yaml', text: ISSUE_FAULT_VIRTUAL_SERVICE }], message: 'fault' });
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.deepEqual(applied.json.configured, ['VirtualService/default/reviews']);
    assert.equal(applied.json.version, before + 1);
    await eventually('every proxy ACKed the fault version', async () => {
      const { json } = await cp.api('GET', '/api/v1/proxies');
      return json.proxies.every((p: { status: string; configVersion: number }) => p.status === 'SYNCED' && p.configVersion === applied.json.version);
    }, 1_000);
    const t = Date.now();
    const r = await request({ port: product.ports.outbound!, path: '/reviews/1', headers: { host: 'reviews' }, timeoutMs: 20_000 });
    const took = Date.now() - t;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'v3');
    assert.ok(took >= 6_900 && took < 12_000, `took ${took} ms`);
  });

  it('removes an instance whose process died after the grace period, and one that says bye at once', async () => {
    // Back to a plain route over all versions.
    const all = `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews }
`;
    assert.equal((await cp.api('POST', '/api/v1/apply', { documents: [{ source: 'all.yaml', text: all }] })).status, 200);
    const endpoints = async () => {
      const { json } = await cp.api('GET', '/api/v1/services');
      return json.services.find((s: { name: string }) => s.name === 'reviews').endpoints.map((e: { nodeId: string }) => e.nodeId).sort();
    };
    // SIGSTOP: the stream stays open but heartbeats stop (200 ms interval): removed after 3 intervals.
    sidecars[0]!.proc.kill('SIGSTOP');
    const stalled = await eventually('stalled v1 removed', async () => !(await endpoints()).includes('reviews-v1-0'), 4_000);
    assert.ok(stalled >= 400, `removed after ${stalled} ms`);
    // Resumed, it talks again and is registered again.
    sidecars[0]!.proc.kill('SIGCONT');
    await eventually('v1 back', async () => (await endpoints()).includes('reviews-v1-0'), 8_000);
    // SIGKILL: no bye; its stream closes, and after the grace period (1 s here) it is removed.
    const killed = sidecars[1]!;
    killed.proc.kill('SIGKILL');
    const took = await eventually('v2 removed', async () => !(await endpoints()).includes('reviews-v2-0'), 4_000);
    assert.ok(took >= 800, `removed after ${took} ms, before the grace period`);
    // Once the change reached the client's sidecar (within 1 s), no request goes to the dead instance.
    const dead = killed.ports.inbound!;
    const gone = await eventually('productpage sidecar without v2', async () => {
      const dump = await product.configDump();
      const reviews = dump.config.clusters.find((c: { name: string }) => c.name === 'reviews');
      return !reviews.endpoints.some((e: { port: number }) => e.port === dead);
    }, 1_000);
    assert.ok(gone < 1_000);
    const counts = await split(product.ports.outbound!, 'reviews', 200);
    assert.deepEqual(Object.keys(counts).sort(), ['v1', 'v3'], JSON.stringify(counts));
    // SIGTERM: the sidecar says bye first, and is gone from the service at once.
    const t = Date.now();
    await sidecars[2]!.stop();
    assert.ok(!(await endpoints()).includes('reviews-v3-0'));
    assert.ok(Date.now() - t < 3_000);
  });
});
