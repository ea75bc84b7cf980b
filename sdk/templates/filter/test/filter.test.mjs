// Runs the compiled filter in wasmesh's host emulator: `wasmesh filter test`
// (or `npm test`) builds build/__NAME__.wasm first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Emulator } from 'wasmesh/sdk/testing';

const wasmPath = fileURLToPath(new URL('../build/__NAME__.wasm', import.meta.url));

test('adds the configured header to responses', async () => {
  const vm = await Emulator.load(wasmPath, { config: { header: 'x-hello', value: 'world' } });
  const s = vm.newStream();
  s.requestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'example.com' });
  assert.equal(s.lastAction, 'continue');
  s.responseHeaders({ ':status': '200' });
  assert.equal(s.response.headers.get('x-hello'), 'world');
});

test('uses the defaults when there is no configuration', async () => {
  const vm = await Emulator.load(wasmPath, { config: {} });
  const s = vm.newStream();
  s.requestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'example.com' });
  s.responseHeaders({ ':status': '200' });
  assert.equal(s.response.headers.get('x-hello'), 'world');
});
