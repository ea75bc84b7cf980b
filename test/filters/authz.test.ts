// The authz filter (filters/authz) in the host emulator: Istio
// AuthorizationPolicy semantics and JWT validation (RS256, ES256, HS256).
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Emulator } from '../../sdk/testing';

const WASM = path.join(__dirname, '../../filters/authz.wasm');
const ISSUER = 'https://issuer.example';

// ---- keys and tokens

const rsa1 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hmacSecret = crypto.randomBytes(32);

const jwkRsa1 = { ...rsa1.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
const jwkRsa2 = { ...rsa2.publicKey.export({ format: 'jwk' }), kid: 'rsa-2' };
const jwkEc = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' };
const jwkHmac = { kty: 'oct', k: hmacSecret.toString('base64url'), kid: 'hs-1' };

type Alg = 'RS256' | 'ES256' | 'HS256' | 'none';

function b64u(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

function signWith(alg: Alg, key: crypto.KeyObject | Buffer | null, input: string): Buffer {
  switch (alg) {
    case 'RS256':
      return crypto.sign('sha256', Buffer.from(input), key as crypto.KeyObject);
    case 'ES256':
      return crypto.sign('sha256', Buffer.from(input), { key: key as crypto.KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'HS256':
      return crypto.createHmac('sha256', key as Buffer).update(input).digest();
    default:
      return Buffer.alloc(0);
  }
}

interface TokenOpts {
  alg?: Alg;
  key?: crypto.KeyObject | Buffer | null;
  kid?: string | null;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

/** A signed JWT; by default RS256 with rsa1, iss ISSUER, sub alice, aud api, exp +1h (emulator clock). */
function token(vm: Emulator, o: TokenOpts = {}): string {
  const alg = o.alg ?? 'RS256';
  const now = Math.floor(clockOf(vm) / 1000);
  const header: Record<string, unknown> = { alg, typ: 'JWT', ...(o.header ?? {}) };
  const kid = o.kid === undefined ? (alg === 'RS256' ? 'rsa-1' : alg === 'ES256' ? 'ec-1' : alg === 'HS256' ? 'hs-1' : null) : o.kid;
  if (kid !== null) header.kid = kid;
  const claims = { iss: ISSUER, sub: 'alice', aud: 'api', iat: now, exp: now + 3600, ...(o.claims ?? {}) };
  const key = o.key !== undefined ? o.key : alg === 'RS256' ? rsa1.privateKey : alg === 'ES256' ? ec.privateKey : hmacSecret;
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(signWith(alg, key, input))}`;
}

/** The emulator's virtual clock (ms), which the filter reads; the emulator does not expose it. */
function clockOf(vm: Emulator): number {
  return (vm as unknown as { clock: number }).clock;
}

const JWT = {
  providers: [{ issuer: ISSUER, audiences: ['api', 'other'], jwks: JSON.stringify({ keys: [jwkRsa1, jwkRsa2, jwkEc, jwkHmac] }) }],
};

// ---- helpers

const vms: Emulator[] = [];
after(() => {
  for (const vm of vms) vm.close();
});

async function load(config: unknown): Promise<Emulator> {
  const vm = await Emulator.load(WASM, { name: 'authz', config, logLevel: 'debug' });
  vms.push(vm);
  return vm;
}

interface Req {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  ip?: string;
}

function send(vm: Emulator, r: Req = {}) {
  const s = vm.newStream(r.ip ? { sourceAddress: r.ip } : {});
  const action = s.sendRequestHeaders({ ':method': r.method ?? 'GET', ':path': r.path ?? '/', ':authority': r.host ?? 'web.example', ...(r.headers ?? {}) }, true);
  return { s, action, status: s.localReply?.status ?? 200 };
}

function status(vm: Emulator, r: Req = {}): number {
  return send(vm, r).status;
}

function count(vm: Emulator, name: string): number {
  const m = vm.metric(name);
  return m && 'value' in m ? Number(m.value) : 0;
}

/** Loads a config the filter must refuse; returns what the filter logged. */
async function refused(config: unknown): Promise<string> {
  const { error, logs } = await Emulator.refusal(WASM, { name: 'authz', config });
  assert.match(error.message, /rejected its config/);
  return logs.map((l) => l.message).join('\n');
}

const allowPolicy = (rules: unknown[], name = 'allow') => ({ name, action: 'ALLOW', rules });
const denyPolicy = (rules: unknown[], name = 'deny') => ({ name, action: 'DENY', rules });

// ---- policies

describe('authz: policies', () => {
  it('no policies: everything is allowed', async () => {
    const vm = await load({});
    const { action } = send(vm);
    assert.equal(action, 'continue');
    assert.equal(count(vm, 'allowed'), 1);
  });

  it('paths: exact, prefix, suffix and presence, ignoring the query', async () => {
    const vm = await load({ policies: [allowPolicy([{ to: [{ operation: { paths: ['/exact', '/api/*', '*/admin'] } }] }])] });
    assert.equal(status(vm, { path: '/exact' }), 200);
    assert.equal(status(vm, { path: '/exact?x=1' }), 200);
    assert.equal(status(vm, { path: '/exact/more' }), 403);
    assert.equal(status(vm, { path: '/api/v1/users' }), 200);
    assert.equal(status(vm, { path: '/api/' }), 200);
    assert.equal(status(vm, { path: '/apix' }), 403);
    assert.equal(status(vm, { path: '/x/y/admin' }), 200);
    assert.equal(status(vm, { path: '/admin/x' }), 403);
    const any = await load({ policies: [allowPolicy([{ to: [{ operation: { paths: ['*'] } }] }])] });
    assert.equal(status(any, { path: '/whatever' }), 200);
  });

  it('paths are normalized before matching, and forwarded normalized', async () => {
    const policies = [denyPolicy([{ to: [{ operation: { paths: ['/admin/*', '/admin'] } }] }])];
    const vm = await load({ policies });
    for (const p of ['/public/../admin/x', '/%61dmin/x', '/%2E%2E/admin', '//admin//x', '/admin/./x', '/\\admin\\x', '/admin/', '/x/../admin']) {
      assert.equal(status(vm, { path: p }), 403, p);
    }
    const { s, action } = send(vm, { path: '/a/./b/../c//d?q=/../x' });
    assert.equal(action, 'continue');
    assert.equal(s.path, '/a/c/d?q=/../x', 'the upstream gets the path that was authorized');
    assert.equal(send(vm, { path: '/a/%7euser%2f' }).s.path, '/a/~user%2F', 'unreserved decoded, others kept (upper-case hex)');
    const base = await load({ policies, pathNormalization: 'BASE' });
    assert.equal(status(base, { path: '/public/../admin/x' }), 403);
    assert.equal(status(base, { path: '//admin/x' }), 200, 'BASE keeps repeated slashes');
    const none = await load({ policies, pathNormalization: 'NONE' });
    assert.equal(status(none, { path: '/public/../admin/x' }), 200);
    assert.equal(send(none, { path: '/public/../admin/x' }).s.path, '/public/../admin/x');
  });

  it('methods, notMethods, notPaths, hosts and notHosts', async () => {
    const vm = await load({
      policies: [
        allowPolicy([
          { to: [{ operation: { methods: ['GET', 'HEAD'], notPaths: ['/private/*'], hosts: ['*.example.com', 'API.local'] } }] },
          { to: [{ operation: { notMethods: ['GET', 'DELETE'], notHosts: ['blocked.example.com'] } }] },
        ]),
      ],
    });
    assert.equal(status(vm, { method: 'GET', host: 'www.example.com' }), 200);
    assert.equal(status(vm, { method: 'GET', host: 'www.example.com:8080' }), 200, 'port ignored');
    assert.equal(status(vm, { method: 'HEAD', host: 'api.local' }), 200, 'hosts are case-insensitive');
    assert.equal(status(vm, { method: 'GET', host: 'www.example.com', path: '/private/x' }), 403);
    assert.equal(status(vm, { method: 'GET', host: 'other.org' }), 403);
    assert.equal(status(vm, { method: 'POST', host: 'other.org' }), 200, 'second rule: any method but GET/DELETE');
    assert.equal(status(vm, { method: 'DELETE', host: 'other.org' }), 403);
    assert.equal(status(vm, { method: 'POST', host: 'blocked.example.com' }), 403);
    assert.equal(status(vm, { method: 'POST', host: 'Blocked.Example.com:443' }), 403);
  });

  it('ports and destination.port', async () => {
    const vm = await load({ policies: [allowPolicy([{ to: [{ operation: { ports: ['8080'] } }] }])] });
    assert.equal(status(vm), 200, 'the emulator listens on 8080');
    const other = await load({ policies: [allowPolicy([{ to: [{ operation: { ports: ['9090'] } }] }])] });
    assert.equal(status(other), 403);
    const when = await load({ policies: [denyPolicy([{ when: [{ key: 'destination.port', values: ['8080'] }] }])] });
    assert.equal(status(when), 403);
  });

  it('ipBlocks and notIpBlocks, IPv4 and IPv6, from source.address', async () => {
    const vm = await load({
      policies: [
        allowPolicy([
          { from: [{ source: { ipBlocks: ['10.0.0.0/8', '192.168.1.7'], notIpBlocks: ['10.9.0.0/16'] } }] },
          { from: [{ source: { ipBlocks: ['2001:db8::/32', '::1'] } }] },
        ]),
      ],
    });
    assert.equal(status(vm, { ip: '10.1.2.3' }), 200);
    assert.equal(status(vm, { ip: '10.9.1.1' }), 403, 'notIpBlocks');
    assert.equal(status(vm, { ip: '192.168.1.7' }), 200);
    assert.equal(status(vm, { ip: '192.168.1.8' }), 403);
    assert.equal(status(vm, { ip: '11.0.0.1' }), 403);
    assert.equal(status(vm, { ip: '2001:db8:1::5' }), 200, 'IPv6 (source.address is "ip:port" unbracketed)');
    assert.equal(status(vm, { ip: '2001:db9::5' }), 403);
    assert.equal(status(vm, { ip: '::1' }), 200);
    assert.equal(status(vm, { ip: '::ffff:10.1.2.3' }), 200, 'IPv4-mapped IPv6 matches the IPv4 block');
    assert.equal(status(vm, { ip: '::2' }), 403);
    const v6only = await load({ policies: [allowPolicy([{ from: [{ source: { ipBlocks: ['fe80::/10'] } }] }])] });
    assert.equal(status(v6only, { ip: 'fe80::1:2:3:4' }), 200);
    assert.equal(status(v6only, { ip: 'fec0::1' }), 403);
    assert.equal(status(v6only, { ip: '10.0.0.1' }), 403);
  });

  it('source.ip in when takes CIDRs too', async () => {
    const vm = await load({ policies: [denyPolicy([{ when: [{ key: 'source.ip', values: ['172.16.0.0/12'] }] }])] });
    assert.equal(status(vm, { ip: '172.20.1.1' }), 403);
    assert.equal(status(vm, { ip: '172.32.0.1' }), 200);
  });

  it('DENY is evaluated before ALLOW; a 403 carries UAEX', async () => {
    const vm = await load({
      policies: [
        allowPolicy([{}], 'allow-all'),
        denyPolicy([{ to: [{ operation: { paths: ['/admin/*'] } }], when: [{ key: 'request.headers[x-user]', notValues: ['root'] }] }], 'deny-admin'),
      ],
    });
    assert.equal(status(vm, { path: '/public' }), 200);
    const { s, action } = send(vm, { path: '/admin/panel', headers: { 'x-user': 'bob' } });
    assert.equal(action, 'localReply');
    assert.equal(s.localReply!.status, 403);
    assert.equal(s.localReply!.body, 'RBAC: access denied');
    assert.equal(s.localReply!.flag, 'UAEX');
    assert.match(s.localReply!.details, /deny-admin/);
    assert.equal(status(vm, { path: '/admin/panel', headers: { 'x-user': 'root' } }), 200);
    assert.equal(status(vm, { path: '/admin/panel' }), 403, 'a missing header satisfies notValues');
    assert.equal(count(vm, 'denied'), 2);
    assert.equal(count(vm, 'allowed'), 2);
  });

  it('only DENY policies: whatever does not match is allowed', async () => {
    const vm = await load({ policies: [denyPolicy([{ to: [{ operation: { methods: ['DELETE'] } }] }])] });
    assert.equal(status(vm, { method: 'GET' }), 200);
    assert.equal(status(vm, { method: 'DELETE' }), 403);
  });

  it('a policy without rules matches nothing; rules [{}] matches everything', async () => {
    const none = await load({ policies: [allowPolicy([])] });
    assert.equal(status(none), 403, 'an ALLOW policy exists and none matches');
    const denyNone = await load({ policies: [denyPolicy([])] });
    assert.equal(status(denyNone), 200);
    const denyAll = await load({ policies: [denyPolicy([{}])] });
    assert.equal(status(denyAll), 403);
  });

  it('AUDIT only logs and counts', async () => {
    const vm = await load({
      policies: [{ name: 'audit-writes', action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }],
    });
    assert.equal(status(vm, { method: 'POST', path: '/orders' }), 200);
    assert.equal(status(vm, { method: 'GET' }), 200);
    assert.equal(count(vm, 'audit'), 1);
    assert.ok(vm.logs.some((l) => /AUDIT policy "audit-writes".*POST \/orders/.test(l.message)));
    const withAllow = await load({
      policies: [{ name: 'a', action: 'AUDIT', rules: [{}] }, allowPolicy([{ to: [{ operation: { methods: ['GET'] } }] }])],
    });
    assert.equal(status(withAllow, { method: 'POST' }), 403, 'AUDIT does not allow');
    assert.equal(count(withAllow, 'audit'), 1);
  });

  it('when: every condition must hold; values and notValues; headers match any value', async () => {
    const vm = await load({
      policies: [
        allowPolicy([
          {
            when: [
              { key: 'request.headers[x-tenant]', values: ['acme', 'corp-*'] },
              { key: 'request.headers[X-Role]', values: ['*'], notValues: ['guest'] },
            ],
          },
        ]),
      ],
    });
    assert.equal(status(vm, { headers: { 'x-tenant': 'acme', 'x-role': 'dev' } }), 200);
    assert.equal(status(vm, { headers: { 'x-tenant': 'corp-east', 'x-role': 'dev' } }), 200);
    assert.equal(status(vm, { headers: { 'x-tenant': 'acme' } }), 403, 'second condition: presence');
    assert.equal(status(vm, { headers: { 'x-tenant': 'acme', 'x-role': 'guest' } }), 403);
    assert.equal(status(vm, { headers: { 'x-tenant': 'other', 'x-role': 'dev' } }), 403);
  });

  it('from entries are OR-ed, fields inside one source are AND-ed', async () => {
    const vm = await load({
      policies: [allowPolicy([{ from: [{ source: { ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.0.0.1'] } }, { source: { ipBlocks: ['192.168.0.0/16'] } }] }])],
    });
    assert.equal(status(vm, { ip: '10.0.0.2' }), 200);
    assert.equal(status(vm, { ip: '10.0.0.1' }), 403);
    assert.equal(status(vm, { ip: '192.168.3.3' }), 200);
    const mtls = await load({ policies: [allowPolicy([{ from: [{ source: { principals: ['cluster.local/ns/default/sa/web'] } }] }])] });
    assert.equal(status(mtls), 403, 'no mTLS peer identity: principals never match');
  });
});

// ---- JWT

describe('authz: JWT', () => {
  const principalPolicy = allowPolicy([{ from: [{ source: { requestPrincipals: [`${ISSUER}/alice`] } }] }], 'alice-only');

  it('RS256: a valid token passes and sets the request principal; the token is not forwarded by default', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const { s, action } = send(vm, { headers: { authorization: `Bearer ${token(vm)}` } });
    assert.equal(action, 'continue');
    assert.equal(s.requestHeaders.get('authorization'), undefined);
    assert.equal(status(vm, { headers: { authorization: `Bearer ${token(vm, { claims: { sub: 'bob' } })}` } }), 403);
    assert.equal(count(vm, 'allowed'), 1);
    assert.equal(count(vm, 'denied'), 1);
  });

  it('forwardOriginalToken keeps the header; custom header and prefix', async () => {
    const vm = await load({
      jwt: { providers: [{ ...JWT.providers[0], forwardOriginalToken: true, fromHeaders: [{ name: 'x-jwt', prefix: '' }] }] },
      policies: [principalPolicy],
    });
    const t = token(vm);
    const { s, action } = send(vm, { headers: { 'x-jwt': t } });
    assert.equal(action, 'continue');
    assert.equal(s.requestHeaders.get('x-jwt'), t);
    assert.equal(status(vm, { headers: { authorization: `Bearer ${t}` } }), 403, 'not looked for in authorization');
  });

  it('fromParams: a token in the query string', async () => {
    const vm = await load({ jwt: { providers: [{ ...JWT.providers[0], fromParams: ['access_token'] }] }, policies: [principalPolicy] });
    assert.equal(status(vm, { path: `/x?a=1&access_token=${token(vm)}` }), 200);
  });

  it('no token: passes authentication, but has no principal', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const r = send(vm);
    assert.equal(r.status, 403, 'ALLOW needs a principal: 403, not 401');
    assert.equal(r.s.localReply!.body, 'RBAC: access denied');
    const open = await load({ jwt: JWT });
    assert.equal(status(open), 200);
    assert.equal(status(open, { headers: { authorization: 'Basic dXNlcjpwdw==' } }), 200, 'another scheme is not a token');
  });

  async function expect401(vm: Emulator, t: string, reason: RegExp): Promise<void> {
    const { s } = send(vm, { path: '/p?q=1', host: 'web.example', headers: { authorization: `Bearer ${t}` } });
    assert.equal(s.localReply?.status, 401, `expected 401 (${reason})`);
    assert.equal(s.localReply!.flag, 'UAEX');
    assert.equal(s.localReply!.body, 'Jwt verification fails');
    assert.deepEqual(s.localReply!.headers.find(([k]) => k === 'www-authenticate'), ['www-authenticate', 'Bearer realm="http://web.example/p", error="invalid_token"']);
    assert.match(s.localReply!.details, reason);
  }

  it('invalid tokens are rejected with 401: expired, not yet valid, wrong issuer, wrong audience, bad signature, alg none, garbage', async () => {
    const vm = await load({ jwt: JWT });
    const now = Math.floor(clockOf(vm) / 1000);
    await expect401(vm, token(vm, { claims: { exp: now - 120 } }), /expired/);
    await expect401(vm, token(vm, { claims: { nbf: now + 120 } }), /not_yet_valid/);
    await expect401(vm, token(vm, { claims: { iss: 'https://evil.example' } }), /issuer_is_not_configured/);
    await expect401(vm, token(vm, { claims: { aud: 'someone-else' } }), /Audiences/);
    await expect401(vm, token(vm, { claims: { aud: ['x', 'y'] } }), /Audiences/);
    await expect401(vm, token(vm, { claims: { aud: undefined } }), /Audiences/);
    await expect401(vm, token(vm, { key: rsa2.privateKey }), /verification_fails/);
    await expect401(vm, token(vm, { alg: 'none', kid: null }), /not_in_the_form|not_supported/);
    await expect401(vm, `${token(vm, { alg: 'none', kid: null })}AAAA`, /not_supported/);
    await expect401(vm, 'not-a-jwt', /not_in_the_form/);
    await expect401(vm, 'e30.e30.AAAA', /issuer|not_supported/);
    const t = token(vm);
    const [h, p] = t.split('.');
    const tampered = b64u(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'root' }));
    await expect401(vm, `${h}.${tampered}.${t.split('.')[2]}`, /verification_fails/);
    assert.equal(count(vm, 'jwt_invalid'), 12);
    // aud as a list that intersects, and within the clock skew
    assert.equal(status(vm, { headers: { authorization: `Bearer ${token(vm, { claims: { aud: ['x', 'other'] } })}` } }), 200);
    assert.equal(status(vm, { headers: { authorization: `Bearer ${token(vm, { claims: { exp: now - 30, nbf: now + 30 } })}` } }), 200);
  });

  it('exp is checked against the host clock with 60 s of skew', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const t = token(vm, { claims: { exp: Math.floor(clockOf(vm) / 1000) + 10 } });
    const bearer = { authorization: `Bearer ${t}` };
    assert.equal(status(vm, { headers: bearer }), 200);
    vm.advance(65_000);
    assert.equal(status(vm, { headers: bearer }), 200, 'expired 55 s ago: within the skew');
    vm.advance(10_000);
    assert.equal(status(vm, { headers: bearer }), 401);
  });

  it('RS256 key selection by kid; without a kid every RS256 key is tried', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal(status(vm, { headers: bearer(token(vm, { key: rsa2.privateKey, kid: 'rsa-2' })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { key: rsa2.privateKey, kid: 'rsa-1' })) }), 401, 'kid names another key');
    assert.equal(status(vm, { headers: bearer(token(vm, { key: rsa2.privateKey, kid: null })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { key: rsa1.privateKey, kid: null })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { kid: 'unknown' })) }), 401);
  });

  it('ES256 and HS256', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'ES256' })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'ES256', kid: null })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'ES256', key: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey })) }), 401);
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'HS256' })) }), 200);
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'HS256', key: crypto.randomBytes(32) })) }), 401);
  });

  it('the token cannot choose how a key is used (alg confusion)', async () => {
    const vm = await load({ jwt: JWT, policies: [principalPolicy] });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // HS256 "signed" with the public RSA JWK text, naming the RSA key's kid
    const jwkText = JSON.stringify(jwkRsa1);
    assert.equal(status(vm, { headers: bearer(token(vm, { alg: 'HS256', kid: 'rsa-1', key: Buffer.from(jwkText) })) }), 401);
    // ES256 header on an RS256 signature
    const rs = token(vm);
    const [, p, sig] = rs.split('.');
    const h = b64u(JSON.stringify({ alg: 'ES256', kid: 'rsa-1' }));
    assert.equal(status(vm, { headers: bearer(`${h}.${p}.${sig}`) }), 401);
    // RS512 and a crit header are refused
    assert.equal(status(vm, { headers: bearer(token(vm, { header: { alg: 'RS512' } })) }), 401);
    assert.equal(status(vm, { headers: bearer(token(vm, { header: { crit: ['exp'] } })) }), 401);
  });

  it('claims, principal and audiences in when', async () => {
    const vm = await load({
      jwt: JWT,
      policies: [
        allowPolicy([
          {
            from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
            when: [
              { key: 'request.auth.claims[groups]', values: ['admins'] },
              { key: 'request.auth.claims[iss]', values: [ISSUER] },
              { key: 'request.auth.claims[org][tier]', values: ['gold'] },
              { key: 'request.auth.audiences', values: ['api'] },
            ],
          },
          { when: [{ key: 'request.auth.principal', values: [`${ISSUER}/carol`] }] },
        ]),
      ],
    });
    const bearer = (claims: Record<string, unknown>) => ({ authorization: `Bearer ${token(vm, { claims })}` });
    assert.equal(status(vm, { headers: bearer({ groups: ['devs', 'admins'], org: { tier: 'gold' } }) }), 200);
    assert.equal(status(vm, { headers: bearer({ groups: 'admins', org: { tier: 'gold' } }) }), 200, 'a string claim');
    assert.equal(status(vm, { headers: bearer({ groups: ['devs'], org: { tier: 'gold' } }) }), 403);
    assert.equal(status(vm, { headers: bearer({ groups: ['admins'], org: { tier: 'silver' } }) }), 403);
    assert.equal(status(vm, { headers: bearer({ groups: ['admins'] }) }), 403, 'missing nested claim');
    assert.equal(status(vm, { headers: bearer({ sub: 'carol' }) }), 200, 'request.auth.principal');
    assert.equal(status(vm), 403, 'no token: no claims');
  });

  it('notRequestPrincipals', async () => {
    const vm = await load({ jwt: JWT, policies: [denyPolicy([{ from: [{ source: { notRequestPrincipals: ['*'] } }] }], 'require-jwt')] });
    assert.equal(status(vm), 403, 'no principal: denied');
    assert.equal(status(vm, { headers: { authorization: `Bearer ${token(vm)}` } }), 200);
  });
});

// ---- configuration

describe('authz: invalid configurations are refused with the field named', () => {
  it('unknown action', async () => {
    assert.match(await refused({ policies: [{ name: 'p', action: 'PERMIT', rules: [] }] }), /policies\[0\]\.action: unknown action "PERMIT"/);
    assert.match(await refused({ policies: [{ action: 'CUSTOM' }] }), /CUSTOM.*not supported/);
  });

  it('bad CIDR', async () => {
    for (const bad of ['10.0.0.0/33', '10.0.0', '300.1.1.1', '2001:db8::/129', '1:2:3:4:5:6:7:8:9', 'abc', '10.0.0.0/']) {
      const log = await refused({ policies: [allowPolicy([{ from: [{ source: { ipBlocks: ['10.0.0.0/8', bad] } }] }])] });
      assert.match(log, /policies\[0\]\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[1\]: bad CIDR/, bad);
    }
    assert.match(await refused({ policies: [allowPolicy([{ when: [{ key: 'source.ip', values: ['nope'] }] }])] }), /when\[0\]\.values\[0\]: bad CIDR/);
  });

  it('bad JWKS', async () => {
    const provider = (jwks: unknown) => ({ jwt: { providers: [{ issuer: ISSUER, jwks }] } });
    assert.match(await refused(provider('{not json')), /jwt\.providers\[0\]\.jwks: invalid JSON/);
    assert.match(await refused(provider({ nokeys: [] })), /jwks\.keys: required/);
    assert.match(await refused(provider({ keys: [{ kty: 'RSA', e: 'AQAB' }] })), /jwks\.keys\[0\]: an RSA key needs/);
    assert.match(await refused(provider({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] })), /keys\[0\]: a P-256 key needs/);
    assert.match(await refused(provider({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }] })), /no usable key/);
    assert.match(await refused(provider({ keys: [] })), /no usable key/);
    assert.match(await refused({ jwt: { providers: [{ jwks: { keys: [jwkRsa1] } }] } }), /providers\[0\]\.issuer: required/);
    assert.match(await refused({ jwt: { providers: [{ issuer: ISSUER }] } }), /providers\[0\]\.jwks: required/);
  });

  it('unknown fields, bad when keys, wrong types', async () => {
    assert.match(await refused({ policies: [allowPolicy([{ to: [{ operation: { path: ['/x'] } }] }])] }), /to\[0\]\.operation\.path: unknown field/);
    assert.match(await refused({ policies: [allowPolicy([{ when: [{ key: 'request.cookie[x]', values: ['a'] }] }])] }), /when\[0\]\.key: unsupported key/);
    assert.match(await refused({ policies: [allowPolicy([{ when: [{ key: 'request.headers[x]' }] }])] }), /when\[0\]: needs values or notValues/);
    assert.match(await refused({ policies: [allowPolicy([{ to: [{ operation: { methods: 'GET' } }] }])] }), /operation\.methods: expected a list of strings/);
    assert.match(await refused({ policy: [] }), /configuration: policy: unknown field/);
    assert.match(await refused({ pathNormalization: 'RFC' }), /pathNormalization: unknown value "RFC"/);
    assert.match(await refused('not json'), /invalid configuration/);
  });

  it('a valid JWKS can be given as an object too', async () => {
    const vm = await load({ jwt: { providers: [{ issuer: ISSUER, jwks: { keys: [jwkEc] } }] }, policies: [allowPolicy([{ from: [{ source: { requestPrincipals: ['*'] } }] }])] });
    assert.equal(status(vm, { headers: { authorization: `Bearer ${token(vm, { alg: 'ES256' })}` } }), 200);
  });
});
