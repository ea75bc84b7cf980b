// A filter's local reply passes the response callbacks of the filters before
// it, as in Envoy: a rate limiter ahead of authz still labels authz's 403.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

describe('local replies through earlier filters', () => {
  let web: Upstream;
  let px: RunningProxy;
  let seen = 0;

  before(async () => {
    web = await startUpstream((_req, res) => {
      seen++;
      res.end('ok');
    });
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: ratelimit, module: "builtin:ratelimit", config: { descriptors: [{ key: "const:all", requestsPerUnit: 1000, unit: hour }] } }
      - name: authz
        module: builtin:authz
        config: { policies: [{ name: no-admin, action: DENY, rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }] }] }
clusters:
  - { name: web, endpoints: [${web.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it('a 403 from authz carries the rate limiter headers; the replying filter is not asked again', async () => {
    const ok = await request({ port: px.port, path: '/public' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-ratelimit-limit'], '1000');
    const denied = await request({ port: px.port, path: '/admin/x' });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['x-wasmesh-reason'], 'UAEX');
    assert.equal(denied.headers['x-ratelimit-limit'], '1000', 'the earlier filter saw the local reply');
    assert.equal(denied.headers['x-ratelimit-remaining'], '998');
    assert.equal(seen, 1, 'the denied request never reached the upstream');
  });
});
