// The router filter in the host emulator: virtual-host selection, every match
// kind, first-match-wins, weighted splits, cluster/hash/timeout decisions,
// rewrites, header edits both ways, redirects, direct responses, 404 NR and
// 503 NC, refused configurations (with the logged JSON path), and the regex
// engine (RE2 syntax and semantics, refused syntax, pathological patterns).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { WasmLoadError } from '../../runtime/core/errors';
import { Emulator } from '../../sdk/testing';
import type { EmulatedStream } from '../../sdk/testing/emulated-stream';

const WASM = path.join(__dirname, '../../filters/router.wasm');

type Json = Record<string, unknown>;

async function load(config: unknown, clusters?: string[]): Promise<Emulator> {
  return Emulator.load(WASM, { name: 'router', config, clusters, logLevel: 'info' });
}

/** A config with one virtual host for every domain. */
function oneHost(routes: Json[], domains: string[] = ['*']): Json {
  return { virtualHosts: [{ name: 'all', domains, routes }] };
}

function send(vm: Emulator, authority: string, p: string, headers: Record<string, string> = {}, method = 'GET'): EmulatedStream {
  const s = vm.newStream();
  s.sendRequestHeaders({ ':method': method, ':path': p, ':authority': authority, ...headers }, true);
  return s;
}

/** The cluster a request is routed to, or "<status> <flag>" for a local reply. */
function outcome(vm: Emulator, authority: string, p: string, headers: Record<string, string> = {}, method = 'GET'): string {
  const s = send(vm, authority, p, headers, method);
  const r = s.localReply;
  s.complete();
  if (r !== null) return `${r.status} ${r.flag}`;
  assert.equal(s.lastAction, 'continue');
  return s.route.cluster ?? '(none)';
}

function counter(vm: Emulator, name: string): number {
  const m = vm.metric(name);
  return m !== undefined && 'value' in m ? Number(m.value) : 0;
}

/** Loads a config that must be refused; returns the error and what the filter logged. */
async function refused(config: unknown): Promise<{ error: WasmLoadError; logs: string[] }> {
  const { error, logs } = await Emulator.refusal(WASM, { name: 'router', config, logLevel: 'error' });
  assert.equal(error.code, 'WASM_CONFIGURE_FAILED');
  return { error, logs: logs.map((l) => l.message) };
}

describe('router: virtual hosts', () => {
  it('picks exact, then the longest suffix wildcard, then the longest prefix wildcard, then *', async () => {
    const vh = (name: string, domains: string[]): Json => ({ name, domains, routes: [{ match: { prefix: '/' }, route: { cluster: name } }] });
    const vm = await load({
      virtualHosts: [
        vh('catchall', ['*']),
        vh('suffix', ['*.example.com']),
        vh('longsuffix', ['*.api.example.com']),
        vh('dashsuffix', ['*-bar.example.com']),
        vh('prefix', ['foo.*']),
        vh('longprefix', ['foo.bar.*']),
        vh('exact', ['api.example.com', 'Reviews', 'reviews.default.svc.cluster.local', '[::1]']),
        vh('withport', ['reviews:9080']),
      ],
    });
    assert.equal(outcome(vm, 'api.example.com', '/'), 'exact', 'exact beats *.example.com');
    assert.equal(outcome(vm, 'API.Example.COM:8443', '/'), 'exact', 'case-insensitive, port stripped');
    assert.equal(outcome(vm, 'reviews', '/'), 'exact', 'config domains are lower-cased');
    assert.equal(outcome(vm, 'reviews.default.svc.cluster.local:9080', '/'), 'exact');
    assert.equal(outcome(vm, 'reviews:9080', '/'), 'withport', 'a domain with a port matches that authority exactly');
    assert.equal(outcome(vm, 'reviews:9081', '/'), 'exact', 'other ports fall back to the stripped host');
    assert.equal(outcome(vm, '[::1]:8080', '/'), 'exact', 'IPv6 literal with port');
    assert.equal(outcome(vm, 'v1.api.example.com', '/'), 'longsuffix', 'longest suffix first');
    assert.equal(outcome(vm, 'www.example.com', '/'), 'suffix');
    assert.equal(outcome(vm, 'x-bar.example.com', '/'), 'dashsuffix');
    assert.equal(outcome(vm, 'example.com', '/'), 'catchall', '* in *.example.com stands for at least one character');
    assert.equal(outcome(vm, '.example.com', '/'), 'catchall');
    assert.equal(outcome(vm, 'foo.example.com', '/'), 'suffix', 'suffix wildcards beat prefix wildcards');
    assert.equal(outcome(vm, 'foo.bar.baz', '/'), 'longprefix', 'longest prefix first');
    assert.equal(outcome(vm, 'foo.qux:81', '/'), 'prefix');
    assert.equal(outcome(vm, 'foo.', '/'), 'catchall');
    assert.equal(outcome(vm, 'elsewhere', '/'), 'catchall');
    assert.equal(outcome(vm, '', '/'), 'catchall', 'no authority');
    vm.close();
  });

  it('answers 404 NR when no virtual host matches, and when no route of the host matches', async () => {
    const vm = await load({ virtualHosts: [{ name: 'r', domains: ['reviews'], routes: [{ match: { prefix: '/api' }, route: { cluster: 'c' } }] }] });
    const s = send(vm, 'ratings', '/api');
    assert.equal(s.lastAction, 'localReply');
    assert.deepEqual(
      { status: s.localReply!.status, flag: s.localReply!.flag, details: s.localReply!.details, body: s.localReply!.body },
      { status: 404, flag: 'NR', details: 'route_not_found', body: '' },
    );
    assert.equal(s.requestForwarded, false);
    assert.equal(outcome(vm, 'reviews', '/other'), '404 NR');
    assert.equal(outcome(vm, 'reviews', '/api/x'), 'c');
    assert.equal(counter(vm, 'rq_no_route'), 2);
    assert.equal(counter(vm, 'rq_routed'), 1);
    vm.close();
  });

  it('a virtual host with no routes answers 404 NR', async () => {
    const vm = await load({ virtualHosts: [{ domains: ['*'], routes: [] }] });
    assert.equal(outcome(vm, 'a', '/'), '404 NR');
    vm.close();
  });
});

