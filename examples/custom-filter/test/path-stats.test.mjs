// path-stats in wasmesh's host emulator (`wasmesh filter test examples/custom-filter`
// builds build/path-stats.wasm, then runs this): no proxy, no sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Emulator } from 'wasmesh/sdk/testing';

const wasm = fileURLToPath(new URL('../build/path-stats.wasm', import.meta.url));

function get(vm, path) {
  const s = vm.newStream();
  assert.equal(s.sendRequestHeaders({ ':method': 'GET', ':path': path, ':authority': 'bookinfo' }, true), 'continue');
  assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
  const header = s.responseHeaders.get('x-path-count');
  s.complete();
  return header;
}

test('counts requests by first path segment and says so in a response header', async () => {
  const vm = await Emulator.load(wasm);
  assert.equal(get(vm, '/productpage'), 'productpage 1');
  assert.equal(get(vm, '/productpage?u=normal'), 'productpage 2');
  assert.equal(get(vm, '/api/v1/products/0'), 'api 1');
  assert.equal(get(vm, '/'), 'root 1');
  assert.equal(vm.metric('requests.productpage')?.value, 2n);
  vm.close();
});

test('distinct segments beyond maxPaths count as "other"', async () => {
  const vm = await Emulator.load(wasm, { config: { header: 'x-seen', maxPaths: 2 } });
  for (const p of ['/a', '/b', '/c', '/d']) {
    const st = vm.newStream();
    st.sendRequestHeaders({ ':method': 'GET', ':path': p, ':authority': 'x' }, true);
    st.sendResponseHeaders({ ':status': '200' });
    st.complete();
  }
  assert.equal(vm.metric('requests.other')?.value, 2n);
  vm.close();
});

test('refuses an empty header name, and logs why', async () => {
  const { error, logs } = await Emulator.refusal(wasm, { config: { header: '' } });
  assert.match(error.message, /configur/i);
  assert.ok(logs.some((l) => /must not be empty/.test(l.message)), JSON.stringify(logs));
});
