// The retry filter in the host emulator: which responses are retried under
// each retryOn policy, attempts, backoff bounds, idempotency, the retry
// budget, per-try timeouts and the counters.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Emulator } from '../../sdk/testing';
import type { EmulatedStream } from '../../sdk/testing/emulated-stream';

const WASM = path.join(__dirname, '../../filters/retry.wasm');

const GET = { ':method': 'GET', ':path': '/', ':authority': 'web' };

async function load(config: unknown): Promise<Emulator> {
  return Emulator.load(WASM, { name: 'retry', config, logLevel: 'warn' });
}

function counter(vm: Emulator, name: string): number {
  const m = vm.metric(name);
  return m !== undefined && 'value' in m ? Number(m.value) : 0;
}

/** Sends one response (optionally a core failure with `flag`) and says whether the filter asked for a retry. */
function respond(s: EmulatedStream, status: number, flag = '', extra: Record<string, string> = {}, details = ''): boolean {
  const before = s.retries.length;
  s.responseFlag = flag;
  s.responseDetails = details;
  const action = s.sendResponseHeaders({ ':status': String(status), ...extra });
  const retried = s.retries.length > before;
  assert.equal(action, retried ? 'pause' : 'continue', `status ${status} ${flag}: action ${action}`);
  return retried;
}

function attemptsHeader(s: EmulatedStream): string | undefined {
  return s.responseHeaders?.get('x-wasmesh-attempts');
}

