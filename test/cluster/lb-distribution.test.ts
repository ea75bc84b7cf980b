import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LbPolicy, OutlierDetectionConfig } from '../../runtime/config/types';
import { LB_POLICIES } from '../../runtime/config/types';
import { EndpointStateTable } from '../../runtime/cluster/endpoint-state';
import { createLoadBalancer, NO_ENDPOINT, type LoadBalancer } from '../../runtime/cluster/lb/index';
import { murmur3 } from '../../runtime/cluster/hash';

const OD: OutlierDetectionConfig = { consecutive5xx: 1, intervalMs: 1000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100 };
const PICKS = 30_000;

/** Pick `picks` times; hash policies get a different key each time so they spread too. */
function histogram(lb: LoadBalancer, n: number, picks = PICKS): number[] {
  const h = new Array<number>(n).fill(0);
  for (let k = 0; k < picks; k++) {
    const e = lb.pick(murmur3(`k${k}`));
    assert.ok(e >= 0 && e < n, `pick returned ${e}`);
    h[e]++;
  }
  return h;
}

test('round_robin is exactly even', () => {
  for (const n of [3, 4, 5]) {
    const t = EndpointStateTable.create(n, null);
    const h = histogram(createLoadBalancer('round_robin', n, t), n);
    assert.deepEqual(h, new Array(n).fill(PICKS / n));
  }
});

test('round_robin stays exactly even over the remaining endpoints after one goes down', () => {
  const t = EndpointStateTable.create(4, null);
  const lb = createLoadBalancer('round_robin', 4, t);
  lb.pick(-1);
  t.setHealthy(2, false);
  assert.deepEqual(histogram(lb, 4, 30_000), [10_000, 10_000, 0, 10_000]);
});

test('random is uniform within ±5% of the mean', () => {
  // 30k picks over 3 endpoints: each count is Binomial(30000, 1/3), mean
  // 10000, sd = sqrt(30000 * 1/3 * 2/3) ≈ 81.6. ±5% is ±500 ≈ 6.1 sd; the
  // chance that any of the three falls outside is about 3 * 1e-9, so this
  // never flakes, yet a biased picker (e.g. off-by-one) fails it.
  const t = EndpointStateTable.create(3, null);
  const h = histogram(createLoadBalancer('random', 3, t), 3);
  for (const c of h) assert.ok(Math.abs(c - 10_000) <= 500, `counts ${h}`);
});

test('least_request (P2C) prefers endpoints with fewer active requests', () => {
  // Active requests 0, 10, 20. P2C draws two distinct endpoints and takes the
  // less loaded: endpoint 0 wins every pair it is in (2 of the 3 pairs),
  // endpoint 1 wins only {1,2}, endpoint 2 never wins. Expected shares
  // 2/3, 1/3, 0; sd of the first is ≈ 82 picks, we allow ±1000.
  const t = EndpointStateTable.create(3, null);
  for (let k = 0; k < 10; k++) t.onRequestStart(1);
  for (let k = 0; k < 20; k++) t.onRequestStart(2);
  const h = histogram(createLoadBalancer('least_request', 3, t), 3);
  assert.equal(h[2], 0, `counts ${h}`);
  assert.ok(Math.abs(h[0] - 20_000) <= 1000, `counts ${h}`);
  assert.ok(Math.abs(h[1] - 10_000) <= 1000, `counts ${h}`);
});

test('least_request follows live changes of active counts and is even when loads are equal', () => {
  const t = EndpointStateTable.create(3, null);
  const lb = createLoadBalancer('least_request', 3, t);
  const even = histogram(lb, 3);
  for (const c of even) assert.ok(Math.abs(c - 10_000) <= 500, `counts ${even}`);
  for (let k = 0; k < 5; k++) t.onRequestStart(0);
  const h = histogram(lb, 3);
  // Every pair with endpoint 0 goes to the other one; {1,2} ties go to one of them.
  assert.equal(h[0], 0, `busy endpoint 0 still picked: ${h}`);
  for (let k = 0; k < 5; k++) t.onRequestEnd(0);
  assert.equal(t.activeRequests(0), 0);
});

function degrade(t: EndpointStateTable): void {
  // 5 endpoints: 1 failing active HC, 1 ejected -> 60% available, above the 50% panic threshold.
  t.setHealthy(1, false);
  assert.equal(t.recordResponse(3, 503, 0), true);
}

