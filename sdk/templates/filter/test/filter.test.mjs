// Runs the compiled filter in wasmesh's host emulator: `wasmesh filter test`
// (or `npm test`) builds build/__NAME__.wasm first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Emulator } from 'wasmesh/sdk/testing';

const wasmPath = fileURLToPath(new URL('../build/__NAME__.wasm', import.meta.url));

test('adds the configured header to responses', async () => {
  const vm = await Emulator.load(wasmPath, { config: { header: 'x-greeting', value: 'hi' } });
  const s = vm.newStream();
  assert.equal(s.sendRequestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'example.com' }, true), 'continue');
  assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
  assert.equal(s.responseHeaders.get('x-greeting'), 'hi');
  s.complete();
  vm.close();
});

test('uses the defaults when there is no configuration', async () => {
  const vm = await Emulator.load(wasmPath);
  const s = vm.newStream();
  s.sendRequestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'example.com' }, true);
  s.sendResponseHeaders({ ':status': '200' });
  assert.equal(s.responseHeaders.get('x-hello'), 'world');
  s.complete();
  vm.close();
});