describe('router: matching', () => {
  it('prefix, exact path and regex, with and without the query string', async () => {
    const vm = await load(oneHost([
      { match: { path: '/exact' }, route: { cluster: 'exact' } },
      { match: { regex: '/v[0-9]+/.*' }, route: { cluster: 'regex' } },
      { match: { prefix: '/api/' }, route: { cluster: 'prefix' } },
      { match: { prefix: '/q?x=1' }, route: { cluster: 'prefix-with-query' } },
      { match: { path: '/CaseLess', caseSensitive: false }, route: { cluster: 'ci-path' } },
      { match: { prefix: '/Upper', caseSensitive: false }, route: { cluster: 'ci-prefix' } },
    ]));
    assert.equal(outcome(vm, 'h', '/exact'), 'exact');
    assert.equal(outcome(vm, 'h', '/exact?a=b'), 'exact', 'path ignores the query string');
    assert.equal(outcome(vm, 'h', '/exact/'), '404 NR');
    assert.equal(outcome(vm, 'h', '/Exact'), '404 NR', 'case-sensitive by default');
    assert.equal(outcome(vm, 'h', '/v2/anything'), 'regex');
    assert.equal(outcome(vm, 'h', '/v12/?q=/x'), 'regex', 'regex ignores the query string');
    assert.equal(outcome(vm, 'h', '/v/x'), '404 NR');
    assert.equal(outcome(vm, 'h', '/x/v2/y'), '404 NR', 'regex must match the whole path');
    assert.equal(outcome(vm, 'h', '/v2'), '404 NR');
    assert.equal(outcome(vm, 'h', '/api/'), 'prefix');
    assert.equal(outcome(vm, 'h', '/api/reviews?x'), 'prefix');
    assert.equal(outcome(vm, 'h', '/api'), '404 NR');
    assert.equal(outcome(vm, 'h', '/q?x=1&y=2'), 'prefix-with-query', 'prefix is compared with the whole :path');
    assert.equal(outcome(vm, 'h', '/CASELESS'), 'ci-path');
    assert.equal(outcome(vm, 'h', '/caseless?x'), 'ci-path');
    assert.equal(outcome(vm, 'h', '/upPER/x'), 'ci-prefix');
    vm.close();
  });

  it('the first matching route wins', async () => {
    const vm = await load(oneHost([
      { name: 'first', match: { prefix: '/a' }, route: { cluster: 'first' } },
      { name: 'second', match: { prefix: '/a/b' }, route: { cluster: 'second' } },
      { name: 'third', match: { prefix: '/' }, route: { cluster: 'third' } },
    ]));
    assert.equal(outcome(vm, 'h', '/a/b/c'), 'first', 'a later, more specific route does not win');
    assert.equal(outcome(vm, 'h', '/b'), 'third');
    const s = send(vm, 'h', '/a');
    assert.equal(Buffer.from(s.state.get('route_name')!).toString(), 'first', 'route_name property for later filters');
    vm.close();
  });

  it('methods', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/', methods: ['GET', 'HEAD'] }, route: { cluster: 'read' } },
      { match: { prefix: '/', methods: ['POST'] }, route: { cluster: 'write' } },
    ]));
    assert.equal(outcome(vm, 'h', '/', {}, 'GET'), 'read');
    assert.equal(outcome(vm, 'h', '/', {}, 'HEAD'), 'read');
    assert.equal(outcome(vm, 'h', '/', {}, 'POST'), 'write');
    assert.equal(outcome(vm, 'h', '/', {}, 'DELETE'), '404 NR');
    vm.close();
  });

  it('header matchers: exact, prefix, suffix, contains, regex, present, invert, ignoreCase, repeated headers', async () => {
    const route = (cluster: string, header: Json): Json => ({ match: { prefix: '/' + cluster, headers: [header] }, route: { cluster } });
    const vm = await load(oneHost([
      route('exact', { name: 'X-User', exact: 'alice' }),
      route('prefix', { name: 'x-user', prefix: 'al' }),
      route('suffix', { name: 'x-user', suffix: 'ice' }),
      route('contains', { name: 'x-user', contains: 'lic' }),
      route('regex', { name: 'x-user', regex: '[a-z]+-[0-9]{2}' }),
      route('present', { name: 'x-debug', present: true }),
      route('absent', { name: 'x-debug', present: false }),
      route('invert', { name: 'x-user', exact: 'alice', invert: true }),
      route('invertpresent', { name: 'x-debug', present: true, invert: true }),
      route('icase', { name: 'x-user', exact: 'ALICE', ignoreCase: true }),
      route('host', { name: 'host', exact: 'reviews:9080' }),
      route('method', { name: ':method', exact: 'PUT' }),
      route('multi', { name: 'x-tag', exact: 'a,b' }),
      { match: { prefix: '/all', headers: [{ name: 'x-a', exact: '1' }, { name: 'x-b', exact: '2' }] }, route: { cluster: 'all' } },
    ]));
    const o = (p: string, h: Record<string, string> | [string, string][], authority = 'reviews'): string => {
      const s = vm.newStream();
      const pairs: [string, string][] = Array.isArray(h) ? h : Object.entries(h);
      s.sendRequestHeaders([[':method', p === '/method' ? 'PUT' : 'GET'], [':path', p], [':authority', authority], ...pairs], true);
      const r = s.localReply;
      s.complete();
      return r === null ? s.route.cluster! : `${r.status} ${r.flag}`;
    };
    assert.equal(o('/exact', { 'x-user': 'alice' }), 'exact', 'header names are case-insensitive');
    assert.equal(o('/exact', { 'x-user': 'Alice' }), '404 NR');
    assert.equal(o('/exact', {}), '404 NR');
    assert.equal(o('/prefix', { 'x-user': 'albert' }), 'prefix');
    assert.equal(o('/prefix', { 'x-user': 'bob' }), '404 NR');
    assert.equal(o('/suffix', { 'x-user': 'beatrice' }), 'suffix');
    assert.equal(o('/contains', { 'x-user': 'malicious' }), 'contains');
    assert.equal(o('/regex', { 'x-user': 'bob-42' }), 'regex');
    assert.equal(o('/regex', { 'x-user': 'bob-42x' }), '404 NR', 'full match');
    assert.equal(o('/present', { 'x-debug': '' }), 'present', 'an empty value is present');
    assert.equal(o('/present', {}), '404 NR');
    assert.equal(o('/absent', {}), 'absent');
    assert.equal(o('/absent', { 'x-debug': '1' }), '404 NR');
    assert.equal(o('/invert', { 'x-user': 'bob' }), 'invert');
    assert.equal(o('/invert', { 'x-user': 'alice' }), '404 NR');
    assert.equal(o('/invert', {}), '404 NR', 'Envoy: an absent header never matches a value matcher, even inverted');
    assert.equal(o('/invertpresent', {}), 'invertpresent', 'inverted present means absent');
    assert.equal(o('/invertpresent', { 'x-debug': '1' }), '404 NR');
    assert.equal(o('/icase', { 'x-user': 'aLiCe' }), 'icase');
    assert.equal(o('/host', {}, 'reviews:9080'), 'host', '"host" matches :authority');
    assert.equal(o('/method', {}), 'method', 'pseudo-headers can be matched');
    assert.equal(o('/multi', [['x-tag', 'a'], ['x-tag', 'b']]), 'multi', 'repeated headers are joined with ","');
    assert.equal(o('/all', { 'x-a': '1', 'x-b': '2' }), 'all');
    assert.equal(o('/all', { 'x-a': '1' }), '404 NR', 'every matcher must match');
    vm.close();
  });

  it('query parameter matchers', async () => {
    const route = (cluster: string, q: Json): Json => ({ match: { prefix: '/' + cluster, queryParams: [q] }, route: { cluster } });
    const vm = await load(oneHost([
      route('exact', { name: 'debug', exact: '1' }),
      route('regex', { name: 'v', regex: '[0-9]+' }),
      route('present', { name: 'flag', present: true }),
      route('absent', { name: 'flag', present: false }),
      route('raw', { name: 'q', exact: 'a%20b' }),
      route('prefix', { name: 'p', prefix: 'ab', ignoreCase: true }),
    ]));
    assert.equal(outcome(vm, 'h', '/exact?debug=1'), 'exact');
    assert.equal(outcome(vm, 'h', '/exact?x=2&debug=1&y'), 'exact');
    assert.equal(outcome(vm, 'h', '/exact?debug=1#frag'), 'exact');
    assert.equal(outcome(vm, 'h', '/exact?debug=2&debug=1'), '404 NR', 'the first occurrence counts');
    assert.equal(outcome(vm, 'h', '/exact?debug'), '404 NR');
    assert.equal(outcome(vm, 'h', '/exact?xdebug=1'), '404 NR');
    assert.equal(outcome(vm, 'h', '/exact'), '404 NR');
    assert.equal(outcome(vm, 'h', '/regex?v=123'), 'regex');
    assert.equal(outcome(vm, 'h', '/regex?v=12a'), '404 NR');
    assert.equal(outcome(vm, 'h', '/present?flag'), 'present', 'no "=" counts as present with value ""');
    assert.equal(outcome(vm, 'h', '/present?flag='), 'present');
    assert.equal(outcome(vm, 'h', '/present?other=1'), '404 NR');
    assert.equal(outcome(vm, 'h', '/absent?other=1'), 'absent');
    assert.equal(outcome(vm, 'h', '/raw?q=a%20b'), 'raw', 'values are compared raw, not URL-decoded');
    assert.equal(outcome(vm, 'h', '/prefix?p=ABC'), 'prefix');
    vm.close();
  });
});