test('no policy ever picks an unhealthy or ejected endpoint outside panic mode', () => {
  for (const policy of LB_POLICIES) {
    const t = EndpointStateTable.create(5, OD);
    const lb = createLoadBalancer(policy, 5, t, { endpointKeys: ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'] });
    degrade(t);
    const h = histogram(lb, 5, 10_000);
    assert.equal(h[1], 0, `${policy}: unhealthy endpoint picked ${h}`);
    assert.equal(h[3], 0, `${policy}: ejected endpoint picked ${h}`);
    for (const e of [0, 2, 4]) assert.ok(h[e] > 1000, `${policy}: available endpoint ${e} starved ${h}`);
    assert.equal(lb.pick(-1) >= 0, true, `${policy}: no-key pick`);
  }
});

test('panic mode: below 50% available, ejected endpoints are used again - HC-failed ones never', () => {
  for (const policy of LB_POLICIES) {
    const t = EndpointStateTable.create(4, OD);
    const lb = createLoadBalancer(policy, 4, t);
    t.setHealthy(0, false);
    t.recordResponse(1, 503, 0);
    t.recordResponse(2, 503, 0);
    // Available: only 3 (25%) -> panic; candidates are the HC-healthy 1, 2, 3.
    const h = histogram(lb, 4, 6000);
    assert.equal(h[0], 0, `${policy}: HC-failed endpoint picked in panic ${h}`);
    for (const e of [1, 2, 3]) assert.ok(h[e] > 300, `${policy}: panic should spread to ${e}: ${h}`);

    // Every HC-healthy endpoint ejected: panic still routes (as Envoy does).
    t.recordResponse(3, 503, 0);
    const all = histogram(lb, 4, 3000);
    assert.equal(all[0], 0, `${policy}: ${all}`);
    assert.equal(all[1] + all[2] + all[3], 3000);
  }
});

test('exactly 50% available is not panic (Envoy panics strictly below the threshold)', () => {
  const t = EndpointStateTable.create(4, OD);
  const lb = createLoadBalancer('round_robin', 4, t);
  t.recordResponse(0, 503, 0);
  t.recordResponse(1, 503, 0);
  assert.deepEqual(histogram(lb, 4, 1000), [0, 0, 500, 500]);
});

test('NO_ENDPOINT (503 UH) when every endpoint fails active HC, when there are none, or when panic is disabled', () => {
  for (const policy of LB_POLICIES) {
    const t = EndpointStateTable.create(3, OD);
    const lb = createLoadBalancer(policy, 3, t);
    for (let i = 0; i < 3; i++) t.setHealthy(i, false);
    assert.equal(lb.pick(123), NO_ENDPOINT, policy);
    assert.equal(lb.pick(-1), NO_ENDPOINT, policy);
    t.setHealthy(2, true); // recovery is seen on the next pick
    assert.equal(lb.pick(123), 2, policy);

    assert.equal(createLoadBalancer(policy, 0, EndpointStateTable.create(0, null)).pick(7), NO_ENDPOINT, policy);

    const t2 = EndpointStateTable.create(2, OD);
    const noPanic = createLoadBalancer(policy, 2, t2, { panicThresholdPercent: 0 });
    t2.recordResponse(0, 503, 0);
    t2.recordResponse(1, 503, 0);
    assert.equal(noPanic.pick(5), NO_ENDPOINT, policy);
  }
});

test('a load balancer in another "worker" sees health changes made through another view of the SAB', () => {
  const main = EndpointStateTable.create(3, OD);
  const worker = EndpointStateTable.attach(main.buffer);
  const lb = createLoadBalancer('round_robin' as LbPolicy, 3, worker);
  main.setHealthy(0, false);
  assert.deepEqual(histogram(lb, 3, 3000), [0, 1500, 1500]);
});

test('factory validates its inputs', () => {
  const t = EndpointStateTable.create(3, null);
  assert.throws(() => createLoadBalancer('round_robin', 4, t), RangeError);
  assert.throws(() => createLoadBalancer('ring_hash', 3, t, { endpointKeys: ['a'] }), RangeError);
  assert.throws(() => createLoadBalancer('maglev', 3, t, { maglevTableSize: 65536 }), RangeError);
  assert.throws(() => createLoadBalancer('nope' as LbPolicy, 3, t), TypeError);
});
