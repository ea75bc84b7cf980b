// Filter bundles under load, all real processes: a gateway in front of a
// sidecar'd app, a FilterBundle (the `stamp` fixture, built with the SDK)
// swapped 20 times while requests flow, the control plane SIGKILLed and
// restarted mid-load, and a bundle every proxy refuses (NACK). No request may
// fail, and the client's count must equal the app's.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { request } from '../../support/http';
import { startUpstream, type Upstream } from '../../support/upstream';
import { buildFixture } from '../../support/fixture-filters';
import { eventually, startControl, startMeshProxy, type RunningControl, type RunningMeshProxy } from '../../support/control';

const MESH = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: web
spec:
  ports:
  - name: http
    port: 8080
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: edge
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
  name: web
spec:
  hosts: ["*"]
  gateways: [edge]
  http:
  - route:
    - destination: { host: web }
`;

function bundleDoc(sha: string, stamp: string): string {
  return `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata:
  name: stamp
spec:
  version: "${stamp}"
  sha256: ${sha}
  rootId: stamp
  selector:
    matchLabels: { istio: ingressgateway }
  pluginConfig: { stamp: "${stamp}" }
`;
}

/** `wasm` with a custom section appended: the same filter, a different bundle (a rebuild). */
function variant(wasm: Buffer, tag: string): Buffer {
  const name = Buffer.from('wasmesh-test');
  const payload = Buffer.from(tag);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  assert.ok(body.length < 128);
  return Buffer.concat([wasm, Buffer.from([0, body.length]), body]);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Constant load: `workers` loops of sequential requests until stopped. */
function load(port: number, workers = 6): { stop(): Promise<{ ok: number; failed: string[]; stamps: Set<string> }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const stamps = new Set<string>();
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const r = await request({ port, path: '/', headers: { host: 'web' }, agent, timeoutMs: 10_000 });
        if (r.status === 200) {
          ok++;
          stamps.add(String(r.headers['x-stamp']));
        } else failed.push(`${r.status} ${r.headers['x-wasmesh-flags'] ?? ''} ${r.body}`);
      } catch (e) {
        failed.push((e as Error).message);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failed, stamps };
    },
  };
}

describe('control plane e2e: hot swap, restart, NACK', () => {
  let cp: RunningControl;
  let app: Upstream;
  let sidecar: RunningMeshProxy;
  let gateway: RunningMeshProxy;
  let stampWasm: Buffer;
  let gwPort: number;

  const applyBundle = async (bytes: Buffer, stamp: string) => {
    const sha = sha256(bytes);
    const put = await fetch(`${cp.http}/api/v1/bundles/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${cp.token}` }, body: bytes });
    assert.ok(put.status === 201 || put.status === 200, await put.text());
    const r = await cp.api('POST', '/api/v1/apply', { documents: [{ source: `stamp-${stamp}.yaml`, text: bundleDoc(sha, stamp) }] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.version as number;
  };
  const gatewayState = async () => (await cp.api('GET', '/api/v1/proxies')).json.proxies.find((p: { nodeId: string }) => p.nodeId === 'gw-0');

  before(async () => {
    stampWasm = fs.readFileSync(await buildFixture('stamp'));
    cp = await startControl({ mesh: MESH });
    app = await startUpstream((_req, res) => res.end('web'));
    sidecar = await startMeshProxy(cp, 'web-0', ['--service', 'web', '--labels', 'app=web', '--app', app.address]);
    gateway = await startMeshProxy(cp, 'gw-0', ['--gateway'], { workers: 2 });
    gwPort = gateway.ports['gateway-edge']!;
    await applyBundle(variant(stampWasm, 'initial'), 's0');
    await eventually('stamp s0 served', async () => (await request({ port: gwPort, path: '/', headers: { host: 'web' } })).headers['x-stamp'] === 's0');
  });

  after(async () => {
    await gateway?.stop();
    await sidecar?.stop();
    await cp?.stop();
    await app?.close();
  });

  it('swaps the bundle 20 times under constant load with 0 failed requests', async () => {
    const hitsBefore = app.hits;
    const l = load(gwPort);
    const applyMs: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const version = await applyBundle(variant(stampWasm, `swap-${i}`), `s${i}`);
      await eventually(`swap ${i} ACKed`, async () => {
        const g = await gatewayState();
        return g.status === 'SYNCED' && g.configVersion === version;
      }, 5_000);
      applyMs.push((await gateway.configDump()).control.lastApplyMs);
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await l.stop();
    assert.deepEqual(res.failed, []);
    assert.ok(res.ok > 100, `only ${res.ok} requests`);
    assert.equal(app.hits - hitsBefore, res.ok, "the app's count equals the client's");
    assert.ok(res.stamps.size >= 10, `responses carried ${res.stamps.size} different stamps: ${[...res.stamps].join(',')}`);
    assert.equal((await request({ port: gwPort, path: '/', headers: { host: 'web' } })).headers['x-stamp'], 's20');
    // Every bundle was fetched once and cached on the gateway's disk, keyed by sha256.
    assert.equal((await gateway.configDump()).control.bundlesFetched, 21);
    assert.ok(Math.max(...applyMs) < 200 * 5, `apply times ${applyMs.join(',')} ms`);
  });

  it('keeps serving with 0 failed requests while the control plane is killed and restarted, and resyncs', async () => {
    const hitsBefore = app.hits;
    const l = load(gwPort);
    await new Promise((r) => setTimeout(r, 300));
    await cp.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_000));
    cp = await startControl({ dataDir: cp.dataDir, port: cp.port });
    await eventually('both proxies reconnected and SYNCED', async () => {
      const { json } = await cp.api('GET', '/api/v1/proxies');
      return json.proxies.length === 2 && json.proxies.every((p: { status: string }) => p.status === 'SYNCED');
    }, 10_000);
    // The restored mesh still routes, and a change after the restart reaches the gateway.
    const version = await applyBundle(variant(stampWasm, 'after-restart'), 'after-restart');
    let probes = 0;
    await eventually('after-restart served', async () => {
      probes++;
      return (await request({ port: gwPort, path: '/', headers: { host: 'web' } })).headers['x-stamp'] === 'after-restart';
    });
    const res = await l.stop();
    assert.deepEqual(res.failed, []);
    assert.equal(app.hits - hitsBefore, res.ok + probes);
    assert.equal((await gatewayState()).configVersion, version);
    const history = await cp.api('GET', '/api/v1/history');
    assert.equal(history.json.current, version);
  });

  it('NACK: a bundle the proxy cannot load leaves it on its previous version, and status says why', async () => {
    const before = await gatewayState();
    // Valid WebAssembly (the control plane accepts it) but not a proxy-wasm filter.
    const notAFilter = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const version = await applyBundle(notAFilter, 'broken');
    await eventually('NACKED', async () => (await gatewayState()).status === 'NACKED', 5_000);
    const g = await gatewayState();
    assert.equal(g.nacked, g.pushed);
    assert.equal(g.acked, before.acked);
    assert.match(g.error, /not a proxy-wasm module/);
    const status = cp.cli(['status']);
    assert.match(status.stdout, /gw-0\s.*NACKED/);
    assert.match(status.stdout, /not a proxy-wasm module/);
    const r = await request({ port: gwPort, path: '/', headers: { host: 'web' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-stamp'], 'after-restart', 'the previous bundle still serves');
    const metrics = (await request({ port: gateway.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.match(metrics, /wasmesh_control_updates_total\{result="nack"\} 1/);
    // The sidecar (no bundle applies to it) is unaffected.
    assert.equal((await cp.api('GET', '/api/v1/proxies')).json.proxies.find((p: { nodeId: string }) => p.nodeId === 'web-0').status, 'SYNCED');
    assert.ok(version > before.configVersion);
    // Fixing the bundle brings it back to SYNCED.
    await applyBundle(variant(stampWasm, 'fixed'), 'fixed');
    await eventually('SYNCED again', async () => (await gatewayState()).status === 'SYNCED', 5_000);
  });

  it('NACK from the workers: a filter that refuses its config in onConfigure aborts the version on both workers', async () => {
    const misbehave = fs.readFileSync(await buildFixture('misbehave'));
    const sha = sha256(misbehave);
    const put = await fetch(`${cp.http}/api/v1/bundles/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${cp.token}` }, body: misbehave });
    assert.ok(put.ok);
    const doc = bundleDoc(sha, 'refused').replace('rootId: stamp', 'rootId: misbehave').replace('pluginConfig: { stamp: "refused" }', 'pluginConfig: { refuse: true }');
    const before = await gatewayState();
    assert.equal((await cp.api('POST', '/api/v1/apply', { documents: [{ source: 'refuse.yaml', text: doc }] })).status, 200);
    await eventually('NACKED', async () => (await gatewayState()).status === 'NACKED', 5_000);
    const g = await gatewayState();
    assert.equal(g.acked, before.acked);
    assert.match(g.error, /worker \d: .*refus/i);
    const r = await request({ port: gwPort, path: '/', headers: { host: 'web' } });
    assert.equal(r.headers['x-stamp'], 'fixed', 'both workers still serve the previous version');
  });
});