describe('router: forwarding', () => {
  // 10,000 picks keep every check at 4 sigma or more: a correct split never fails by chance (2,000 left the 50% share at 2.7 sigma).
  it('splits by weight, within 2% over 10000 requests, weights need not sum to 100', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/istio' }, route: { weightedClusters: [{ cluster: 'v1', weight: 90 }, { cluster: 'v3', weight: 10 }] } },
      { match: { prefix: '/odd' }, route: { weightedClusters: [{ cluster: 'a', weight: 1 }, { cluster: 'never', weight: 0 }, { cluster: 'b', weight: 2 }, { cluster: 'c', weight: 1 }] } },
    ]));
    const tally = (p: string, n: number): Record<string, number> => {
      const t: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const c = outcome(vm, 'h', p);
        t[c] = (t[c] ?? 0) + 1;
      }
      return t;
    };
    const N = 10_000;
    const istio = tally('/istio', N);
    assert.deepEqual(Object.keys(istio).sort(), ['v1', 'v3']);
    assert.ok(Math.abs(istio.v3! / N - 0.1) <= 0.02, `v3 got ${istio.v3} of ${N}`);
    assert.ok(Math.abs(istio.v1! / N - 0.9) <= 0.02, `v1 got ${istio.v1} of ${N}`);
    const odd = tally('/odd', N);
    assert.equal(odd.never, undefined, 'weight 0 is never picked');
    assert.ok(Math.abs(odd.a! / N - 0.25) <= 0.02, `a got ${odd.a}`);
    assert.ok(Math.abs(odd.b! / N - 0.5) <= 0.02, `b got ${odd.b}`);
    assert.ok(Math.abs(odd.c! / N - 0.25) <= 0.02, `c got ${odd.c}`);
    assert.equal(counter(vm, 'rq_routed'), 2 * N);
    assert.equal(vm.failures.traps, 0);
    vm.close();
  });

  it('consecutive picks are not correlated (no runs longer than chance allows)', async () => {
    const vm = await load(oneHost([{ match: { prefix: '/' }, route: { weightedClusters: [{ cluster: 'x', weight: 1 }, { cluster: 'y', weight: 1 }] } }]));
    let longest = 0;
    let run = 0;
    let prev = '';
    let switches = 0;
    for (let i = 0; i < 2000; i++) {
      const c = outcome(vm, 'h', '/');
      run = c === prev ? run + 1 : 1;
      if (c !== prev && prev !== '') switches++;
      prev = c;
      longest = Math.max(longest, run);
    }
    assert.ok(longest < 25, `longest run ${longest}`);
    assert.ok(Math.abs(switches / 1999 - 0.5) < 0.05, `switch rate ${switches / 1999}`);
    vm.close();
  });

  it('sets the cluster, the hash key and the timeouts', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/h' }, route: { cluster: 'ring', hashKey: 'header:X-User' } },
      { match: { prefix: '/c' }, route: { cluster: 'ring', hashKey: 'cookie:session' } },
      { match: { prefix: '/q' }, route: { cluster: 'ring', hashKey: 'query:id' } },
      { match: { prefix: '/s' }, route: { cluster: 'ring', hashKey: 'source_ip' } },
      { match: { prefix: '/t' }, route: { cluster: 'slow', timeoutMs: 3000, perTryTimeoutMs: 1000 } },
      { match: { prefix: '/p' }, route: { cluster: 'plain' } },
    ]));
    let s = send(vm, 'h', '/h', { 'x-user': 'alice' });
    assert.deepEqual(s.route, { cluster: 'ring', hashKey: 'alice', timeoutMs: 0, perTryTimeoutMs: 0 });
    s = send(vm, 'h', '/h');
    assert.equal(s.route.hashKey, null, 'no header: the cluster keeps its own hashOn');
    s = send(vm, 'h', '/c', { cookie: 'a=1; session=abc123; b=2' });
    assert.equal(s.route.hashKey, 'abc123');
    s = send(vm, 'h', '/q?x=1&id=42');
    assert.equal(s.route.hashKey, '42');
    s = vm.newStream({ sourceAddress: '10.1.2.3' });
    s.sendRequestHeaders({ ':method': 'GET', ':path': '/s', ':authority': 'h' }, true);
    assert.equal(s.route.hashKey, '10.1.2.3');
    s = send(vm, 'h', '/t');
    assert.deepEqual(s.route, { cluster: 'slow', hashKey: null, timeoutMs: 3000, perTryTimeoutMs: 1000 });
    s = send(vm, 'h', '/p');
    assert.deepEqual(s.route, { cluster: 'plain', hashKey: null, timeoutMs: 0, perTryTimeoutMs: 0 });
    assert.equal(s.requestForwarded, true);
    vm.close();
  });

  it('an unknown cluster gets 503 NC', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/gone' }, route: { cluster: 'gone' } },
      { match: { prefix: '/split' }, route: { weightedClusters: [{ cluster: 'known', weight: 1 }, { cluster: 'gone', weight: 1 }] } },
      { match: { prefix: '/' }, route: { cluster: 'known' } },
    ]), ['known']);
    const s = send(vm, 'h', '/gone');
    assert.equal(s.lastAction, 'localReply');
    assert.equal(s.localReply!.status, 503);
    assert.equal(s.localReply!.flag, 'NC');
    assert.equal(s.localReply!.details, 'cluster_not_found');
    assert.equal(s.route.cluster, null);
    assert.equal(outcome(vm, 'h', '/ok'), 'known');
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(outcome(vm, 'h', '/split'));
    assert.deepEqual([...seen].sort(), ['503 NC', 'known']);
    assert.ok(counter(vm, 'rq_no_cluster') > 1);
    vm.close();
  });

  it('prefix and host rewrites keep the query string', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/api/v1/' }, route: { cluster: 'c', prefixRewrite: '/' } },
      { match: { prefix: '/api' }, route: { cluster: 'c', prefixRewrite: '/' } },
      { match: { path: '/exact' }, route: { cluster: 'c', prefixRewrite: '/replaced' } },
      { match: { regex: '/r/[a-z]+' }, route: { cluster: 'c', prefixRewrite: '/regex' } },
      { match: { prefix: '/HOST', caseSensitive: false }, route: { cluster: 'c', prefixRewrite: '/h', hostRewrite: 'internal.svc' } },
      { match: { prefix: '/empty' }, route: { cluster: 'c', prefixRewrite: '' } },
    ]));
    const rewritten = (p: string): [string, string | undefined] => {
      const s = send(vm, 'public.example.com', p);
      assert.equal(s.lastAction, 'continue');
      return [s.path, s.requestHeaders.get('host')];
    };
    assert.deepEqual(rewritten('/api/v1/reviews/1?x=1&y=2'), ['/reviews/1?x=1&y=2', 'public.example.com']);
    assert.deepEqual(rewritten('/api/x'), ['//x', 'public.example.com'], 'Envoy semantics: mind the slashes');
    assert.deepEqual(rewritten('/exact?q'), ['/replaced?q', 'public.example.com']);
    assert.deepEqual(rewritten('/r/abc?z=9'), ['/regex?z=9', 'public.example.com']);
    assert.deepEqual(rewritten('/host/rest?a'), ['/h/rest?a', 'internal.svc']);
    assert.deepEqual(rewritten('/empty/x'), ['/x', 'public.example.com']);
    vm.close();
  });

  it('edits request headers before forwarding and response headers on the way back', async () => {
    const vm = await load(oneHost([
      {
        match: { prefix: '/' },
        route: { cluster: 'c' },
        requestHeadersToAdd: [
          { name: 'X-Added', value: 'yes' },
          { name: 'x-multi', value: 'two' },
          { name: 'x-replaced', value: 'new', append: false },
        ],
        requestHeadersToRemove: ['X-Internal'],
        responseHeadersToAdd: [{ name: 'x-served-by', value: 'router' }, { name: 'cache-control', value: 'no-store', append: false }],
        responseHeadersToRemove: ['server', 'x-powered-by'],
      },
    ]));
    const s = vm.newStream();
    s.sendRequestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'h'], ['x-internal', 'secret'], ['x-multi', 'one'], ['x-replaced', 'old1'], ['x-replaced', 'old2']], true);
    assert.equal(s.requestHeaders.get('x-added'), 'yes');
    assert.equal(s.requestHeaders.has('x-internal'), false);
    assert.deepEqual(s.requestHeaders.getAll('x-multi'), ['one', 'two'], 'append defaults to true');
    assert.deepEqual(s.requestHeaders.getAll('x-replaced'), ['new'], 'append: false replaces every value');
    s.sendResponseHeaders([[':status', '200'], ['server', 'upstream'], ['x-powered-by', 'php'], ['cache-control', 'max-age=60'], ['content-type', 'text/html']]);
    const h = s.responseHeaders!;
    assert.equal(h.get('x-served-by'), 'router');
    assert.deepEqual(h.getAll('cache-control'), ['no-store']);
    assert.equal(h.has('server'), false);
    assert.equal(h.has('x-powered-by'), false);
    assert.equal(h.get('content-type'), 'text/html');
    vm.close();
  });
});

