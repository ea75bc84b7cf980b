// The host emulator drives real proxy-wasm modules (here the solo-io SDK
// compat filters) through the same host the proxy uses.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Emulator } from '../../sdk/testing';
import { buildCompatFilters } from '../support/compat-filters';

test('emulator: headers both ways and the plugin configuration', async () => {
  const wasm = await buildCompatFilters();
  const vm = await Emulator.load(wasm.addheader, { name: 'addheader', rootId: 'add_header', config: 'cfg' });
  const s = vm.newStream();
  assert.equal(s.sendRequestHeaders({ ':method': 'GET', ':path': '/a', ':authority': 'web' }, true), 'continue');
  assert.equal(s.requestHeaders.get('x-solo-request'), 'seen');
  assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
  assert.equal(s.responseHeaders!.get('hello'), 'cfg');
  s.complete();
  vm.close();
});

test('emulator: an outgoing HTTP call pauses the stream until the test answers it', async () => {
  const wasm = await buildCompatFilters();
  const vm = await Emulator.load(wasm.httpcall, { name: 'auth', rootId: 'auth', clusters: ['auth'] });
  const ok = vm.newStream();
  assert.equal(ok.sendRequestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'web', 'x-user': 'alice' }, true), 'pause');
  assert.equal(vm.calls.length, 1);
  const call = vm.calls[0]!;
  assert.equal(call.cluster, 'auth');
  assert.deepEqual(call.headers.find(([k]) => k === ':path'), [':path', '/check?user=alice']);
  call.respond(200, {}, 'ok-alice');
  assert.equal(ok.lastAction, 'continue');
  assert.equal(ok.requestForwarded, true);
  assert.equal(ok.requestHeaders.get('x-auth-verdict'), 'ok-alice');
  ok.complete();

  const denied = vm.newStream();
  denied.sendRequestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'web', 'x-user': 'eve' }, true);
  vm.calls[1]!.respond(403, {}, 'no-eve');
  assert.equal(denied.lastAction, 'localReply');
  assert.equal(denied.localReply!.status, 403);
  assert.equal(denied.localReply!.body, 'denied: no-eve\n');
  assert.equal(denied.localReply!.details, 'denied_by_auth_service');

  const unreachable = vm.newStream();
  unreachable.sendRequestHeaders({ ':method': 'GET', ':path': '/', ':authority': 'web', 'x-user': 'x' }, true);
  vm.calls[2]!.fail();
  assert.equal(unreachable.localReply!.status, 503);
  vm.close();
});
