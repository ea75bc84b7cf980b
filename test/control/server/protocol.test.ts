// The stream's delta encoding and config hash: a delta applied to its base
// gives exactly the new document, and both ends hash a config alike whatever
// the order of its keys and clusters.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyDelta, configHash, diffConfig } from '../../../runtime/control/protocol';

const base = {
  admin: { address: '127.0.0.1:15000' },
  listeners: [{ name: 'outbound', address: '127.0.0.1:15001', filters: [] }],
  clusters: [
    { name: 'a', endpoints: ['10.0.0.1:80'] },
    { name: 'b', endpoints: ['10.0.0.2:80'] },
    { name: 'c', endpoints: ['10.0.0.3:80'] },
  ],
};

describe('control protocol: deltas and hashes', () => {
  it('sends only changed sections and clusters, and applyDelta rebuilds the document', () => {
    const next = {
      admin: base.admin,
      listeners: [{ name: 'outbound', address: '127.0.0.1:15001', filters: [{ name: 'router' }] }],
      clusters: [base.clusters[0], { name: 'b', endpoints: ['10.0.0.2:80', '10.0.0.9:80'] }, { name: 'd', endpoints: [] }],
      logLevel: 'debug',
    };
    const d = diffConfig(base, next)!;
    assert.deepEqual(Object.keys(d.set).sort(), ['clusters', 'listeners', 'logLevel']);
    assert.deepEqual(Object.keys(d.set.clusters as object).sort(), ['b', 'd']);
    assert.deepEqual(d.remove.clusters, ['c']);
    const rebuilt = applyDelta(base, d.set, d.remove);
    assert.equal(configHash(rebuilt), configHash(next));
    assert.deepEqual(rebuilt.clusters, next.clusters);
  });

  it('removes a top-level section that disappeared, and finds no change between equal documents', () => {
    const withLog = { ...base, accessLog: { path: '-' } };
    const d = diffConfig(withLog, base)!;
    assert.deepEqual(d.set, { accessLog: null });
    assert.equal('accessLog' in applyDelta(withLog, d.set, d.remove), false);
    assert.equal(diffConfig(base, JSON.parse(JSON.stringify(base))), null);
  });

  it('hashes independently of key and cluster order', () => {
    const shuffled = { clusters: [...base.clusters].reverse(), listeners: base.listeners, admin: { address: '127.0.0.1:15000' } };
    assert.equal(configHash(shuffled), configHash(base));
    assert.notEqual(configHash({ ...base, logLevel: 'warn' }), configHash(base));
  });
});
