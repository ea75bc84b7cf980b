#!/usr/bin/env node
'use strict';
// Start-up time and sidecar footprint of `wasmesh proxy`.
//
//   node bench/core/startup-rss.js [--runs 5] [--load-seconds 5]
//
// Start-up: wall time from spawning `wasmesh proxy` to the first TCP
// connection its listener accepts, for three shapes. Footprint: RSS of the
// proxy process and of its supervisor, idle and after max load with wrk
// (VmHWM = peak). Loopback only; every process started here is stopped.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.join(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'wasmesh.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const LOAD_S = arg('--load-seconds', 5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function stop(p) {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.on('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 10000).unref();
  });
}

function status(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) / 1024).toFixed(1) : '?';
}

function childPid(pid) {
  const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return kids.length ? Number(kids[0]) : null;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-startup-'));
  const upPort = await freePort();
  const up = spawn(process.execPath, [path.join(__dirname, 'upstream.js'), String(upPort)], { stdio: 'ignore' });
  const port = await freePort();
  const admin = await freePort();
  const config = path.join(dir, 'proxy.yaml');
  fs.writeFileSync(config, `admin: { address: 127.0.0.1:${admin} }\nlisteners:\n  - name: bench\n    address: 127.0.0.1:${port}\n    defaultCluster: upstream\nclusters:\n  - name: upstream\n    endpoints: [127.0.0.1:${upPort}]\n`);
  await sleep(300);

  console.log(`## Start-up: spawn to first accepted connection (${RUNS} runs each)\n`);
  console.log('| shape | median | min | max |\n|---|--:|--:|--:|');
  for (const [label, extra] of [
    ['`--workers 1 --no-supervisor`', ['--workers', '1', '--no-supervisor']],
    ['`--workers 1` (supervised)', ['--workers', '1']],
    ['`--workers 2` (supervised)', ['--workers', '2']],
  ]) {
    const xs = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const p = spawn(process.execPath, [BIN, 'proxy', '-c', config, ...extra], { stdio: 'ignore' });
      while (!(await canConnect(port))) await sleep(2);
      xs.push(performance.now() - t0);
      await stop(p);
    }
    xs.sort((a, b) => a - b);
    console.log(`| ${label} | ${xs[xs.length >> 1].toFixed(0)} ms | ${xs[0].toFixed(0)} ms | ${xs[xs.length - 1].toFixed(0)} ms |`);
  }

  console.log('\n## Sidecar footprint: `wasmesh proxy --workers 1` (supervised)\n');
  const sup = spawn(process.execPath, [BIN, 'proxy', '-c', config, '--workers', '1'], { stdio: 'ignore' });
  while (!(await canConnect(port))) await sleep(5);
  await sleep(1000);
  const proxyPid = childPid(sup.pid);
  const idle = status(proxyPid, 'VmRSS');
  const supIdle = status(sup.pid, 'VmRSS');
  const wrk = spawnSync('wrk', ['-t1', '-c50', `-d${LOAD_S}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout || '');
  console.log('| process | RSS idle | peak RSS after max load |\n|---|--:|--:|');
  console.log(`| proxy (pid ${proxyPid}) | ${idle} MiB | ${status(proxyPid, 'VmHWM')} MiB |`);
  console.log(`| supervisor (pid ${sup.pid}) | ${supIdle} MiB | ${status(sup.pid, 'VmHWM')} MiB |`);
  console.log(`\nLoad: wrk -t1 -c50 -d${LOAD_S}s, ${rps ? Math.round(Number(rps[1])) + ' rps' : 'wrk not available: no load applied'}.`);
  await stop(sup);
  await stop(up);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
