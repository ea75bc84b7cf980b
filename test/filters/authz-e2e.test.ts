// The built-in authz filter in a real proxy (module: builtin:authz).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

const ISSUER = 'https://issuer.example';
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256' };

function jwt(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: ISSUER, sub: 'alice', aud: 'api', exp: now + 600, ...claims })}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
}

describe('authz end to end', () => {
  let web: Upstream;
  let px: RunningProxy;
  const seen: { path: string; auth: string | undefined }[] = [];

  before(async () => {
    web = await startUpstream((req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      res.end('ok');
    });
    const config = {
      jwt: { providers: [{ issuer: ISSUER, audiences: ['api'], jwks: JSON.stringify({ keys: [jwk] }) }] },
      policies: [
        { name: 'deny-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] },
        {
          name: 'allow',
          action: 'ALLOW',
          rules: [
            { to: [{ operation: { methods: ['GET'], paths: ['/public/*'] } }] },
            { from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }], when: [{ key: 'request.auth.claims[groups]', values: ['writers'] }] },
            { from: [{ source: { ipBlocks: ['127.0.0.0/8'] } }], to: [{ operation: { paths: ['/internal'] } }] },
          ],
        },
      ],
    };
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - { name: authz, module: builtin:authz, config: ${JSON.stringify(config)} }
clusters:
  - { name: web, endpoints: [${web.address}] }
`);
  });

  after(async () => {
    await px?.stop();
    await web?.close();
  });

  it('a request no policy allows gets 403 with x-wasmesh-reason UAEX', async () => {
    const r = await request({ port: px.port, path: '/private', method: 'POST' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-wasmesh-reason'], 'UAEX');
    assert.equal(r.body.toString(), 'RBAC: access denied');
    const admin = await request({ port: px.port, path: '/admin/x', headers: { authorization: `Bearer ${jwt({ groups: ['writers'] })}` } });
    assert.equal(admin.status, 403, 'DENY wins over a matching ALLOW');
    assert.equal(admin.headers['x-wasmesh-reason'], 'UAEX');
    assert.equal((await request({ port: px.port, path: '/public/../admin/x' })).status, 403, 'the path is normalized before matching');
  });

  it('the upstream receives the normalized path it was authorized for', async () => {
    const r = await request({ port: px.port, path: '/public/./a/..//b?x=/../y' });
    assert.equal(r.status, 200);
    assert.equal(seen.at(-1)!.path, '/public/b?x=/../y');
  });

  it('allowed requests reach the upstream: by path, by source IP, and with a valid JWT', async () => {
    assert.equal((await request({ port: px.port, path: '/public/a' })).status, 200);
    assert.equal((await request({ port: px.port, path: '/internal' })).status, 200);
    const r = await request({ port: px.port, path: '/orders', method: 'POST', headers: { authorization: `Bearer ${jwt({ groups: ['readers', 'writers'] })}` } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok');
    assert.deepEqual(seen.at(-1), { path: '/orders', auth: undefined }, 'the token is not forwarded');
    const reader = await request({ port: px.port, path: '/orders', method: 'POST', headers: { authorization: `Bearer ${jwt({ groups: ['readers'] })}` } });
    assert.equal(reader.status, 403);
  });

  it('an invalid JWT gets 401 with a Bearer challenge', async () => {
    const r = await request({ port: px.port, path: '/public/a', headers: { authorization: `Bearer ${jwt({ exp: 1 })}` } });
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-wasmesh-reason'], 'UAEX');
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/public\/a", error="invalid_token"$/);
  });

  it('the counters are exported', async () => {
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    const value = (name: string) => Number(stats.split('\n').find((l) => l.startsWith(`wasmesh_filter_authz_${name} `) || l.startsWith(`wasmesh_filter_authz_${name}{`))?.split(' ').pop());
    assert.equal(value('denied'), 4);
    assert.equal(value('allowed'), 4);
    assert.equal(value('jwt_invalid'), 1);
  });
});
