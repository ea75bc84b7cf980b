// The ratelimit filter (filters/ratelimit) in the host emulator: token
// buckets in shared data, refilled by the emulator's virtual clock.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Emulator } from '../../sdk/testing';

const WASM = path.join(__dirname, '../../filters/ratelimit.wasm');

const vms: Emulator[] = [];
after(() => {
  for (const vm of vms) vm.close();
});

async function load(config: unknown): Promise<Emulator> {
  const vm = await Emulator.load(WASM, { name: 'ratelimit', config });
  vms.push(vm);
  return vm;
}

interface Req {
  path?: string;
  headers?: Record<string, string>;
  ip?: string;
}

interface Outcome {
  status: number;
  headers: Record<string, string>;
  flag: string;
  details: string;
}

/** One request; an allowed one also gets a 200 response through the filter. */
function send(vm: Emulator, r: Req = {}): Outcome {
  const s = vm.newStream(r.ip ? { sourceAddress: r.ip } : {});
  s.sendRequestHeaders({ ':method': 'GET', ':path': r.path ?? '/', ':authority': 'web', ...(r.headers ?? {}) }, true);
  const reply = s.localReply;
  if (reply !== null) {
    s.complete();
    return { status: reply.status, headers: Object.fromEntries(reply.headers), flag: reply.flag, details: reply.details };
  }
  s.sendResponseHeaders({ ':status': '200' }, true);
  const headers: Record<string, string> = {};
  s.responseHeaders!.forEach((k, v) => (headers[k] = v));
  s.complete();
  return { status: 200, headers, flag: '', details: '' };
}

function statuses(vm: Emulator, n: number, r: Req = {}): number[] {
  return Array.from({ length: n }, () => send(vm, r).status);
}

function count(vm: Emulator, name: string): number {
  const m = vm.metric(name);
  return m && 'value' in m ? Number(m.value) : 0;
}

const times = (n: number, status: number) => Array<number>(n).fill(status);

/** Loads a config the filter must refuse; returns what the filter logged. */
async function refused(config: unknown): Promise<string> {
  const { error, logs } = await Emulator.refusal(WASM, { name: 'ratelimit', config });
  assert.match(error.message, /rejected its config/);
  return logs.map((l) => l.message).join('\n');
}

describe('ratelimit: token bucket', () => {
  it('allows the burst, then answers 429 with retry-after, x-ratelimit-* and flag RL', async () => {
    const vm = await load({ descriptors: [{ key: 'const:global', requestsPerUnit: 3, unit: 'second' }] });
    const ok = [send(vm), send(vm), send(vm)];
    assert.deepEqual(ok.map((o) => o.status), [200, 200, 200]);
    assert.deepEqual(ok.map((o) => o.headers['x-ratelimit-remaining']), ['2', '1', '0']);
    assert.deepEqual(ok.map((o) => o.headers['x-ratelimit-limit']), ['3', '3', '3']);
    const no = send(vm);
    assert.equal(no.status, 429);
    assert.equal(no.flag, 'RL');
    assert.equal(no.headers['retry-after'], '1');
    assert.equal(no.headers['x-ratelimit-limit'], '3');
    assert.equal(no.headers['x-ratelimit-remaining'], '0');
    assert.equal(no.headers['x-ratelimit-reset'], '1');
    assert.match(no.details, /const:global/);
    assert.equal(count(vm, 'rq_allowed'), 3);
    assert.equal(count(vm, 'rq_limited'), 1);
  });

  it('refills continuously with the clock, capped at the burst', async () => {
    const vm = await load({ descriptors: [{ key: 'const:global', requestsPerUnit: 60, unit: 'minute', burst: 5 }] });
    assert.deepEqual(statuses(vm, 6), [...times(5, 200), 429]);
    vm.advance(1000);
    assert.deepEqual(statuses(vm, 2), [200, 429], 'one token per second');
    vm.advance(500);
    const half = send(vm);
    assert.equal(half.status, 429, 'half a token is not a token');
    assert.equal(half.headers['retry-after'], '1');
    assert.equal(half.headers['x-ratelimit-reset'], '5', '4.5 tokens missing at 1/s');
    vm.advance(500);
    assert.equal(send(vm).status, 200);
    vm.advance(3_600_000);
    assert.deepEqual(statuses(vm, 6), [...times(5, 200), 429], 'an hour idle still gives only the burst');
  });

  it('a burst above the rate, and retry-after in whole seconds (ceil)', async () => {
    const vm = await load({ descriptors: [{ key: 'const:g', requestsPerUnit: 10, unit: 'minute', burst: 20 }] });
    assert.deepEqual(statuses(vm, 21), [...times(20, 200), 429]);
    const no = send(vm);
    assert.equal(no.headers['retry-after'], '6', 'one token every 6 s');
    assert.equal(no.headers['x-ratelimit-limit'], '20');
    assert.equal(no.headers['x-ratelimit-reset'], '120');
    vm.advance(5_999);
    assert.equal(send(vm).headers['retry-after'], '1');
    vm.advance(1);
    assert.equal(send(vm).status, 200);
    vm.advance(3_600_000);
    assert.equal(send(vm).status, 200);
  });

  it('hour units', async () => {
    const vm = await load({ descriptors: [{ key: 'const:g', requestsPerUnit: 2, unit: 'hour' }] });
    assert.deepEqual(statuses(vm, 3), [200, 200, 429]);
    assert.equal(send(vm).headers['retry-after'], '1800');
    vm.advance(1_800_000);
    assert.deepEqual(statuses(vm, 2), [200, 429]);
  });
});

