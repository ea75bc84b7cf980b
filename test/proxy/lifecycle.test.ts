// Start-up validation, reload (good and bad), drain, and the supervisor.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { request } from '../support/http';
import { BIN, startProxy, tmpDir } from '../support/proxy';
import { closedPort, startUpstream } from '../support/upstream';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(endpoint: string, extra = ''): string {
  return `admin: { address: 127.0.0.1:0 }
drainTimeout: 5s
listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${endpoint}]
${extra}`;
}

describe('lifecycle', () => {
  it('refuses to start on a bad config and lists every error', () => {
    const file = path.join(tmpDir(), 'bad.yaml');
    fs.writeFileSync(file, `listeners:
  - name: edge
    address: 127.0.0.1:99999
    defaultCluster: nope
clusters:
  - name: web
    endpoints: [127.0.0.1:9001]
    lb: round-robin
`);
    const r = spawnSync(process.execPath, [BIN, 'proxy', '-c', file, '--no-supervisor'], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /clusters\[0\]\.lb: unknown policy "round-robin" \(expected one of round_robin, least_request, random, ring_hash, maglev\)/);
    assert.match(r.stderr, /listeners\[0\]\.address/);
    assert.match(r.stderr, /listeners\[0\]\.defaultCluster/);
  });

  it('refuses a filter chain it cannot load instead of ignoring it, naming the filter', () => {
    const file = path.join(tmpDir(), 'filters.yaml');
    fs.writeFileSync(file, config('127.0.0.1:9').replace('    defaultCluster: web', '    defaultCluster: web\n    filters: [{ name: authz, module: ./authz.wasm }]'));
    const r = spawnSync(process.execPath, [BIN, 'proxy', '-c', file, '--no-supervisor'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /listeners\[0\]\.filters\[0\]: filter "authz": cannot read module \S+authz\.wasm: no such file/);
  });

  it('reloads a good config on SIGHUP and POST /reload; a bad one is rejected and the old one stays', async () => {
    const a = await startUpstream((_q, r) => r.end('a'));
    const b = await startUpstream((req, r) => (req.url === '/slow' ? setTimeout(() => r.end('b-slow'), 600) : r.end('b')));
    cleanups.push(() => a.close(), () => b.close());
    const px = await startProxy(config(b.address));
    cleanups.push(() => px.stop());
    const port = px.port;
    assert.equal((await request({ port })).body.toString(), 'b');

    // In-flight request on the old config while a bad file is reloaded.
    const inflight = request({ port, path: '/slow' });
    fs.writeFileSync(px.configPath, 'listeners: [ {{{ not yaml');
    const bad = await request({ port: px.adminPort, path: '/reload', method: 'POST' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /proxy\.yaml/);
    assert.equal((await inflight).body.toString(), 'b-slow');
    assert.equal((await request({ port })).body.toString(), 'b', 'old config in force');
    const dump = JSON.parse((await request({ port: px.adminPort, path: '/config_dump' })).body.toString());
    assert.ok(dump.lastReloadError);
    assert.match(px.output(), /reload rejected/);

    // Good config by signal; the listener keeps its port.
    fs.writeFileSync(px.configPath, config(a.address).replace('127.0.0.1:0\n    defaultCluster', `127.0.0.1:${port}\n    defaultCluster`));
    px.proc.kill('SIGHUP');
    let body = '';
    for (let i = 0; i < 100 && body !== 'a'; i++) {
      await sleep(20);
      body = (await request({ port })).body.toString();
    }
    assert.equal(body, 'a');
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.match(stats, /wasmesh_server_config_reload_total\{result="ok"\} 1/);
    assert.match(stats, /wasmesh_server_config_reload_total\{result="rejected"\} 1/);
  });

  it('drains on SIGTERM: in-flight requests finish, new connections are refused, exit 0', async () => {
    const up = await startUpstream((_q, r) => setTimeout(() => r.end('done'), 700));
    cleanups.push(() => up.close());
    const px = await startProxy(config(up.address), { workers: 2 });
    const inflight = Promise.all([request({ port: px.port }), request({ port: px.port })]);
    await sleep(150);
    const exit = px.stop('SIGTERM');
    await sleep(150);
    await assert.rejects(request({ port: px.port }), /ECONNREFUSED|ECONNRESET|socket hang up/);
    const rs = await inflight;
    assert.deepEqual(rs.map((r) => r.body.toString()), ['done', 'done']);
    assert.equal(await exit, 0);
  });

  it('a reload that moves a listener keeps old keep-alive connections safe until shutdown', async () => {
    const up = await startUpstream((_q, r) => r.end('moved'));
    cleanups.push(() => up.close());
    // Worker threads: a thread that ends holding uWS sockets aborts the process (exit 134).
    const px = await startProxy(config(up.address), { workers: 2 });
    const oldPort = px.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await request({ port: oldPort, agent })).body.toString(), 'moved');
    const newPort = await closedPort();
    fs.writeFileSync(px.configPath, config(up.address).replace('address: 127.0.0.1:0\n    defaultCluster', `address: 127.0.0.1:${newPort}\n    defaultCluster`));
    assert.equal((await request({ port: px.adminPort, path: '/reload', method: 'POST' })).status, 200);
    assert.equal((await request({ port: newPort })).body.toString(), 'moved');
    await assert.rejects(request({ port: oldPort }), /ECONNREFUSED/);
    // The kept-alive connection to the old address is still served by the old listener.
    assert.equal((await request({ port: oldPort, agent })).body.toString(), 'moved');
    assert.equal(await px.stop('SIGTERM'), 0);
    agent.destroy();
  });

  it('SIGINT and SIGTERM together (Ctrl-C under a supervisor) shut down once, cleanly', async () => {
    const up = await startUpstream((_q, r) => r.end('x'));
    cleanups.push(() => up.close());
    const log = path.join(tmpDir(), 'access.log');
    const px = await startProxy(config(up.address).replace('drainTimeout: 5s', `drainTimeout: 5s\naccessLog: { path: ${log} }`), { workers: 2 });
    await request({ port: px.port });
    const exited = new Promise<number | null>((r) => px.proc.on('exit', (c) => r(c)));
    px.proc.kill('SIGINT');
    px.proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.doesNotMatch(px.output(), /FATAL|Error/);
    assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 1);
  });

  it('POST /quitquitquit exits 0; GET on it is refused', async () => {
    const up = await startUpstream((_q, r) => r.end('x'));
    cleanups.push(() => up.close());
    const px = await startProxy(config(up.address));
    assert.equal((await request({ port: px.adminPort, path: '/quitquitquit' })).status, 405);
    const exited = new Promise<number | null>((r) => px.proc.on('exit', (c) => r(c)));
    assert.equal((await request({ port: px.adminPort, path: '/quitquitquit', method: 'POST' })).status, 200);
    assert.equal(await exited, 0);
  });

  it('the supervisor restarts a proxy that died and counts it', async () => {
    const up = await startUpstream((_q, r) => r.end('alive'));
    cleanups.push(() => up.close());
    const px = await startProxy(config(up.address).replace('127.0.0.1:0\ndrain', '127.0.0.1:0\ndrain'), { supervisor: true });
    cleanups.push(() => px.stop());
    const info = JSON.parse((await request({ port: px.adminPort, path: '/server_info' })).body.toString());
    // Kill the proxy child, not the supervisor: simulates the uWS abort (134).
    process.kill(info.pid, 'SIGKILL');
    const t0 = Date.now();
    let ok = false;
    while (Date.now() - t0 < 5000 && !ok) {
      await sleep(25);
      // The restarted proxy binds new admin/listener ports (port 0), so look them up from its log line.
      const m = [...px.output().matchAll(/admin [\d.]+:(\d+)/g)];
      if (m.length < 2) continue;
      const admin = Number(m[m.length - 1]![1]);
      const r = await request({ port: admin, path: '/stats/prometheus' }).catch(() => null);
      ok = r !== null && /wasmesh_server_supervisor_restarts_total 1/.test(r.body.toString());
    }
    assert.ok(ok, `restarted and counted within 5 s:\n${px.output()}`);
    assert.ok(Date.now() - t0 < 2000, `restart took ${Date.now() - t0} ms`);
  });
});
