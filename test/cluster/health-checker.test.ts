import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { ClusterConfig, HealthCheckConfig } from '../../runtime/config/types';
import { EndpointStateTable } from '../../runtime/cluster/endpoint-state';
import { HealthChecker } from '../../runtime/cluster/health-checker';

interface Upstream {
  server: http.Server;
  port: number;
  /** What /healthz does now. */
  mode: 'ok' | 'fail' | 'hang';
  requests: Array<{ path: string; host: string }>;
  open: number;
}

async function upstream(mode: Upstream['mode'] = 'ok'): Promise<Upstream> {
  const u: Upstream = { server: http.createServer(), port: 0, mode, requests: [], open: 0 };
  u.server.on('connection', (s) => {
    u.open++;
    s.on('close', () => u.open--);
  });
  u.server.on('request', (req, res) => {
    u.requests.push({ path: req.url ?? '', host: req.headers.host ?? '' });
    if (u.mode === 'hang') return; // never answer
    res.writeHead(u.mode === 'ok' ? 204 : 503).end();
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.port = (u.server.address() as AddressInfo).port;
  return u;
}

async function close(...us: Upstream[]): Promise<void> {
  for (const u of us) {
    u.server.closeAllConnections();
    await new Promise<void>((r) => u.server.close(() => r()));
  }
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const u = await upstream();
  const p = u.port;
  await close(u);
  return p;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function cluster(ports: number[], hc: Partial<HealthCheckConfig> = {}): ClusterConfig {
  return {
    name: 'backend.svc',
    endpoints: ports.map((port) => ({ host: '127.0.0.1', port })),
    lb: 'round_robin',
    hashOn: null,
    connectTimeoutMs: 1000,
    timeoutMs: 1000,
    maxConnections: 100,
    maxPendingRequests: 100,
    idleTimeoutMs: 1000,
    healthCheck: { path: '/healthz', intervalMs: 50, timeoutMs: 300, unhealthyThreshold: 2, healthyThreshold: 3, ...hc },
    outlierDetection: null,
  };
}

test('failing /healthz marks unhealthy after unhealthyThreshold, healthy again after healthyThreshold', async () => {
  const a = await upstream('ok');
  const b = await upstream('ok');
  const c = cluster([a.port, b.port]);
  const table = EndpointStateTable.create(2, null);
  const transitions: string[] = [];
  const hc = new HealthChecker(c, table, { onTransition: (i, healthy, detail) => transitions.push(`${i}:${healthy}:${detail}`) });
  try {
    assert.equal(table.isHealthy(0), true, 'endpoints start healthy (optimistic)');
    hc.start();
    await waitFor('first checks', () => hc.status().every((s) => s.checks >= 2));
    assert.deepEqual(a.requests[0], { path: '/healthz', host: 'backend.svc' });
    assert.equal(table.isHealthy(0), true, '204 is a 2xx success');

    a.mode = 'fail';
    await waitFor('endpoint 0 unhealthy', () => !table.isHealthy(0));
    const s0 = hc.status()[0];
    assert.equal(s0.consecutiveFailures, 2, 'flipped exactly at the threshold');
    assert.equal(s0.lastResult, 'HTTP 503');
    assert.equal(table.isAvailable(0), false);
    assert.equal(table.isHealthy(1), true);

    a.mode = 'ok';
    await waitFor('endpoint 0 healthy', () => table.isHealthy(0));
    assert.equal(hc.status()[0].consecutiveSuccesses, 3, 'flipped exactly at the threshold');
    assert.deepEqual(transitions, ['0:false:HTTP 503', '0:true:HTTP 204']);
  } finally {
    hc.stop();
    await close(a, b);
  }
});

test('a single success does not restore health before healthyThreshold', async () => {
  const a = await upstream('fail');
  const table = EndpointStateTable.create(1, null);
  const hc = new HealthChecker(cluster([a.port], { healthyThreshold: 1000 }), table);
  try {
    hc.start();
    await waitFor('unhealthy', () => !table.isHealthy(0));
    a.mode = 'ok';
    await waitFor('some successes', () => hc.status()[0].consecutiveSuccesses >= 3);
    assert.equal(table.isHealthy(0), false);
  } finally {
    hc.stop();
    await close(a);
  }
});

test('timeouts and refused connections count as failures', async () => {
  const hang = await upstream('hang');
  const refused = await deadPort();
  const table = EndpointStateTable.create(2, null);
  const hc = new HealthChecker(cluster([hang.port, refused], { timeoutMs: 80 }), table);
  try {
    hc.start();
    await waitFor('both unhealthy', () => !table.isHealthy(0) && !table.isHealthy(1));
    assert.equal(hc.status()[0].lastResult, 'timeout');
    assert.equal(hc.status()[1].lastResult, 'ECONNREFUSED');
    hc.stop();
    // Timed-out probes' connections are destroyed, not left hanging on the upstream.
    await waitFor('probe sockets closed', () => hang.open === 0);
  } finally {
    hc.stop();
    await close(hang);
  }
});

test('stop() destroys in-flight sockets and is idempotent; start() works again', async () => {
  const hang = await upstream('hang');
  const table = EndpointStateTable.create(1, null);
  const hc = new HealthChecker(cluster([hang.port], { timeoutMs: 60_000 }), table);
  try {
    hc.start();
    await waitFor('check in flight', () => hang.open === 1 && hang.requests.length === 1);
    hc.stop();
    hc.stop();
    assert.equal(hc.isRunning, false);
    await waitFor('socket closed', () => hang.open === 0);
    hang.mode = 'ok';
    hc.start();
    await waitFor('checks resume', () => hc.status()[0].checks >= 2);
  } finally {
    hc.stop();
    await close(hang);
  }
});

test('after stop() the checker keeps nothing alive: a process running it exits on its own', async () => {
  // The upstreams live here; the checker runs in a child that never calls
  // process.exit. The child starts checks against a healthy endpoint, a
  // hanging one (timeout 60 s, so a request and its deadline timer are in
  // flight at stop) and a refused one, stops after ~300 ms, and must then
  // exit by itself - any timer or socket the checker leaked would keep it up.
  const ok = await upstream('ok');
  const hang = await upstream('hang');
  const refused = await deadPort();
  const dist = path.resolve(__dirname, '../../runtime/cluster');
  const script = `
    const { EndpointStateTable } = require(${JSON.stringify(path.join(dist, 'endpoint-state.js'))});
    const { HealthChecker } = require(${JSON.stringify(path.join(dist, 'health-checker.js'))});
    const cluster = JSON.parse(process.argv[1]);
    const table = EndpointStateTable.create(cluster.endpoints.length, null);
    const hc = new HealthChecker(cluster, table);
    hc.start();
    setTimeout(() => {
      hc.stop();
      process.stdout.write(JSON.stringify(hc.status()));
    }, 300);
  `;
  const c = cluster([ok.port, hang.port, refused], { timeoutMs: 60_000 });
  try {
    const child = spawn(process.execPath, ['-e', script, JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('did not exit within 5 s of starting: the stopped checker left handles behind');
      }, 5000);
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve(code ?? -1);
      });
    });
    assert.equal(code, 0);
    const status = JSON.parse(out) as Array<{ checks: number; lastResult: string }>;
    assert.ok(status[0].checks >= 2, out);
    assert.equal(status[1].checks, 0, 'the hanging check was still in flight at stop');
    assert.equal(status[2].lastResult, 'ECONNREFUSED');
    await waitFor('hanging socket closed', () => hang.open === 0);
  } finally {
    await close(ok, hang);
  }
});

test('unejectOnSuccess returns an outlier-ejected endpoint on a passing check (opt-in)', async () => {
  const a = await upstream('ok');
  const c = { ...cluster([a.port]), outlierDetection: { consecutive5xx: 1, intervalMs: 1000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 100 } };
  const table = EndpointStateTable.create(1, c.outlierDetection);
  assert.equal(table.recordResponse(0, 500, Date.now()), true);
  const hc = new HealthChecker(c, table, { unejectOnSuccess: true });
  try {
    hc.start();
    await waitFor('unejected', () => table.isAvailable(0));
  } finally {
    hc.stop();
    await close(a);
  }
});

test('constructor rejects clusters without health check or with a mismatched table', () => {
  const c = cluster([1]);
  assert.throws(() => new HealthChecker({ ...c, healthCheck: null }, EndpointStateTable.create(1, null)), TypeError);
  assert.throws(() => new HealthChecker(c, EndpointStateTable.create(2, null)), RangeError);
});
