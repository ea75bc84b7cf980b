// The fault filter in the host emulator: percentages, header matching,
// delays (and the stream continuing after them), aborts, and delay + abort.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Emulator } from '../../sdk/testing';
import type { EmulatedStream, LocalReply } from '../../sdk/testing/emulated-stream';

const WASM = path.join(__dirname, '../../filters/fault.wasm');

const GET = { ':method': 'GET', ':path': '/', ':authority': 'web' };

async function load(config: unknown): Promise<Emulator> {
  return Emulator.load(WASM, { name: 'fault', config, logLevel: 'warn' });
}

function counter(vm: Emulator, name: string): number {
  const m = vm.metric(name);
  return m !== undefined && 'value' in m ? Number(m.value) : 0;
}

/** The stream's local reply (read through a function so assertions do not narrow it). */
function reply(s: EmulatedStream): LocalReply | null {
  return s.localReply;
}

/** Runs `n` GET streams and returns how many were delayed and how many aborted. */
function run(vm: Emulator, n: number, headers: Record<string, string> = {}): { delayed: number; aborted: number; passed: number } {
  let delayed = 0;
  let aborted = 0;
  let passed = 0;
  for (let i = 0; i < n; i++) {
    const s = vm.newStream();
    const a = s.sendRequestHeaders({ ...GET, ...headers }, true);
    if (s.delays.length > 0) delayed++;
    if (a === 'localReply') aborted++;
    if (a === 'continue') passed++;
    s.complete();
  }
  return { delayed, aborted, passed };
}