describe('ratelimit: keys', () => {
  it('header: one bucket per value; a request without the header is not limited by it', async () => {
    const vm = await load({ descriptors: [{ key: 'header:X-Api-Key', requestsPerUnit: 2, unit: 'minute' }] });
    const a = { headers: { 'x-api-key': 'a' } };
    const b = { headers: { 'x-api-key': 'b' } };
    assert.deepEqual(statuses(vm, 3, a), [200, 200, 429]);
    assert.deepEqual(statuses(vm, 3, b), [200, 200, 429]);
    assert.deepEqual(statuses(vm, 5), times(5, 200));
    assert.equal(send(vm).headers['x-ratelimit-limit'], undefined, 'no descriptor applied: no headers');
  });

  it('long header values are hashed into the key and stay isolated', async () => {
    const vm = await load({ descriptors: [{ key: 'header:x-api-key', requestsPerUnit: 1, unit: 'minute' }] });
    const long = 'k'.repeat(500);
    assert.deepEqual(statuses(vm, 2, { headers: { 'x-api-key': `${long}1` } }), [200, 429]);
    assert.deepEqual(statuses(vm, 2, { headers: { 'x-api-key': `${long}2` } }), [200, 429]);
  });

  it('source_ip: per client address, IPv4 and IPv6', async () => {
    const vm = await load({ descriptors: [{ key: 'source_ip', requestsPerUnit: 1, unit: 'second' }] });
    assert.deepEqual(statuses(vm, 2, { ip: '10.0.0.1' }), [200, 429]);
    assert.deepEqual(statuses(vm, 2, { ip: '10.0.0.2' }), [200, 429]);
    assert.deepEqual(statuses(vm, 2, { ip: '2001:db8::1' }), [200, 429]);
    assert.deepEqual(statuses(vm, 2, { ip: '2001:db8::2' }), [200, 429]);
  });

  it('path: per path, without the query', async () => {
    const vm = await load({ descriptors: [{ key: 'path', requestsPerUnit: 1, unit: 'second' }] });
    assert.equal(send(vm, { path: '/a?x=1' }).status, 200);
    assert.equal(send(vm, { path: '/a?x=2' }).status, 429);
    assert.equal(send(vm, { path: '/b' }).status, 200);
  });

  it('several descriptors: each must have a token; a refused request gives back what it took', async () => {
    const vm = await load({
      descriptors: [
        { key: 'header:x-api-key', requestsPerUnit: 5, unit: 'hour' },
        { key: 'const:global', requestsPerUnit: 8, unit: 'hour' },
      ],
    });
    const a = { headers: { 'x-api-key': 'a' } };
    const b = { headers: { 'x-api-key': 'b' } };
    assert.deepEqual(statuses(vm, 5, a), times(5, 200));
    const perKey = send(vm, a);
    assert.equal(perKey.status, 429);
    assert.match(perKey.details, /header:x-api-key/);
    assert.deepEqual(statuses(vm, 3, b), times(3, 200));
    const global = send(vm, b);
    assert.equal(global.status, 429);
    assert.match(global.details, /const:global/);
    assert.deepEqual(statuses(vm, 2, b), [429, 429]);
    // 900 s: the global bucket gains 2 tokens, b's bucket 1.25. Without the
    // refunds b would have 1.25 tokens; with them it still has 2 + 1.25.
    vm.advance(900_000);
    const two = [send(vm, b), send(vm, b)];
    assert.deepEqual(two.map((o) => o.status), [200, 200]);
    const third = send(vm, b);
    assert.equal(third.status, 429);
    assert.match(third.details, /const:global/);
    // allowed responses report the tightest descriptor
    assert.equal(two[1]!.headers['x-ratelimit-remaining'], '0');
    assert.equal(two[1]!.headers['x-ratelimit-limit'], '8');
  });
});

