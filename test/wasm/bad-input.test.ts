// Modules that cannot load, and filters that refuse their config, are refused
// with an error naming the filter: at start (exit 1) and at reload (the last
// good config stays in force and keeps serving).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFixture } from '../support/fixture-filters';
import { request } from '../support/http';
import { BIN, startProxy, tmpDir, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';
import { KIND, ModuleBuilder, T, i32c, op } from '../support/wasm-builder';

/** A minimal proxy-wasm-shaped module: memory, malloc, optional marker, extra imports, a start body. */
function module(o: { marker?: string; importName?: string; initBody?: number[] }): Uint8Array {
  const b = new ModuleBuilder();
  if (o.importName) b.importFunction('env', o.importName, [], [T.i32]);
  b.memory(1, undefined, false, 'memory');
  b.func([T.i32], [T.i32], [...i32c(1024)], { export: 'malloc' });
  if (o.marker) b.func([], [], [], { export: o.marker });
  b.func([], [], o.initBody ?? [], { export: '_initialize' });
  void KIND;
  return b.build();
}

function config(filterLine: string, upstream = '127.0.0.1:9'): string {
  return `admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
    filters:
      - ${filterLine}
clusters:
  - { name: web, endpoints: [${upstream}] }
`;
}

function refusedAtStart(filterLine: string): string {
  const file = path.join(tmpDir(), 'proxy.yaml');
  fs.writeFileSync(file, config(filterLine));
  const r = spawnSync(process.execPath, [BIN, 'proxy', '-c', file, '--no-supervisor', '--workers', '1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  return r.stderr;
}

describe('bad filter modules and configs', () => {
  const dir = tmpDir();
  const write = (name: string, bytes: Uint8Array): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  let misbehave: string;
  before(async () => {
    misbehave = await buildFixture('misbehave');
  });

  it('a .wasm that does not compile', () => {
    const p = write('garbage.wasm', Buffer.from('\0asm\x01\0\0\0this is not wasm'));
    assert.match(refusedAtStart(`{ name: broken, module: ${p} }`), /filter "broken": .*(does not compile|malformed|section)/);
  });

  it('a module with no ABI marker', () => {
    const p = write('nomarker.wasm', module({}));
    assert.match(refusedAtStart(`{ name: plain, module: ${p} }`), /filter "plain": not a proxy-wasm module \(it exports no proxy_abi_version_X_Y_Z marker\)/);
  });

  it('an ABI version this host does not implement', () => {
    const p = write('old.wasm', module({ marker: 'proxy_abi_version_0_1_0' }));
    assert.match(refusedAtStart(`{ name: old, module: ${p} }`), /filter "old": proxy-wasm ABI 0\.1\.0 is not supported/);
  });

  it('a module that imports an unknown host function', () => {
    const p = write('unknown.wasm', module({ marker: 'proxy_abi_version_0_2_1', importName: 'proxy_teleport' }));
    assert.match(refusedAtStart(`{ name: teleport, module: ${p} }`), /filter "teleport": imports a function this host does not provide for ABI 0\.2\.1: env\.proxy_teleport/);
  });

  it('a 0.2.0 module that imports a 0.2.1-only function', () => {
    const p = write('mixed.wasm', module({ marker: 'proxy_abi_version_0_2_0', importName: 'proxy_get_log_level' }));
    assert.match(refusedAtStart(`{ name: mixed, module: ${p} }`), /env\.proxy_get_log_level/);
  });

  it('a module that traps in its start function', () => {
    const p = write('trapstart.wasm', module({ marker: 'proxy_abi_version_0_2_1', initBody: [op.unreachable] }));
    assert.match(refusedAtStart(`{ name: trapper, module: ${p} }`), /filter "trapper": the start function trapped/);
  });

  it('a filter whose on_configure returns false, and one whose config is not valid JSON', () => {
    assert.match(refusedAtStart(`{ name: picky, module: ${misbehave}, rootId: misbehave, config: { refuse: true } }`), /filter "picky": proxy_on_configure returned false/);
    assert.match(refusedAtStart(`{ name: picky, module: ${misbehave}, rootId: misbehave, config: "{not json" }`), /filter "picky": proxy_on_configure returned false/);
  });

  it('wasmesh validate compiles and configures filters offline, and names the one that fails', () => {
    const file = path.join(tmpDir(), 'proxy.yaml');
    const nomarker = write('validate-nomarker.wasm', module({}));
    fs.writeFileSync(
      file,
      config(`{ name: good, module: ${misbehave}, rootId: misbehave }\n      - { name: picky, module: ${misbehave}, rootId: misbehave, config: { refuse: true } }\n      - { name: plain, module: ${nomarker} }`),
    );
    const bad = spawnSync(process.execPath, [BIN, 'validate', '-c', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /2 filters cannot load/);
    assert.match(bad.stderr, /listeners\[0\]\.filters\[1\]: filter "picky": proxy_on_configure returned false .*refusing this configuration, as asked/);
    assert.match(bad.stderr, /listeners\[0\]\.filters\[2\]: filter "plain": not a proxy-wasm module/);
    assert.doesNotMatch(bad.stderr, /filters\[0\]/);
    fs.writeFileSync(file, config(`{ name: good, module: ${misbehave}, rootId: misbehave }`));
    const ok = spawnSync(process.execPath, [BIN, 'validate', '-c', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /: ok \(1 filter compiled and configured\)/);
  });

  describe('at reload', () => {
    let web: Upstream;
    let px: RunningProxy;
    before(async () => {
      web = await startUpstream((req, res) => res.end(`misbehave=${req.headers['x-misbehave']}`));
      px = await startProxy(config(`{ name: good, module: ${misbehave}, rootId: misbehave }`, web.address));
    });
    after(async () => {
      await px?.stop();
      await web?.close();
    });

    it('keeps the last good filter chain and says why', async () => {
      assert.equal((await request({ port: px.port })).body.toString(), 'misbehave=ok');
      const p = write('reload-nomarker.wasm', module({}));
      fs.writeFileSync(px.configPath, config(`{ name: good, module: ${p} }`, web.address));
      const r = await request({ port: px.adminPort, path: '/reload', method: 'POST' });
      assert.equal(r.status, 400);
      assert.match(JSON.parse(r.body.toString()).errors[0], /^listeners\[0\]\.filters\[0\]: filter "good": not a proxy-wasm module/);
      assert.equal((await request({ port: px.port })).body.toString(), 'misbehave=ok', 'the old chain still runs');
      const dump = JSON.parse((await request({ port: px.adminPort, path: '/config_dump' })).body.toString());
      assert.match(dump.lastReloadError, /not a proxy-wasm module/);
      const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
      assert.match(stats, /wasmesh_server_config_reload_total\{result="rejected"\} 1/);
    });
  });
});