describe('router: redirects and direct responses', () => {
  it('redirects', async () => {
    const vm = await load(oneHost([
      { match: { prefix: '/plain' }, redirect: {} },
      { match: { prefix: '/https' }, redirect: { scheme: 'https' } },
      { match: { prefix: '/host' }, redirect: { host: 'new.example.com', responseCode: 308 } },
      { match: { prefix: '/port' }, redirect: { port: 8443, scheme: 'https' } },
      { match: { path: '/old' }, redirect: { path: '/new' } },
      { match: { path: '/oldq' }, redirect: { path: '/new?fixed=1' } },
      { match: { prefix: '/strip' }, redirect: { stripQuery: true, responseCode: 302 } },
      { match: { prefix: '/v1/' }, redirect: { prefixRewrite: '/v2/', responseCode: 307 }, responseHeadersToAdd: [{ name: 'x-moved', value: 'yes' }] },
    ]));
    const loc = (authority: string, p: string): string => {
      const s = send(vm, authority, p);
      const r = s.localReply!;
      assert.equal(r.details, 'redirect');
      assert.equal(r.body, '');
      return `${r.status} ${r.headers.find(([k]) => k === 'location')?.[1]}`;
    };
    assert.equal(loc('www.example.com', '/plain?a=1'), '301 http://www.example.com/plain?a=1');
    assert.equal(loc('www.example.com:80', '/https/x?a=1'), '301 https://www.example.com/https/x?a=1', 'the default port of the old scheme is dropped');
    assert.equal(loc('www.example.com:8080', '/https'), '301 https://www.example.com:8080/https', 'other ports are kept');
    assert.equal(loc('www.example.com', '/host/x'), '308 http://new.example.com/host/x');
    assert.equal(loc('www.example.com:8080', '/port'), '301 https://www.example.com:8443/port');
    assert.equal(loc('h', '/old?keep=1'), '301 http://h/new?keep=1');
    assert.equal(loc('h', '/oldq?keep=1'), '301 http://h/new?fixed=1', 'a query in path replaces the request query');
    assert.equal(loc('h', '/strip/x?secret=1'), '302 http://h/strip/x');
    assert.equal(loc('h', '/v1/items?id=3'), '307 http://h/v2/items?id=3');
    const s = send(vm, 'h', '/v1/x');
    assert.deepEqual(s.localReply!.headers.find(([k]) => k === 'x-moved'), ['x-moved', 'yes'], 'responseHeadersToAdd apply to redirects');
    assert.equal(s.localReply!.flag, '', 'a redirect carries no response flag');
    assert.equal(counter(vm, 'rq_redirect'), 10);
    vm.close();
  });

  it('direct responses', async () => {
    const vm = await load(oneHost([
      { match: { path: '/healthz' }, directResponse: { status: 200, body: 'ok\n' } },
      { match: { path: '/teapot' }, directResponse: { status: 418 } },
      {
        match: { path: '/json' },
        directResponse: { status: 503, body: '{"down":true}' },
        responseHeadersToAdd: [{ name: 'content-type', value: 'application/json', append: false }, { name: 'retry-after', value: '30' }],
      },
    ]));
    let s = send(vm, 'h', '/healthz');
    assert.equal(s.lastAction, 'localReply');
    assert.deepEqual(s.localReply, { status: 200, body: 'ok\n', headers: [['content-type', 'text/plain']], flag: '', details: 'direct_response' });
    assert.equal(s.requestForwarded, false);
    s = send(vm, 'h', '/teapot');
    assert.equal(s.localReply!.status, 418);
    assert.equal(s.localReply!.body, '');
    s = send(vm, 'h', '/json');
    assert.equal(s.localReply!.status, 503);
    assert.deepEqual(s.localReply!.headers, [['content-type', 'application/json'], ['retry-after', '30']]);
    assert.equal(counter(vm, 'rq_direct_response'), 3);
    vm.close();
  });
});

