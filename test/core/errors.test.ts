import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ConfigError, isWasmeshError, NativeModuleError, UpstreamError, WasmeshError } from '../../runtime/core/errors';

test('errors carry stable codes and are recognised by brand, not by class identity', () => {
  const c = new ConfigError(['a: bad', 'b: worse'], 'proxy.yaml');
  assert.equal(c.code, 'WASMESH_ERR_CONFIG');
  assert.deepEqual(c.problems, ['a: bad', 'b: worse']);
  assert.match(c.message, /^proxy\.yaml: invalid config \(2 errors\):\n {2}a: bad\n {2}b: worse$/);
  assert.equal(new UpstreamError('x', 'UPSTREAM_OVERFLOW').code, 'UPSTREAM_OVERFLOW');
  assert.equal(new NativeModuleError('x').code, 'WASMESH_ERR_NATIVE');
  for (const e of [c, new UpstreamError('x', 'UPSTREAM_CONNECT_FAILURE'), new NativeModuleError('x')]) {
    assert.ok(e instanceof WasmeshError);
    assert.ok(isWasmeshError(e));
  }
  // A copy of the class from another package instance still passes the brand check.
  const foreign = Object.assign(new Error('x'), { [Symbol.for('wasmesh.error')]: true, code: 'WASMESH_ERR' });
  assert.ok(isWasmeshError(foreign));
  assert.ok(!isWasmeshError(new Error('plain')));
  assert.ok(!isWasmeshError(null));
});