describe('ratelimit: shared data failures', () => {
  // The emulator's shared-data table has a fixed number of slots; distinct
  // keys eventually fill it and inserting a new bucket fails.
  function untilStoreError(vm: Emulator): Outcome[] {
    const out: Outcome[] = [];
    for (let i = 0; i < 20_000 && count(vm, 'store_errors') === 0; i++) out.push(send(vm, { headers: { 'x-api-key': `key-${i}` } }));
    return out;
  }

  it('failOpen: true lets the request through and counts the error', async () => {
    const vm = await load({ failOpen: true, descriptors: [{ key: 'header:x-api-key', requestsPerUnit: 1, unit: 'minute' }] });
    const out = untilStoreError(vm);
    assert.equal(count(vm, 'store_errors'), 1);
    assert.ok(out.every((o) => o.status === 200));
  });

  it('failOpen: false (the default) refuses it', async () => {
    const vm = await load({ descriptors: [{ key: 'header:x-api-key', requestsPerUnit: 1, unit: 'minute' }] });
    const out = untilStoreError(vm);
    const last = out.at(-1)!;
    assert.equal(last.status, 429);
    assert.equal(last.flag, 'RL');
    assert.equal(last.details, 'ratelimit_store_error');
    assert.ok(out.slice(0, -1).every((o) => o.status === 200));
    assert.ok(vm.logs.some((l) => l.level === 'warn' && /shared data failed/.test(l.message)));
  });
});

describe('ratelimit: invalid configurations are refused with the field named', () => {
  const d = (extra: Record<string, unknown>) => ({ descriptors: [{ key: 'const:g', requestsPerUnit: 1, ...extra }] });
  const cases: [unknown, RegExp][] = [
    [{}, /descriptors: required/],
    [{ descriptors: [] }, /descriptors: must not be empty/],
    [{ descriptors: {} }, /descriptors: expected a list/],
    [d({ key: 'cookie:x' }), /descriptors\[0\]\.key: unknown key "cookie:x"/],
    [d({ key: 'header:' }), /descriptors\[0\]\.key: header: needs a header name/],
    [d({ requestsPerUnit: 0 }), /descriptors\[0\]\.requestsPerUnit/],
    [d({ requestsPerUnit: 1.5 }), /descriptors\[0\]\.requestsPerUnit/],
    [d({ requestsPerUnit: '10' }), /descriptors\[0\]\.requestsPerUnit/],
    [{ descriptors: [{ key: 'const:g' }] }, /descriptors\[0\]\.requestsPerUnit: required/],
    [d({ unit: 'week' }), /descriptors\[0\]\.unit: unknown unit "week"/],
    [d({ burst: 0 }), /descriptors\[0\]\.burst/],
    [d({ rate: 1 }), /descriptors\[0\]\.rate: unknown field/],
    [{ ...d({}), failOpen: 'yes' }, /failOpen: expected true or false/],
    ['{"descriptors": [', /invalid configuration/],
  ];
  for (const [config, expected] of cases) {
    it(JSON.stringify(config), async () => {
      assert.match(await refused(config), expected);
    });
  }
});