describe('retry filter (emulator)', () => {
  it('refuses invalid configurations', async () => {
    for (const bad of [
      { attempts: -1 },
      { attempts: 1.5 },
      { retryOn: '5xx,bogus' },
      { retryOn: 5 },
      { retriableStatusCodes: [700] },
      { backoff: { baseMs: 100, maxMs: 10 } },
      { budget: { percent: 120 } },
      { retryNonIdempotent: 'yes' },
      { atempts: 3 },
      '{not json',
    ]) {
      await assert.rejects(load(bad), /returned false|rejected its config/, JSON.stringify(bad));
    }
  });

  it('loads the documented example configuration (string and list forms of retryOn)', async () => {
    const example = {
      attempts: 2, perTryTimeoutMs: 0,
      retryOn: '5xx,gateway-error,reset,connect-failure,retriable-4xx,retriable-status-codes',
      retriableStatusCodes: [409], backoff: { baseMs: 25, maxMs: 250 },
      budget: { percent: 20, minRetryConcurrency: 3 }, retryNonIdempotent: false, maxReplayBytes: 65536,
    };
    for (const config of [example, { ...example, retryOn: ['5xx', ' gateway-error ', 'reset'] }, '', {}]) {
      const vm = await load(config);
      assert.equal(vm.failures.traps, 0);
      vm.close();
    }
  });

  it('5xx: any 5xx, including core failures; not 4xx', async () => {
    const vm = await load({ attempts: 3, retryOn: '5xx', backoff: { baseMs: 0 } });
    for (const [status, flag] of [[500, ''], [501, ''], [503, ''], [599, ''], [503, 'UF'], [503, 'UC'], [502, 'UPE']] as const) {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      assert.ok(respond(s, status, flag), `${status} ${flag} is retried under 5xx`);
      s.complete();
    }
    for (const status of [200, 404, 409, 429]) {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      assert.ok(!respond(s, status), `${status} is not retried under 5xx`);
      assert.equal(attemptsHeader(s), '1');
      s.complete();
    }
    vm.close();
  });

  it('gateway-error: 502, 503, 504 only (and core failures with those codes)', async () => {
    const vm = await load({ attempts: 1, retryOn: 'gateway-error' });
    const cases: [number, string, boolean][] = [
      [502, '', true], [503, '', true], [504, '', true], [500, '', false], [501, '', false], [505, '', false],
      [503, 'UF', true], [503, 'UC', true], [409, '', false],
    ];
    for (const [status, flag, want] of cases) {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      assert.equal(respond(s, status, flag), want, `${status} ${flag}`);
      s.complete();
    }
    vm.close();
  });

  it('reset and connect-failure: by response.flags, not by status', async () => {
    const reset = await load({ attempts: 1, retryOn: 'reset' });
    for (const [status, flag, want] of [[503, 'UC', true], [503, 'UF', true], [502, 'UPE', true], [503, '', false], [500, '', false]] as const) {
      const s = reset.newStream();
      s.sendRequestHeaders(GET, true);
      assert.equal(respond(s, status, flag), want, `reset: ${status} ${flag}`);
      s.complete();
    }
    reset.close();

    const cf = await load({ attempts: 1, retryOn: 'connect-failure' });
    for (const [status, flag, want] of [[503, 'UF', true], [503, 'UC', false], [503, '', false], [502, '', false]] as const) {
      const s = cf.newStream();
      s.sendRequestHeaders(GET, true);
      assert.equal(respond(s, status, flag), want, `connect-failure: ${status} ${flag}`);
      s.complete();
    }
    // A connect timeout (UT whose details name the connect) is a connect failure, as in Envoy.
    const s = cf.newStream();
    s.sendRequestHeaders(GET, true);
    assert.ok(respond(s, 504, 'UT', {}, 'connect to 127.0.0.1:1 timed out after 1000ms'));
    s.complete();
    cf.close();
  });

  it('retriable-4xx retries 409 only; retriable-status-codes uses the list, for upstream responses only', async () => {
    const r4 = await load({ attempts: 1, retryOn: 'retriable-4xx' });
    for (const [status, want] of [[409, true], [400, false], [404, false], [429, false], [503, false]] as const) {
      const s = r4.newStream();
      s.sendRequestHeaders(GET, true);
      assert.equal(respond(s, status), want, `retriable-4xx: ${status}`);
      s.complete();
    }
    r4.close();

    const rc = await load({ attempts: 1, retryOn: 'retriable-status-codes', retriableStatusCodes: [429, 418] });
    for (const [status, flag, want] of [[429, '', true], [418, '', true], [503, '', false], [409, '', false], [503, 'UF', false]] as const) {
      const s = rc.newStream();
      s.sendRequestHeaders(GET, true);
      assert.equal(respond(s, status, flag), want, `retriable-status-codes: ${status} ${flag}`);
      s.complete();
    }
    rc.close();
  });

  it('gRPC policies match grpc-status in the response headers', async () => {
    // gRPC calls are POSTs: retrying them needs retryNonIdempotent.
    const vm = await load({ attempts: 1, retryOn: 'unavailable,cancelled', retryNonIdempotent: true });
    for (const [code, want] of [['14', true], ['1', true], ['4', false], ['0', false]] as const) {
      const g = vm.newStream();
      g.sendRequestHeaders({ ':method': 'POST', ':path': '/svc/M', ':authority': 'grpc' }, true);
      assert.equal(respond(g, 200, '', { 'grpc-status': code, 'content-type': 'application/grpc' }), want, `grpc-status ${code}`);
      g.complete();
    }
    vm.close();
  });

  it('the defaults are Istio\'s: attempts 2, connect-failure/refused-stream/unavailable/cancelled/retriable-status-codes with 503', async () => {
    const vm = await load({});
    const s = vm.newStream();
    s.sendRequestHeaders(GET, true);
    assert.ok(respond(s, 503));
    assert.ok(respond(s, 503, 'UF'));
    assert.ok(!respond(s, 503), 'two retries, then the third 503 goes through');
    assert.equal(attemptsHeader(s), '3');
    s.complete();
    const t = vm.newStream();
    t.sendRequestHeaders(GET, true);
    assert.ok(!respond(t, 502), '502 is not in the default policies');
    t.complete();
    vm.close();
  });

  it('attempts: retries until exhausted, then passes the last response with x-wasmesh-attempts and counters', async () => {
    const vm = await load({ attempts: 3, retryOn: '5xx', backoff: { baseMs: 10, maxMs: 100 } });
    const s = vm.newStream();
    s.sendRequestHeaders(GET, true);
    assert.equal(s.requestForwarded, true);
    for (let i = 0; i < 3; i++) assert.ok(respond(s, 503), `retry ${i + 1}`);
    assert.ok(!respond(s, 503), 'the 4th attempt is the last');
    assert.equal(s.responseForwarded, true);
    assert.equal(attemptsHeader(s), '4');
    assert.equal(s.retries.length, 3);
    s.complete();
    assert.equal(counter(vm, 'rq_retry'), 3);
    assert.equal(counter(vm, 'rq_retry_exhausted'), 1);
    assert.equal(counter(vm, 'rq_retry_success'), 0);

    // A success after a retry: counted, attempts in the header.
    const ok = vm.newStream();
    ok.sendRequestHeaders(GET, true);
    assert.ok(respond(ok, 500));
    assert.ok(!respond(ok, 200));
    assert.equal(attemptsHeader(ok), '2');
    ok.complete();
    assert.equal(counter(vm, 'rq_retry_success'), 1);
    assert.equal(counter(vm, 'rq_retry'), 4);

    // attempts 0: never retried.
    const none = await load({ attempts: 0, retryOn: '5xx' });
    const n = none.newStream();
    n.sendRequestHeaders(GET, true);
    assert.ok(!respond(n, 503));
    assert.equal(attemptsHeader(n), '1');
    assert.equal(counter(none, 'rq_retry_exhausted'), 1);
    none.close();
    vm.close();
  });

  it('backoff: full jitter in [0, min(max, base * 2^n)]', async () => {
    const vm = await load({ attempts: 6, retryOn: '5xx', budget: false, backoff: { baseMs: 25, maxMs: 250 } });
    const byRetry: number[][] = [[], [], [], [], [], []];
    for (let i = 0; i < 300; i++) {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      for (let k = 0; k < 6; k++) assert.ok(respond(s, 503));
      s.retries.forEach((b, k) => byRetry[k]!.push(b));
      s.complete();
    }
    const ceilings = [25, 50, 100, 200, 250, 250];
    byRetry.forEach((list, k) => {
      const max = Math.max(...list);
      const min = Math.min(...list);
      assert.ok(list.every((b) => Number.isInteger(b) && b >= 0 && b <= ceilings[k]!), `retry ${k}: ${min}..${max} within [0, ${ceilings[k]}]`);
      // Full jitter: spread over the range, not clustered at the top.
      assert.ok(max > ceilings[k]! * 0.8, `retry ${k}: max ${max} reaches near ${ceilings[k]}`);
      assert.ok(min < ceilings[k]! * 0.2, `retry ${k}: min ${min} goes near 0`);
      const mean = list.reduce((a, b) => a + b, 0) / list.length;
      assert.ok(Math.abs(mean - ceilings[k]! / 2) < ceilings[k]! * 0.1, `retry ${k}: mean ${mean.toFixed(1)} about ${ceilings[k]! / 2}`);
    });

    // maxMs defaults to 10x baseMs.
    const d = await load({ attempts: 10, retryOn: '5xx', budget: false, backoff: { baseMs: 2 } });
    let top = 0;
    for (let i = 0; i < 50; i++) {
      const s = d.newStream();
      s.sendRequestHeaders(GET, true);
      for (let k = 0; k < 10; k++) respond(s, 503);
      top = Math.max(top, ...s.retries);
      assert.ok(s.retries.every((b) => b <= 20));
      s.complete();
    }
    assert.ok(top >= 15, `max backoff ${top} approaches 20`);
    d.close();
    vm.close();
  });

  it('non-idempotent methods are not retried, except after a connect failure; retryNonIdempotent allows them', async () => {
    const vm = await load({ attempts: 2, retryOn: '5xx,connect-failure' });
    for (const method of ['POST', 'PATCH', 'CONNECT']) {
      const s = vm.newStream();
      s.sendRequestHeaders({ ':method': method, ':path': '/', ':authority': 'web', 'content-length': '3' });
      s.sendRequestBody('abc', true);
      assert.ok(!respond(s, 503), `${method} 503 is not retried`);
      assert.equal(attemptsHeader(s), '1');
      s.complete();
      const u = vm.newStream();
      u.sendRequestHeaders({ ':method': method, ':path': '/', ':authority': 'web' }, true);
      assert.ok(respond(u, 503, 'UF'), `${method} after a connect failure is retried (nothing was sent)`);
      assert.ok(!respond(u, 503, 'UC'), `${method} after a reset is not`);
      u.complete();
    }
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
      const s = vm.newStream();
      s.sendRequestHeaders({ ':method': method, ':path': '/', ':authority': 'web' }, true);
      assert.ok(respond(s, 503), `${method} is idempotent`);
      s.complete();
    }
    vm.close();

    const all = await load({ attempts: 2, retryOn: '5xx', retryNonIdempotent: true });
    const p = all.newStream();
    p.sendRequestHeaders({ ':method': 'POST', ':path': '/', ':authority': 'web', 'content-length': '3' });
    p.sendRequestBody('abc', true);
    assert.ok(respond(p, 503));
    assert.ok(!respond(p, 200));
    assert.equal(attemptsHeader(p), '2');
    p.complete();
    all.close();
  });

  it('keeps the request body for replay (up to maxReplayBytes) and sets the per-try timeout', async () => {
    const vm = await load({ attempts: 2, retryOn: '5xx', maxReplayBytes: 1000, perTryTimeoutMs: 150 });
    const s = vm.newStream();
    s.sendRequestHeaders({ ':method': 'PUT', ':path': '/', ':authority': 'web', 'content-length': '5' });
    assert.equal(s.keptRequestBody, 1000);
    assert.equal(s.route.perTryTimeoutMs, 150);
    assert.equal(s.route.timeoutMs, 0, 'the total timeout is left alone');
    s.complete();
    const big = vm.newStream();
    big.sendRequestHeaders({ ':method': 'PUT', ':path': '/', ':authority': 'web', 'content-length': '5000' });
    assert.equal(big.keptRequestBody, 0, 'a body known to be over the cap is not kept');
    big.complete();
    const chunked = vm.newStream();
    chunked.sendRequestHeaders({ ':method': 'PUT', ':path': '/', ':authority': 'web' });
    assert.equal(chunked.keptRequestBody, 1000, 'a body of unknown length is kept up to the cap');
    chunked.complete();
    const empty = vm.newStream();
    empty.sendRequestHeaders(GET, true);
    assert.equal(empty.keptRequestBody, 0, 'no body, nothing to keep');
    empty.complete();
    vm.close();
  });

  it('UT: a per-try timeout is retried under 5xx/gateway-error; the global timeout is not; UO never is', async () => {
    const vm = await load({ attempts: 2, retryOn: 'gateway-error', perTryTimeoutMs: 100, backoff: { baseMs: 0 } });
    const s = vm.newStream();
    s.sendRequestHeaders(GET, true);
    vm.advance(100);
    assert.ok(respond(s, 504, 'UT'), 'per-try timeout');
    vm.advance(30);
    assert.ok(!respond(s, 504, 'UT'), 'UT before the per-try timeout could expire: the global timeout');
    s.complete();
    vm.close();

    const noPerTry = await load({ attempts: 2, retryOn: '5xx' });
    const t = noPerTry.newStream();
    t.sendRequestHeaders(GET, true);
    noPerTry.advance(15000);
    assert.ok(!respond(t, 504, 'UT'), 'without a per-try timeout a UT is the global timeout');
    t.complete();
    const o = noPerTry.newStream();
    o.sendRequestHeaders(GET, true);
    assert.ok(!respond(o, 503, 'UO'), 'overflow is never retried');
    o.complete();
    noPerTry.close();
  });

  it('a request the host cannot replay gets the response it has', async () => {
    const vm = await load({ attempts: 2, retryOn: '5xx' });
    const s = vm.newStream();
    s.sendRequestHeaders(GET, true);
    // The emulator refuses wasmesh.retry before any response exists; call the filter's path directly:
    // a 503 whose retry() is refused must be passed on with attempts 1.
    const orig = s.retry.bind(s);
    s.retry = () => false;
    assert.ok(!respond(s, 503));
    assert.equal(attemptsHeader(s), '1');
    assert.equal(counter(vm, 'rq_retry_not_replayable'), 1);
    s.retry = orig;
    s.complete();
    vm.close();
  });

  it('budget: active retries <= max(minRetryConcurrency, percent% of active requests)', async () => {
    const vm = await load({ attempts: 5, retryOn: '5xx', budget: { percent: 20, minRetryConcurrency: 2 } });
    // 20 active requests: 20% = 4 concurrent retries.
    const streams = Array.from({ length: 20 }, () => {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      return s;
    });
    const retried = streams.map((s) => respond(s, 503));
    assert.deepEqual(retried.map(Number), [1, 1, 1, 1, ...Array(16).fill(0)]);
    assert.equal(counter(vm, 'rq_retry_budget_exceeded'), 16);
    for (const s of streams.slice(4)) {
      assert.equal(attemptsHeader(s), '1');
      s.complete();
    }
    // 4 active requests now, all retrying: the floor of 2 would allow 2, but 4 are active: no more.
    const extra = vm.newStream();
    extra.sendRequestHeaders(GET, true);
    assert.ok(!respond(extra, 503), '5 active requests, 4 active retries: over max(2, 1)');
    extra.complete();
    // A retried attempt that answers ends its retry: room for another.
    assert.ok(!respond(streams[0]!, 200));
    assert.ok(!respond(streams[1]!, 200));
    assert.ok(!respond(streams[2]!, 200));
    const next = vm.newStream();
    next.sendRequestHeaders(GET, true);
    assert.ok(respond(next, 503), '1 active retry < minRetryConcurrency 2');
    for (const s of [...streams.slice(0, 4), next]) s.complete();

    // Completed streams leave the budget: a new wave gets the same allowance.
    const wave = Array.from({ length: 3 }, () => {
      const s = vm.newStream();
      s.sendRequestHeaders(GET, true);
      return s;
    });
    assert.deepEqual(wave.map((s) => respond(s, 503)), [true, true, false], '3 active: max(2, 0.6) = 2');
    wave.forEach((s) => s.complete());
    vm.close();

    const off = await load({ attempts: 1, retryOn: '5xx', budget: false });
    const many = Array.from({ length: 10 }, () => {
      const s = off.newStream();
      s.sendRequestHeaders(GET, true);
      return s;
    });
    assert.ok(many.every((s) => respond(s, 503)), 'budget: false disables it');
    many.forEach((s) => s.complete());
    off.close();
  });

  describe('per-route policies', () => {
    /** A stream whose route (the router's route_name property) is `route`; '' = none set. */
    function onRoute(vm: Emulator, route: string, headers: Record<string, string> = GET, end = true): EmulatedStream {
      const s = vm.newStream();
      if (route !== '') s.state.set('route_name', Buffer.from(route));
      s.sendRequestHeaders(headers, end);
      return s;
    }

    /** How many tries a stream of `route` makes when every response is `status`. */
    function tries(vm: Emulator, route: string, status: number, headers: Record<string, string> = GET): number {
      const s = onRoute(vm, route, headers);
      let n = 1;
      while (respond(s, status)) n++;
      assert.equal(attemptsHeader(s), String(n));
      s.complete();
      return n;
    }

    const CONFIG = {
      attempts: 1, retryOn: '5xx', backoff: { baseMs: 0 },
      policies: [
        { routes: ['reviews/flaky', 'ratings/0'], attempts: 4, retryOn: 'gateway-error', backoff: { baseMs: 0 } },
        { routes: ['reviews/codes'], attempts: 2, retryOn: 'retriable-status-codes', retriableStatusCodes: [429], backoff: { baseMs: 0 } },
        { routes: ['reviews/none'], attempts: 0 },
        { routes: ['reviews/post'], attempts: 1, retryOn: '5xx', retryNonIdempotent: true, perTryTimeoutMs: 700, maxReplayBytes: 10, backoff: { baseMs: 0 } },
      ],
    };

    it('selects each route\'s policy by route_name; other routes get the top-level default', async () => {
      const vm = await load(CONFIG);
      // reviews/flaky and ratings/0 share the gateway-error policy with 4 retries.
      assert.equal(tries(vm, 'reviews/flaky', 503), 5);
      assert.equal(tries(vm, 'ratings/0', 502), 5);
      assert.equal(tries(vm, 'reviews/flaky', 500), 1, '500 is not a gateway error');
      // reviews/codes: only its 429, 2 retries.
      assert.equal(tries(vm, 'reviews/codes', 429), 3);
      assert.equal(tries(vm, 'reviews/codes', 503), 1);
      // reviews/none: attempts 0.
      assert.equal(tries(vm, 'reviews/none', 503), 1);
      // No entry for the route, or no route name: the top-level policy (5xx, 1 retry).
      for (const route of ['reviews/other', '', 'reviews/flaky/x', 'REVIEWS/FLAKY']) {
        assert.equal(tries(vm, route, 500), 2, `route ${JSON.stringify(route)}`);
        assert.equal(tries(vm, route, 429), 1, `route ${JSON.stringify(route)}`);
      }
      assert.equal(vm.failures.traps, 0);
      vm.close();
    });

    it('applies the route\'s per-try timeout, replay cap and method rule', async () => {
      const vm = await load(CONFIG);
      const post = { ...GET, ':method': 'POST', 'content-length': '5' };
      // reviews/post: per-try timeout 700 ms, body kept up to 10 bytes, POST retried.
      const s = onRoute(vm, 'reviews/post', post, false);
      assert.equal(s.route.perTryTimeoutMs, 700);
      assert.equal(s.keptRequestBody, 10);
      assert.ok(respond(s, 500), 'POST retried (retryNonIdempotent)');
      s.complete();
      // The default route: no per-try timeout, the default 64 KiB cap, POST not retried.
      const d = onRoute(vm, 'reviews/other', post, false);
      assert.equal(d.route.perTryTimeoutMs, 0);
      assert.equal(d.keptRequestBody, 65536);
      assert.ok(!respond(d, 500), 'POST not retried by the default policy');
      d.complete();
      // A route whose policy has no retries keeps no body.
      const n = onRoute(vm, 'reviews/none', post, false);
      assert.equal(n.keptRequestBody, 0);
      n.complete();
      vm.close();
    });

    it('reads route_name once, on the first request headers: a later change does not switch the policy', async () => {
      const vm = await load(CONFIG);
      const s = onRoute(vm, 'reviews/none');
      s.state.set('route_name', Buffer.from('reviews/flaky'));
      assert.ok(!respond(s, 503), 'still the reviews/none policy');
      s.complete();
      vm.close();
    });

    it('a policies entry without routes is the default policy', async () => {
      const vm = await load({ policies: [{ routes: ['a'], attempts: 0 }, { attempts: 3, retryOn: '5xx', backoff: { baseMs: 0 } }] });
      assert.equal(tries(vm, 'a', 500), 1);
      assert.equal(tries(vm, 'b', 500), 4);
      assert.equal(tries(vm, '', 500), 4);
      vm.close();
      // Fields left out of an entry take the built-in defaults (attempts 2, Istio's retryOn), not the top level's.
      const inherit = await load({ attempts: 5, retryOn: '5xx', backoff: { baseMs: 0 }, policies: [{ routes: ['a'], backoff: { baseMs: 0 } }] });
      assert.equal(tries(inherit, 'a', 503), 3);
      assert.equal(tries(inherit, 'a', 500), 1);
      assert.equal(tries(inherit, 'z', 500), 6);
      inherit.close();
    });

    it('refuses bad policies', async () => {
      for (const bad of [
        { policies: {} },
        { policies: [1] },
        { policies: [{ routes: 'a', attempts: 1 }] },
        { policies: [{ routes: [1], attempts: 1 }] },
        { policies: [{ routes: [''], attempts: 1 }] },
        { policies: [{ routes: ['a'], attempts: -1 }] },
        { policies: [{ routes: ['a'], retryOn: 'bogus' }] },
        { policies: [{ routes: ['a'], budget: false }] },
        { policies: [{ routes: ['a'], atempts: 1 }] },
        { policies: [{ routes: ['a'], backoff: { baseMs: 10, maxMs: 1 } }] },
        { policies: [{ routes: ['a'] }, { routes: ['b', 'a'] }] },
        { policies: [{ attempts: 1 }, { routes: [], attempts: 2 }] },
        { attempts: 1, policies: [{ attempts: 3 }] },
        { backoff: { baseMs: 1, maxMS: 5 } },
      ]) {
        await assert.rejects(load(bad), /returned false|rejected its config/, JSON.stringify(bad));
      }
      for (const good of [{ policies: [] }, { policies: null }, { budget: false, policies: [{ routes: ['a'], attempts: 1 }] }]) {
        (await load(good)).close();
      }
    });
  });
});
