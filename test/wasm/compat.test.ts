// Filters compiled with another proxy-wasm SDK run unchanged: the older
// AssemblyScript SDK on the npm registry (@solo-io/proxy-runtime 0.1.8,
// ABI 0.2.0), including one that uses proxy_http_call.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildCompatFilters } from '../support/compat-filters';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('proxy-wasm filters from another SDK', () => {
  let web: Upstream;
  let auth: Upstream;
  let px: RunningProxy;
  const seen: Record<string, string | undefined>[] = [];

  before(async () => {
    const wasm = await buildCompatFilters();
    web = await startUpstream((req, res) => {
      seen.push({ solo: req.headers['x-solo-request'] as string, verdict: req.headers['x-auth-verdict'] as string });
      res.end('hello from web');
    });
    auth = await startUpstream((req, res) => {
      const user = new URL(req.url!, 'http://x').searchParams.get('user');
      res.statusCode = user === 'alice' ? 200 : 403;
      res.end(user === 'alice' ? 'ok-alice' : `no-${user}`);
    });
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: auth, module: ${wasm.httpcall}, rootId: auth }
      - { name: addheader, module: ${wasm.addheader}, rootId: add_header, config: from-config }
clusters:
  - { name: web, endpoints: [${web.address}] }
  - { name: auth, endpoints: [${auth.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
    await auth?.close();
  });

  it('runs the solo-io add-header filter: request and response headers, plugin configuration', async () => {
    const r = await request({ port: px.port, headers: { 'x-user': 'alice' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello from web');
    assert.equal(r.headers['hello'], 'from-config');
    assert.equal(seen.at(-1)!.solo, 'seen');
  });

  it('pauses a request on proxy_http_call and resumes it with the call response', async () => {
    const ok = await request({ port: px.port, headers: { 'x-user': 'alice' } });
    assert.equal(ok.status, 200);
    assert.equal(seen.at(-1)!.verdict, 'ok-alice');
    const before = seen.length;
    const denied = await request({ port: px.port, headers: { 'x-user': 'bob' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.toString(), 'denied: no-bob\n');
    assert.equal(seen.length, before, 'a denied request never reaches the upstream');
  });
});