describe('router: configuration', () => {
  it('logs what it loaded', async () => {
    const vm = await load({ virtualHosts: [{ domains: ['a'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }, { domains: ['b'], routes: [] }] });
    assert.ok(vm.logs.some((l) => l.message === 'router: 2 virtual host(s), 1 route(s)'), JSON.stringify(vm.logs));
    vm.close();
  });

  it('refuses invalid configurations, logging the JSON path of each problem', async () => {
    const route = (r: Json): Json => ({ virtualHosts: [{ name: 'v', domains: ['*'], routes: [r] }] });
    const ok = { match: { prefix: '/' }, route: { cluster: 'c' } };
    const cases: [unknown, RegExp][] = [
      ['{not json', /\(top level\): invalid JSON: .* at line 1, column 2/],
      ['[]', /expected a JSON object/],
      [{}, /virtualHosts: required/],
      [{ virtualHosts: [] }, /virtualHosts: must list at least one virtual host/],
      [{ virtualHosts: [{ domains: ['*'], routes: [ok] }], extra: 1 }, /extra: unknown field \(expected one of: virtualHosts\)/],
      [{ virtualHosts: [{ routes: [ok] }] }, /virtualHosts\[0\]\.domains: required/],
      [{ virtualHosts: [{ domains: [], routes: [] }] }, /virtualHosts\[0\]\.domains: must list at least one domain/],
      [{ virtualHosts: [{ domains: ['a'], routes: [] }, { domains: ['A'], routes: [] }] }, /virtualHosts\[1\]\.domains\[0\]: domain "a" is already used by virtualHosts\[0\]\.domains\[0\]/],
      [{ virtualHosts: [{ domains: ['*'], routes: [] }, { domains: ['*'], routes: [] }] }, /virtualHosts\[1\]\.domains\[0\]: domain "\*" is already used/],
      [{ virtualHosts: [{ domains: ['a*b'], routes: [] }] }, /virtualHosts\[0\]\.domains\[0\]: invalid domain "a\*b": '\*' must be the first or last/],
      [{ virtualHosts: [{ domains: ['*.a.*'], routes: [] }] }, /at most one '\*'/],
      [{ virtualHosts: [{ domains: ['*.a.com:80'], routes: [] }] }, /a wildcard domain cannot have a port/],
      [{ virtualHosts: [{ domains: [3], routes: [] }] }, /virtualHosts\[0\]\.domains\[0\]: expected a string, got number/],
      [{ virtualHosts: [{ domains: ['*'], routes: {} }] }, /virtualHosts\[0\]\.routes: expected an array, got object/],
      [route({ route: { cluster: 'c' } }), /virtualHosts\[0\]\.routes\[0\]\.match: required/],
      [route({ match: {}, route: { cluster: 'c' } }), /routes\[0\]\.match: needs one of "prefix", "path" or "regex"/],
      [route({ match: { prefix: '/', path: '/x' }, route: { cluster: 'c' } }), /routes\[0\]\.match: has more than one of "prefix", "path" and "regex"/],
      [route({ match: { prefx: '/' }, route: { cluster: 'c' } }), /routes\[0\]\.match\.prefx: unknown field/],
      [route({ match: { prefix: '/' } }), /routes\[0\]: needs one of "route", "redirect" or "directResponse"/],
      [route({ match: { prefix: '/' }, route: { cluster: 'c' }, directResponse: { status: 200 } }), /routes\[0\]: has more than one of "route", "redirect" and "directResponse"/],
      [route({ match: { prefix: '/' }, route: {} }), /routes\[0\]\.route: needs "cluster" or "weightedClusters"/],
      [route({ match: { prefix: '/' }, route: { cluster: '' } }), /routes\[0\]\.route\.cluster: must not be empty/],
      [route({ match: { prefix: '/' }, route: { cluster: 'c', weightedClusters: [] } }), /routes\[0\]\.route: has both "cluster" and "weightedClusters"/],
      [route({ match: { prefix: '/' }, route: { weightedClusters: [] } }), /routes\[0\]\.route\.weightedClusters: must list at least one cluster/],
      [route({ match: { prefix: '/' }, route: { weightedClusters: [{ cluster: 'a', weight: 0 }] } }), /weightedClusters: the weights add up to 0/],
      [route({ match: { prefix: '/' }, route: { weightedClusters: [{ cluster: 'a', weight: -1 }] } }), /weightedClusters\[0\]\.weight: must be between 0 and 4294967295, got -1/],
      [route({ match: { prefix: '/' }, route: { weightedClusters: [{ cluster: 'a', weight: 1.5 }] } }), /weightedClusters\[0\]\.weight: expected an integer, got 1\.5/],
      [route({ match: { prefix: '/' }, route: { weightedClusters: [{ cluster: 'a' }] } }), /weightedClusters\[0\]\.weight: required/],
      [route({ match: { prefix: '/' }, route: { cluster: 'c', timeoutMs: '3s' } }), /routes\[0\]\.route\.timeoutMs: expected an integer, got string/],
      [route({ match: { prefix: '/' }, route: { cluster: 'c', hashKey: 'header' } }), /route\.hashKey: invalid hash key "header"/],
      [route({ match: { prefix: '/' }, route: { cluster: 'c', hostRewrite: 'a b' } }), /route\.hostRewrite: invalid host/],
      [route({ match: { prefix: '/', methods: ['get'] }, route: { cluster: 'c' } }), /match\.methods\[0\]: method "get" is compared case-sensitively: did you mean "GET"\?/],
      [route({ match: { prefix: '/', headers: [{ name: 'x' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]: needs one of "exact"/],
      [route({ match: { prefix: '/', headers: [{ exact: 'x' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]\.name: required/],
      [route({ match: { prefix: '/', headers: [{ name: 'x', exact: 'a', prefix: 'b' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]: has more than one of/],
      [route({ match: { prefix: '/', headers: [{ name: 'bad name', exact: 'a' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]\.name: invalid header name "bad name"/],
      [route({ match: { prefix: '/', headers: [{ name: 'x', present: 'yes' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]\.present: expected true or false, got string/],
      [route({ match: { prefix: '/', queryParams: [{ name: 'x', exact: '1', invert: true }] }, route: { cluster: 'c' } }), /match\.queryParams\[0\]\.invert: unknown field/],
      [route({ match: { regex: '/x', caseSensitive: false }, route: { cluster: 'c' } }), /match\.caseSensitive: not supported with "regex"/],
      [route({ match: { path: '/x?y' }, route: { cluster: 'c' } }), /match\.path: must not contain a query string/],
      [route({ match: { prefix: '/' }, redirect: { responseCode: 200 } }), /routes\[0\]\.redirect\.responseCode: must be 301, 302, 303, 307 or 308, got 200/],
      [route({ match: { prefix: '/' }, redirect: { path: 'x' } }), /redirect\.path: must start with '\/'/],
      [route({ match: { prefix: '/' }, redirect: { path: '/x', prefixRewrite: '/' } }), /routes\[0\]\.redirect: has both "path" and "prefixRewrite"/],
      [route({ match: { prefix: '/' }, redirect: { scheme: '1http' } }), /redirect\.scheme: invalid scheme "1http"/],
      [route({ match: { prefix: '/' }, redirect: { port: 70000 } }), /redirect\.port: must be between 1 and 65535/],
      [route({ match: { prefix: '/' }, directResponse: {} }), /directResponse\.status: required/],
      [route({ match: { prefix: '/' }, directResponse: { status: 99 } }), /directResponse\.status: must be between 200 and 599, got 99/],
      [route({ ...ok, requestHeadersToAdd: [{ name: ':path', value: '/x' }] }), /requestHeadersToAdd\[0\]\.name: ":path" cannot be added or removed \(use prefixRewrite \/ hostRewrite\)/],
      [route({ ...ok, requestHeadersToAdd: [{ name: 'x', value: 'a\r\nb' }] }), /requestHeadersToAdd\[0\]\.value: must not contain CR, LF or NUL/],
      [route({ ...ok, requestHeadersToAdd: [{ name: 'x' }] }), /requestHeadersToAdd\[0\]\.value: required/],
      [route({ ...ok, requestHeadersToRemove: ['Host'] }), /requestHeadersToRemove\[0\]: "host" cannot be added or removed/],
      [route({ ...ok, responseHeadersToAdd: [{ name: 'x', value: 'y', append: 'no' }] }), /responseHeadersToAdd\[0\]\.append: expected true or false/],
      [route({ ...ok, responseHeadersToRemove: 'server' }), /responseHeadersToRemove: expected an array, got string/],
      [route({ match: { regex: '(a' }, route: { cluster: 'c' } }), /routes\[0\]\.match\.regex: invalid regex "\(a": missing '\)' for this '\(' at offset 0/],
      [route({ match: { prefix: '/', headers: [{ name: 'x', regex: 'a)' }] }, route: { cluster: 'c' } }), /match\.headers\[0\]\.regex: invalid regex "a\)": unexpected '\)'/],
    ];
    for (const [config, want] of cases) {
      const { logs } = await refused(config);
      assert.ok(logs.some((l) => want.test(l)), `${JSON.stringify(config)}: expected a log matching ${want}, got ${JSON.stringify(logs)}`);
      assert.ok(logs.some((l) => /^router: configuration refused \(\d+ problems?\)$/.test(l)), JSON.stringify(logs));
    }
  });

  it('reports every problem of a config at once', async () => {
    const { logs } = await refused({
      virtualHosts: [
        { domains: ['*'], routes: [{ match: { regex: '[z-a]' }, route: { cluster: 'c' } }, { match: { prefix: '/' }, redirect: { responseCode: 299 } }] },
        { domains: ['x*y'], routes: [] },
      ],
    });
    const problems = logs.filter((l) => l.startsWith('router: invalid config: '));
    assert.equal(problems.length, 3, JSON.stringify(logs));
    assert.ok(logs.includes('router: configuration refused (3 problems)'));
  });
});

describe('router: regular expressions', () => {
  /** One VM whose routes test header x-in against each pattern (selected by x-case). */
  async function regexVm(patterns: string[]): Promise<(i: number, input: string) => boolean> {
    const routes: Json[] = patterns.map((p, i) => ({
      match: { prefix: '/', headers: [{ name: 'x-case', exact: String(i) }, { name: 'x-in', regex: p }] },
      directResponse: { status: 200 },
    }));
    routes.push({ match: { prefix: '/' }, directResponse: { status: 204 } });
    const vm = await load(oneHost(routes));
    return (i, input) => {
      const s = send(vm, 'h', '/', { 'x-case': String(i), 'x-in': input });
      s.complete();
      assert.notEqual(s.localReply, null);
      return s.localReply!.status === 200;
    };
  }

  it('agrees with a reference engine on the RE2 subset (full match)', async () => {
    // JavaScript RegExp agrees with RE2 on these patterns for ASCII input without \r \v.
    const patterns = [
      'a*b', '(a|b)*abb', '(a*)*b', '(a|ab)(c|bcd)(d*)', '[a-c]+x?', '[^ab]*', 'a{2,3}', 'a{2,}b{0,1}', '(ab){1,2}',
      '(?:a|b|)+', 'a.b', '\\d+-\\w*', '[\\d.]+', '[-a]+', '[a-]+', 'x|y|', '^a$', 'a^b', '(a|b)*$', '((a)|b)+', '.*', '',
      'a??b+?', 'a{0}', '(|a)*', '0x[0-9a-f]{1,4}', 'a{,2}', 'a{1,2', 'b}', '[\\]a-]+', '[\\s\\S]b', '\\D\\W?', '[^\\d\\s]+',
      '(a+|b+)*c', '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\', 'a*?', '(?:(?:a|b)c)*', '[a-c-e]', '.{2,}|a', '(a?){3}a{3}',
      '^$', '$', '(^a|b$)+', '[a-cx-z]{2}[^-]', '(x+x+)+y',
    ];
    const alphabet = ['a', 'b', 'c', 'd', 'x', 'y', 'z', '0', '1', '-', '.', ']', '}', ' ', '{', '\\', '*', '\t'];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const match = await regexVm(patterns);
    let checked = 0;
    patterns.forEach((p, i) => {
      const js = new RegExp(`^(?:${p})$`);
      const own = [...new Set(p.replace(/[\\[\]()?*+{}|^$]/g, '').split(''))];
      const inputs = new Set(['', 'a', 'b', 'ab', 'abb', 'aab', 'aaa', 'xxxxy', 'abcd', 'aaabbb']);
      for (let k = 0; k < 200; k++) {
        const pool = own.length > 0 && k % 2 === 0 ? own : alphabet;
        let s = '';
        for (let n = rand(9); n > 0; n--) s += pool[rand(pool.length)];
        inputs.add(s);
      }
      for (const input of inputs) {
        assert.equal(match(i, input), js.test(input), `${JSON.stringify(p)} against ${JSON.stringify(input)}`);
        checked++;
      }
    });
    assert.ok(checked > 4000, `checked ${checked}`);
  });

  it('RE2 syntax where JavaScript differs, non-ASCII input, POSIX classes, named groups', async () => {
    const cases: [string, string, boolean][] = [
      ['[]a]+', ']a]', true], // a leading ] is literal (an empty class in JS)
      ['[^]a]', 'b', true],
      ['[^]a]', ']', false],
      ['\\x61\\x{62}', 'ab', true],
      ['\\x{1F600}', '😀', true],
      ['.', '😀', true], // one code point, not two UTF-16 units
      ['..', '😀', false],
      ['[😀-😂]+', '😁😀', true],
      ['[^a]', 'é', true],
      ['caf.', 'café', true],
      ['[[:alpha:]]+[[:digit:]]', 'abC1', true],
      ['[[:^digit:]]+', 'ab', true],
      ['[[:^digit:]]+', 'a1', false],
      ['[[:xdigit:][:space:]]+', 'fF 0\t', true],
      ['(?P<ver>v[0-9]+)/(?<rest>.*)', 'v2/x', true],
      ['a.c', 'a\nc', false], // . does not match \n
      ['a[^x]c', 'a\nc', true], // a negated class does
      ['a\\sc', 'a\nc', true],
      ['a\\sc', 'a\u000bc', false], // RE2's \s has no \v
      ['\\Aab\\z', 'ab', true],
      ['a{1000}', 'a'.repeat(1000), true],
      ['a{1000}', 'a'.repeat(999), false],
      ['(?:ab){2,3}?', 'ababab', true],
    ];
    const match = await regexVm(cases.map(([p]) => p));
    cases.forEach(([p, input, want], i) => assert.equal(match(i, input), want, `${p} against ${JSON.stringify(input)}`));
  });

  it('refuses syntax it does not support, with the reason', async () => {
    const cases: [string, RegExp][] = [
      ['(?i)abc', /flags and other \(\? groups are not supported/],
      ['a(?=b)', /lookaround .* is not supported/],
      ['(?<!a)b', /lookaround/],
      ['\\bword\\b', /word boundaries \(\\b, \\B\) are not supported/],
      ['\\pL', /Unicode classes/],
      ['\\Qa.b\\E', /quoting/],
      ['(a)\\1', /backreferences and octal escapes \(\\1\) are not supported/],
      ['\\k', /invalid or unsupported escape \\k/],
      ['*a', /missing argument to repetition operator '\*'/],
      ['a|+', /missing argument to repetition operator '\+'/],
      ['a**', /bad repetition operator: \*\*/],
      ['a{2}{3}', /bad repetition operator/],
      ['a{1001}', /repetition count above 1000/],
      ['a{3,2}', /bad repetition \{3,2\} \(min > max\)/],
      ['(a{1000}){2}', /pattern too large/],
      ['[a-', /missing '\]'/],
      ['[z-a]', /invalid character class range z-a/],
      ['[\\d-z]', /\\d cannot start a range/],
      ['[[:foo:]]', /unknown POSIX class \[:foo:\]/],
      ['\\x{110000}', /invalid escape \\x\{...\}/],
      ['\\xZ1', /invalid escape \\x/],
      ['abc\\', /trailing backslash/],
      ['a)', /unexpected '\)'/],
      ['((((a)', /missing '\)'/],
      ['('.repeat(101) + ')'.repeat(101), /groups nested deeper than 100/],
    ];
    for (const [pattern, want] of cases) {
      const { logs } = await refused(oneHost([{ match: { regex: pattern }, route: { cluster: 'c' } }]));
      const line = logs.find((l) => l.includes('match.regex: invalid regex'));
      assert.ok(line !== undefined && want.test(line), `${pattern}: ${JSON.stringify(logs)}`);
      if (!/too large/.test(line!)) assert.match(line!, / at offset \d+$/, 'syntax errors say where');
    }
  });

  it('pathological patterns finish fast on long inputs (no backtracking)', async () => {
    const cases: [string, string, boolean][] = [
      ['(a*)*b', 'a'.repeat(30000), false],
      ['(a*)*b', 'a'.repeat(30000) + 'b', true],
      ['(a|aa)*c', 'a'.repeat(30000), false],
      ['(x+x+)+y', 'x'.repeat(30000), false],
      ['(a|a)*b', 'a'.repeat(30000), false],
      ['(?:a?){30}a{30}', 'a'.repeat(30), true],
      ['(?:a?){30}a{30}', 'a'.repeat(61), false],
      ['(.*a){20}', 'a'.repeat(5000) + 'b', false],
      ['(.*a){20}', 'ba'.repeat(2500), true],
    ];
    const match = await regexVm(cases.map(([p]) => p));
    cases.forEach(([p, input, want], i) => {
      const t0 = process.hrtime.bigint();
      assert.equal(match(i, input), want, p);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(ms < 500, `${p} on ${input.length} chars: ${ms.toFixed(1)} ms`);
    });
  });

  it('a request whose regex work exceeds the limit is refused with 431 DPE, never routed past a route', async () => {
    const vm = await load(oneHost([
      { name: 'deny', match: { prefix: '/', headers: [{ name: 'x-user', regex: '.*a.{40}' }] }, directResponse: { status: 403 } },
      { name: 'allow', match: { prefix: '/' }, route: { cluster: 'backend' } },
    ]));
    // Small inputs are matched normally.
    assert.equal(outcome(vm, 'h', '/', { 'x-user': 'a'.repeat(100) }), '403 ');
    assert.equal(outcome(vm, 'h', '/', { 'x-user': 'bob' }), 'backend');
    // 60 KB of 'a' keeps ~80 NFA states alive per character: over the limit.
    const s = send(vm, 'h', '/', { 'x-user': 'a'.repeat(60000) });
    assert.equal(s.lastAction, 'localReply');
    assert.deepEqual([s.localReply!.status, s.localReply!.flag, s.localReply!.details], [431, 'DPE', 'router_regex_work_limit']);
    assert.equal(s.route.cluster, null, 'not routed to the fallback route');
    assert.equal(vm.failures.traps, 0, 'the execution budget was not exhausted');
    assert.equal(counter(vm, 'rq_regex_limit'), 1);
    assert.ok(vm.logs.some((l) => l.level === 'warn' && l.message.includes('router: request refused (431)')));
    // The VM keeps serving.
    assert.equal(outcome(vm, 'h', '/', { 'x-user': 'bob' }), 'backend');
    vm.close();
  });
});