describe('fault filter (emulator)', () => {
  it('refuses invalid configurations', async () => {
    for (const bad of [
      { abort: { httpStatus: 99 } },
      { abort: { percentage: 10 } },
      { abort: { httpStatus: 503, percentage: 101 } },
      { delay: { percentage: 10 } },
      { delay: { fixedDelay: 'soon' } },
      { delay: { fixedDelayMs: -5 } },
      { headers: [{ name: 'x', exact: 'a', prefix: 'b' }] },
      { headers: [{ exact: 'a' }] },
      { headers: [{ name: 'x', regex: '.*' }] },
      { abort: { httpStatus: 503 }, bogus: 1 },
    ]) {
      await assert.rejects(load(bad), /returned false|rejected its config/, JSON.stringify(bad));
    }
  });

  it('loads the documented example configuration', async () => {
    const vm = await load({ delay: { fixedDelayMs: 7000, percentage: 100 }, abort: { httpStatus: 503, percentage: 50 }, headers: [{ name: 'end-user', exact: 'jason' }] });
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders({ ...GET, 'end-user': 'jason' }, true), 'pause');
    assert.equal(s.delays.length, 1, 'delayed (and maybe aborted after it)');
    s.complete();
    vm.close();
    for (const config of ['', {}]) {
      const none = await load(config);
      assert.deepEqual(run(none, 10), { delayed: 0, aborted: 0, passed: 10 }, 'no delay or abort configured: nothing happens');
      none.close();
    }
  });

  it('abort: the configured status, body "fault filter abort", flag FI; nothing goes upstream', async () => {
    const vm = await load({ abort: { httpStatus: 503, percentage: 100 } });
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders(GET, true), 'localReply');
    assert.equal(s.requestForwarded, false);
    assert.equal(s.localReply!.status, 503);
    assert.equal(s.localReply!.body, 'fault filter abort');
    assert.equal(s.localReply!.flag, 'FI');
    assert.equal(s.localReply!.details, 'fault_filter_abort');
    s.complete();
    assert.equal(counter(vm, 'aborts_injected'), 1);
    assert.equal(counter(vm, 'delays_injected'), 0);
    vm.close();

    const teapot = await load({ abort: { httpStatus: 418 } });
    const t = teapot.newStream();
    t.sendRequestHeaders(GET, true);
    assert.equal(t.localReply!.status, 418, 'percentage defaults to 100');
    t.complete();
    teapot.close();
  });

  it('delay: wasmesh.delay, the stream pauses, then continues after the delay', async () => {
    const vm = await load({ delay: { fixedDelayMs: 7000, percentage: 100 } });
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders(GET, true), 'pause');
    assert.deepEqual(s.delays, [7000]);
    assert.equal(s.requestForwarded, false);
    vm.advance(6999);
    assert.equal(s.requestForwarded, false, 'still waiting at 6999 ms');
    vm.advance(1);
    assert.equal(s.requestForwarded, true, 'continued at 7000 ms');
    assert.equal(s.lastAction, 'continue');
    assert.equal(s.localReply, null);
    assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
    s.complete();
    assert.equal(counter(vm, 'delays_injected'), 1);
    vm.close();

    // Istio's duration text.
    const text = await load({ delay: { fixedDelay: '1.5s' } });
    const t = text.newStream();
    t.sendRequestHeaders(GET, true);
    assert.deepEqual(t.delays, [1500]);
    t.complete();
    text.close();
  });

  it('a request body waits out the delay with the headers', async () => {
    const vm = await load({ delay: { fixedDelayMs: 50 } });
    const s = vm.newStream();
    s.sendRequestHeaders({ ':method': 'POST', ':path': '/', ':authority': 'web', 'content-length': '5' });
    s.sendRequestBody('hello', true);
    assert.equal(s.forwardedRequestBody.length, 0);
    vm.advance(50);
    assert.equal(s.requestForwarded, true);
    assert.equal(s.forwardedRequestBody.toString(), 'hello');
    assert.equal(s.requestEnded, true);
    s.complete();
    vm.close();
  });

  it('delay and abort together: the abort comes after the delay, and nothing goes upstream', async () => {
    const vm = await load({ delay: { fixedDelayMs: 300 }, abort: { httpStatus: 500 } });
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders(GET, true), 'pause');
    vm.advance(100);
    const s2 = vm.newStream();
    assert.equal(s2.sendRequestHeaders(GET, true), 'pause');
    vm.advance(199);
    assert.equal(reply(s), null, 'not before the delay is over');
    assert.equal(s.requestForwarded, false);
    vm.advance(1);
    assert.equal(reply(s)?.status, 500, 'aborted at 300 ms');
    assert.equal(reply(s)?.flag, 'FI');
    assert.equal(reply(s)?.body, 'fault filter abort');
    assert.equal(s.requestForwarded, false);
    assert.equal(reply(s2), null, 'the second stream (started 100 ms later) still waits');
    vm.advance(100);
    assert.equal(reply(s2)?.status, 500, 'and is aborted at its own 300 ms');
    assert.equal(s2.requestForwarded, false);
    s.complete();
    s2.complete();
    assert.equal(counter(vm, 'delays_injected'), 2);
    assert.equal(counter(vm, 'aborts_injected'), 2);

    // A stream that ends during the delay is forgotten: no abort for it, the next one still works.
    const gone = vm.newStream();
    gone.sendRequestHeaders(GET, true);
    vm.advance(10);
    gone.complete();
    const after = vm.newStream();
    after.sendRequestHeaders(GET, true);
    vm.advance(1000);
    assert.equal(reply(gone), null);
    assert.equal(reply(after)?.status, 500);
    after.complete();
    assert.equal(counter(vm, 'aborts_injected'), 3);
    assert.equal(vm.failures.traps, 0);
    vm.close();
  });

  it('delay and abort: a VM retired by a config change keeps its tick until its streams end, so the abort still comes', async () => {
    const vm = await load({ delay: { fixedDelayMs: 300 }, abort: { httpStatus: 500 } });
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders(GET, true), 'pause');
    assert.deepEqual(s.delays, [1300], 'the safety-net delay');
    vm.close(); // retired while the stream waits: the root context lives on until the stream ends
    vm.advance(300);
    assert.notEqual(reply(s), null, 'the abort arrived on time');
    assert.equal(s.requestForwarded, false);
    s.complete();
  });

  it('header matching: exact, prefix, suffix, present; all must match', async () => {
    const vm = await load({
      abort: { httpStatus: 503 },
      headers: [{ name: 'end-user', exact: 'jason' }, { name: 'X-Canary', present: true }],
    });
    const cases: [Record<string, string>, boolean][] = [
      [{ 'end-user': 'jason', 'x-canary': '1' }, true],
      [{ 'end-user': 'jason' }, false],
      [{ 'end-user': 'jasonx', 'x-canary': '1' }, false],
      [{ 'x-canary': '' }, false],
      [{}, false],
    ];
    for (const [h, want] of cases) {
      const s = vm.newStream();
      const a = s.sendRequestHeaders({ ...GET, ...h }, true);
      assert.equal(a === 'localReply', want, JSON.stringify(h));
      s.complete();
    }
    vm.close();

    const prefix = await load({ abort: { httpStatus: 503 }, headers: [{ name: 'user-agent', prefix: 'curl/' }, { name: 'x-env', suffix: '-test' }, { name: 'x-skip', present: false }] });
    const cases2: [Record<string, string>, boolean][] = [
      [{ 'user-agent': 'curl/8.0', 'x-env': 'eu-test' }, true],
      [{ 'user-agent': 'Mozilla', 'x-env': 'eu-test' }, false],
      [{ 'user-agent': 'curl/8.0', 'x-env': 'eu-prod' }, false],
      [{ 'user-agent': 'curl/8.0', 'x-env': 'eu-test', 'x-skip': '1' }, false],
    ];
    for (const [h, want] of cases2) {
      const s = prefix.newStream();
      assert.equal(s.sendRequestHeaders({ ...GET, ...h }, true) === 'localReply', want, JSON.stringify(h));
      s.complete();
    }
    prefix.close();

    // Istio's map form.
    const istio = await load({ delay: { fixedDelayMs: 10 }, headers: { 'end-user': { exact: 'jason' } } });
    const a = istio.newStream();
    a.sendRequestHeaders({ ...GET, 'end-user': 'jason' }, true);
    assert.deepEqual(a.delays, [10]);
    const b = istio.newStream();
    assert.equal(b.sendRequestHeaders({ ...GET, 'end-user': 'bob' }, true), 'continue');
    assert.deepEqual(b.delays, []);
    a.complete();
    b.complete();
    istio.close();
  });

  it('percentages: within ±3% over 2000 streams (several seeds and rates)', async () => {
    for (const [delayPct, abortPct, seed] of [[50, 50, 1], [10, 25, 7], [33.3, 75, 12345], [0.5, 99.5, 99], [12.5, 50, 2024]] as const) {
      const vm = await load({ delay: { fixedDelayMs: 5, percentage: delayPct }, abort: { httpStatus: 503, percentage: abortPct }, seed });
      let withDelay = 0;
      for (let i = 0; i < 2000; i++) {
        const s = vm.newStream();
        s.sendRequestHeaders(GET, true);
        vm.advance(5); // delays end; a stream selected for both is aborted now
        if (s.delays.length > 0) withDelay++;
        // Every stream has been decided by now: forwarded or answered, never both.
        assert.notEqual(s.requestForwarded, reply(s) !== null);
        s.complete();
      }
      // Every stream selected for a delay is counted once, whether or not it was also aborted.
      const delayed = counter(vm, 'delays_injected');
      const aborted = counter(vm, 'aborts_injected');
      assert.equal(withDelay, delayed);
      const dp = (delayed / 2000) * 100;
      const ap = (aborted / 2000) * 100;
      assert.ok(Math.abs(dp - delayPct) <= 3, `delay ${delayPct}% (seed ${seed}): got ${dp.toFixed(2)}%`);
      assert.ok(Math.abs(ap - abortPct) <= 3, `abort ${abortPct}% (seed ${seed}): got ${ap.toFixed(2)}%`);
      vm.close();
    }
  });

  it('percentages without a seed: within ±3%, and separate VMs draw different sequences', async () => {
    const a = await load({ abort: { httpStatus: 503, percentage: 10 } });
    const r = run(a, 2000);
    assert.ok(Math.abs(r.aborted / 20 - 10) <= 3, `abort 10%: got ${r.aborted / 20}%`);
    assert.equal(r.aborted + r.passed, 2000);
    const seqA: boolean[] = [];
    const seqB: boolean[] = [];
    const b = await load({ abort: { httpStatus: 503, percentage: 50 } });
    const c = await load({ abort: { httpStatus: 503, percentage: 50 } });
    for (let i = 0; i < 64; i++) {
      for (const [vm, seq] of [[b, seqA], [c, seqB]] as const) {
        const s = vm.newStream();
        seq.push(s.sendRequestHeaders(GET, true) === 'localReply');
        s.complete();
      }
    }
    assert.notDeepEqual(seqA, seqB);
    a.close();
    b.close();
    c.close();
  });

  it('percentage 0 never selects; a fixed seed is reproducible; Istio {value} form', async () => {
    const zero = await load({ delay: { fixedDelayMs: 5, percentage: 0 }, abort: { httpStatus: 503, percentage: 0 } });
    assert.deepEqual(run(zero, 500), { delayed: 0, aborted: 0, passed: 500 });
    zero.close();
    const seqs: number[] = [];
    for (let k = 0; k < 2; k++) {
      const vm = await load({ abort: { httpStatus: 503, percentage: { value: 30 } }, seed: 42 });
      let bits = 0;
      for (let i = 0; i < 30; i++) {
        const s = vm.newStream();
        if (s.sendRequestHeaders(GET, true) === 'localReply') bits |= 1 << i;
        s.complete();
      }
      seqs.push(bits);
      vm.close();
    }
    assert.equal(seqs[0], seqs[1]);
    assert.notEqual(seqs[0], 0);
  });

  describe('routes', () => {
    /** A stream whose route (the router's route_name property) is `route`; '' = none set. */
    function onRoute(vm: Emulator, route: string, headers: Record<string, string> = {}): { s: EmulatedStream; action: string } {
      const s = vm.newStream();
      if (route !== '') s.state.set('route_name', Buffer.from(route));
      const action = s.sendRequestHeaders({ ...GET, ...headers }, true);
      return { s, action };
    }

    it('applies the fault only to the listed routes (by route_name)', async () => {
      const vm = await load({ abort: { httpStatus: 503 }, routes: ['reviews/slow', 'ratings/0'] });
      for (const [route, want] of [
        ['reviews/slow', 'localReply'], ['ratings/0', 'localReply'],
        ['reviews/1', 'continue'], ['', 'continue'], ['reviews/slow/x', 'continue'], ['Reviews/Slow', 'continue'],
      ] as const) {
        const { s, action } = onRoute(vm, route);
        assert.equal(action, want, `route ${JSON.stringify(route)}`);
        if (want === 'localReply') assert.equal(reply(s)!.status, 503);
        else assert.equal(s.requestForwarded, true);
        s.complete();
      }
      assert.equal(counter(vm, 'aborts_injected'), 2);
      vm.close();
    });

    it('no request header selects the route: only the route_name property does', async () => {
      const vm = await load({ delay: { fixedDelayMs: 50 }, routes: ['reviews/slow'] });
      for (const h of [{ 'x-wasmesh-route': 'reviews/slow' }, { 'x-route-name': 'reviews/slow' }, { 'route-name': 'reviews/slow' }] as Record<string, string>[]) {
        const { s, action } = onRoute(vm, 'reviews/1', h);
        assert.equal(action, 'continue', JSON.stringify(h));
        assert.equal(s.delays.length, 0);
        s.complete();
        const none = onRoute(vm, '', h);
        assert.equal(none.action, 'continue', JSON.stringify(h));
        none.s.complete();
      }
      const { s, action } = onRoute(vm, 'reviews/slow');
      assert.equal(action, 'pause');
      assert.deepEqual(s.delays, [50]);
      s.complete();
      vm.close();
    });

    it('is AND-ed with headers', async () => {
      const vm = await load({ abort: { httpStatus: 418 }, routes: ['a'], headers: [{ name: 'end-user', exact: 'jason' }] });
      assert.equal(onRoute(vm, 'a', { 'end-user': 'jason' }).action, 'localReply');
      assert.equal(onRoute(vm, 'a', { 'end-user': 'bob' }).action, 'continue');
      assert.equal(onRoute(vm, 'a').action, 'continue');
      assert.equal(onRoute(vm, 'b', { 'end-user': 'jason' }).action, 'continue');
      vm.close();
    });

    it('delay + abort on a route: the abort still comes after the delay', async () => {
      const vm = await load({ delay: { fixedDelayMs: 20 }, abort: { httpStatus: 503 }, routes: ['a'] });
      const { s, action } = onRoute(vm, 'a');
      assert.equal(action, 'pause');
      assert.equal(reply(s), null, 'not aborted before the delay');
      const other = onRoute(vm, 'b');
      assert.equal(other.action, 'continue');
      other.s.complete();
      s.complete();
      vm.close();
    });

    it('refuses bad routes', async () => {
      for (const bad of [{ routes: 'a' }, { routes: [] }, { routes: [''] }, { routes: [1] }, { routes: {} }]) {
        await assert.rejects(load({ abort: { httpStatus: 503 }, ...bad }), /returned false|rejected its config/, JSON.stringify(bad));
      }
      (await load({ abort: { httpStatus: 503 }, routes: null })).close();
    });
  });
});
