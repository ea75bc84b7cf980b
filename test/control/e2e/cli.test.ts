// The operator CLI against a real control plane (and a real sidecar, so a
// change that would break a connected proxy is refused): apply with a
// FilterBundle module uploaded by path, atomic rejection with file:line
// messages, get, history, rollback, delete, the token.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, tmpDir } from '../../support/proxy';
import { startUpstream, type Upstream } from '../../support/upstream';
import { buildFixture } from '../../support/fixture-filters';
import { eventually, startControl, startMeshProxy, type RunningControl, type RunningMeshProxy } from '../../support/control';

const SERVICE = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: web
spec:
  ports:
  - name: http
    port: 8080
`;

describe('control plane e2e: the operator CLI', () => {
  let cp: RunningControl;
  let app: Upstream;
  let sidecar: RunningMeshProxy;
  const dir = tmpDir();
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  before(async () => {
    cp = await startControl({ mesh: SERVICE });
    app = await startUpstream((_req, res) => res.end('web'));
    sidecar = await startMeshProxy(cp, 'web-0', ['--service', 'web', '--labels', 'version=v1', '--app', app.address]);
  });

  after(async () => {
    await sidecar?.stop();
    await cp?.stop();
    await app?.close();
  });

  it('applies resources, uploading a FilterBundle module given by path, and every proxy takes it', async () => {
    fs.copyFileSync(await buildFixture('stamp'), path.join(dir, 'stamp.wasm'));
    const file = write('mesh.yaml', `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: web
spec:
  host: web
  subsets:
  - name: v1
    labels: { version: v1 }
---
apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata:
  name: stamp
spec:
  version: "1.0.0"
  module: stamp.wasm
  rootId: stamp
  pluginConfig: { stamp: cli }
`);
    const r = cp.cli(['apply', '-f', file, '-m', 'add stamp']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /destinationrule\/web created/);
    assert.match(r.stdout, /filterbundle\/stamp created/);
    assert.match(r.stdout, /version 2/);
    const filters = cp.cli(['get', 'filters', '-o', 'json']);
    const f = JSON.parse(filters.stdout).filters[0];
    assert.equal(f.name, 'stamp');
    assert.equal(f.present, true);
    await eventually('sidecar took the bundle', async () => {
      const dump = await sidecar.configDump();
      return dump.control.version !== null && dump.filters.some((x: { name: string }) => x.name === 'bundle-stamp');
    });
    // Applying the same file again changes nothing.
    const again = cp.cli(['apply', '-f', file]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);
  });

  it('refuses a bad apply atomically, with every problem at file:line:path', () => {
    const bad = write('bad.yaml', `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: web
spec:
  hosts: [web]
  http:
  - route:
    - destination: { host: web, subset: v9 }
---
apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: extra
spec:
  portz: []
`);
    const r = cp.cli(['apply', '-f', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:9: spec\\.http\\[0\\]\\.route\\[0\\]\\.destination\\.subset: unknown subset "v9"`));
    assert.match(r.stderr, /:16: spec\.portz: unknown field/);
    assert.equal(cp.cli(['get', 'services', '-o', 'json']).stdout.includes('"extra"'), false, 'nothing applied');
  });

  it('lists history, rolls back to a version as a new one, and deletes', async () => {
    const h = cp.cli(['history']);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /add stamp/);
    const rb = cp.cli(['rollback', '1']);
    assert.equal(rb.status, 0, rb.stderr);
    assert.match(rb.stdout, /version 3/);
    assert.equal((await cp.api('GET', '/api/v1/config')).json.rollbackOf, 1);
    await eventually('sidecar lost the bundle', async () => !(await sidecar.configDump()).filters.some((x: { name: string }) => x.name === 'bundle-stamp'));
    const del = cp.cli(['delete', '-f', write('svc.yaml', SERVICE)]);
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /service\/web deleted/);
    assert.equal(cp.cli(['get', 'services', '-o', 'json']).stdout.includes('"web"'), false);
  });

  it('needs the token, on the API and on the proxy stream', async () => {
    const r = spawnSync(process.execPath, [BIN, 'get', 'proxies', '--control', cp.http, '--token', 'x'.repeat(32)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /wrong token/);
    const stranger = spawn(process.execPath, [BIN, 'proxy', '--control', cp.url, '--token', 'y'.repeat(32), '--node-id', 'stranger', '--no-supervisor', '--workers', '1', '--admin', '127.0.0.1:0', '--outbound', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    stranger.stderr!.on('data', (d) => (out += d));
    try {
      await eventually('refused', () => /answered 401 to the stream upgrade \(wrong or missing token\)/.test(out), 5_000);
      assert.equal((await cp.api('GET', '/api/v1/proxies')).json.proxies.some((p: { nodeId: string }) => p.nodeId === 'stranger'), false);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
