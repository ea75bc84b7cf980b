import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EndpointStateTable } from '../../runtime/cluster/endpoint-state';
import { createLoadBalancer } from '../../runtime/cluster/lb/index';
import { murmur3 } from '../../runtime/cluster/hash';

const N = 10;
const KEYS = 100_000;
const REMOVED = 3;
const endpoints = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:8080`);
const hashes = Uint32Array.from({ length: KEYS }, (_, i) => murmur3(`user-${i}`));

/** The endpoint *key* each hash maps to, so LBs over different endpoint lists compare. */
function mapping(policy: 'ring_hash' | 'maglev', keys: string[], down: number[] = []): string[] {
  const t = EndpointStateTable.create(keys.length, null);
  for (const d of down) t.setHealthy(d, false);
  const lb = createLoadBalancer(policy, keys.length, t, { endpointKeys: keys });
  const out = new Array<string>(KEYS);
  for (let k = 0; k < KEYS; k++) out[k] = keys[lb.pick(hashes[k])];
  return out;
}

function compare(before: string[], after: string[], removedKey: string | null) {
  let moved = 0;
  let movedOthers = 0; // keys that were NOT on the removed endpoint but moved anyway
  for (let k = 0; k < KEYS; k++) {
    if (before[k] !== after[k]) {
      moved++;
      if (before[k] !== removedKey) movedOthers++;
    }
  }
  return { moved: moved / KEYS, movedOthers: movedOthers / KEYS };
}

// Bounds. The ideal moved fraction is 1/N = 0.10 on removal and 1/11 ≈ 0.091
// on adding an 11th endpoint. Ring hash with 160 points per endpoint gives
// each endpoint a share with relative sd ≈ 1/sqrt(160) ≈ 8%, so [0.07, 0.14]
// is over 3 sd wide on each side; Maglev's shares are near exact. Inputs are
// fixed (keys, endpoint names, hash), so the outcome is deterministic anyway.
//
// Minimal disruption: for the ring it is exact by construction - removing an
// endpoint deletes its points and nothing else. Maglev only approximates it:
// the rebuilt table re-runs the fill, and slots near contested positions can
// change owner. The paper reports this shrinks as M/N grows; with M = 65537
// and N = 10 we measure ~0.3% and assert <= 2%.
for (const policy of ['ring_hash', 'maglev'] as const) {
  const minimalBound = policy === 'ring_hash' ? 0 : 0.02;

  test(`${policy}: same key -> same endpoint, across picks, LB instances and endpoint order`, () => {
    const keys = endpoints(N);
    const a = mapping(policy, keys);
    assert.deepEqual(mapping(policy, keys), a);
    // Another worker whose config lists the endpoints in a different order
    // still maps every key to the same endpoint identity.
    assert.deepEqual(mapping(policy, [...keys].reverse()), a);
    // Repeated picks on one instance.
    const t = EndpointStateTable.create(N, null);
    const lb = createLoadBalancer(policy, N, t, { endpointKeys: keys });
    for (let k = 0; k < 1000; k++) assert.equal(keys[lb.pick(hashes[k])], a[k]);
    // Every endpoint gets a reasonable share.
    const counts = new Map<string, number>();
    for (const e of a) counts.set(e, (counts.get(e) ?? 0) + 1);
    assert.equal(counts.size, N);
    for (const [e, c] of counts) assert.ok(c > KEYS / N / 2 && c < (KEYS / N) * 1.5, `${e}: ${c}`);
  });

  test(`${policy}: an endpoint going unhealthy moves ~1/N of keys, and only its own`, () => {
    const keys = endpoints(N);
    const before = mapping(policy, keys);
    const after = mapping(policy, keys, [REMOVED]);
    assert.ok(!after.includes(keys[REMOVED]));
    const { moved, movedOthers } = compare(before, after, keys[REMOVED]);
    assert.ok(moved >= 0.07 && moved <= 0.14, `moved ${moved}`);
    assert.ok(movedOthers <= minimalBound, `keys of other endpoints moved: ${movedOthers}`);
    // Recovery restores the original mapping exactly (the structure is a function of the candidate set).
    const t = EndpointStateTable.create(N, null);
    const lb = createLoadBalancer(policy, N, t, { endpointKeys: keys });
    t.setHealthy(REMOVED, false);
    lb.pick(0);
    t.setHealthy(REMOVED, true);
    for (let k = 0; k < KEYS; k += 7) assert.equal(keys[lb.pick(hashes[k])], before[k]);
  });

  test(`${policy}: removing an endpoint from the config moves ~1/N of keys, and only its own`, () => {
    const keys = endpoints(N);
    const before = mapping(policy, keys);
    const after = mapping(policy, keys.filter((_, i) => i !== REMOVED));
    const { moved, movedOthers } = compare(before, after, keys[REMOVED]);
    assert.ok(moved >= 0.07 && moved <= 0.14, `moved ${moved}`);
    assert.ok(movedOthers <= minimalBound, `keys of other endpoints moved: ${movedOthers}`);
  });

  test(`${policy}: adding an endpoint moves ~1/(N+1) of keys, all to the new endpoint`, () => {
    const keys = endpoints(N);
    const before = mapping(policy, keys);
    const grown = endpoints(N + 1);
    const after = mapping(policy, grown);
    const { moved } = compare(before, after, null);
    assert.ok(moved >= 0.07 && moved <= 0.14, `moved ${moved}`);
    let elsewhere = 0; // moved, but not to the new endpoint
    for (let k = 0; k < KEYS; k++) if (before[k] !== after[k] && after[k] !== grown[N]) elsewhere++;
    assert.ok(elsewhere / KEYS <= minimalBound, `moved between old endpoints: ${elsewhere / KEYS}`);
  });
}

test('ring_hash and maglev without a hash key spread at random but only over candidates', () => {
  for (const policy of ['ring_hash', 'maglev'] as const) {
    const t = EndpointStateTable.create(3, null);
    const lb = createLoadBalancer(policy, 3, t);
    t.setHealthy(1, false);
    const seen = new Set<number>();
    for (let k = 0; k < 2000; k++) seen.add(lb.pick(-1));
    assert.deepEqual([...seen].sort(), [0, 2], policy);
  }
});
