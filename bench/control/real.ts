// N real sidecars (`wasmesh proxy --control ... --no-supervisor --workers 1`)
// against a real control plane. Each registers as an instance of svc-(i mod S)
// with its own ports (one machine: every listener needs its own port, so
// every proxy is a distinct translation target). The end of a propagation is
// seen by polling GET /api/v1/proxies: every proxy's `acked` equals its
// `pushed`, built from the applied mesh version.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { allAcked, applyMesh, BIN, cpuMs, memKiB, proxies, rssSampler, sleep, startControlPlane, waitSynced, type ControlPlaneProc } from './control';
import { flipRequest, meshYaml, serviceName } from './mesh';
import { spawnNode, stopChildren, type Child } from './procs';
import { emptyResult, type ScenarioResult } from './result';

export interface RealOptions {
  count: number;
  repeats: number;
  services: number;
  heartbeat: string;
  dir: string;
  /** Gap between two polls of /api/v1/proxies while waiting for the ACKs, ms. */
  pollMs: number;
  /** Proxies started at a time (each batch waits for every proxy to be SYNCED). */
  startBatch: number;
  /** Extra node options for the control plane (e.g. --cpu-prof). */
  controlNodeArgs: string[];
  /** Unmeasured changes applied first (JIT warm-up). */
  warmup: number;
  log: (msg: string) => void;
}

/** From the proxies' logs: `version N in force (X ms)` (receipt to every worker serving it) for the versions of the measured changes. */
function proxyApplyTimes(procs: Child[], versions: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const p of procs) {
    if (p.logFile === null) continue;
    let text = '';
    try {
      text = fs.readFileSync(p.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/version (\d+) in force \((\d+) ms\)/g)) if (versions.has(Number(m[1]))) out.push(Number(m[2]));
  }
  return out;
}

export async function runReal(o: RealOptions): Promise<ScenarioResult> {
  const r = emptyResult(`${o.count} real`, 'real', o.count, o.services, o.repeats);
  fs.mkdirSync(o.dir, { recursive: true });
  const meshFile = path.join(o.dir, 'mesh.yaml');
  fs.writeFileSync(meshFile, meshYaml(o.services));
  const bundles = path.join(o.dir, 'bundles');
  // The sidecars' local app: nothing is sent to it; it is there so --app names a live port.
  const app = net.createServer((s) => s.destroy());
  await new Promise<void>((res) => app.listen(0, '127.0.0.1', res));
  const appPort = (app.address() as net.AddressInfo).port;
  let cp: ControlPlaneProc | null = null;
  const procs: Child[] = [];
  try {
    cp = await startControlPlane(o.dir, meshFile, o.heartbeat, o.controlNodeArgs);
    const cpx = cp;
    r.rss.empty = memKiB(cp.child.pid)?.rss ?? null;
    let meshVersion = (await proxies(cp)).configVersion;
    const ids = new Set<string>();
    const alive = () => {
      if (!cpx.child.alive()) throw new Error(`the control plane exited:\n${cpx.child.tail()}`);
      const dead = procs.find((p) => !p.alive());
      if (dead) throw new Error(`${dead.name} exited:\n${dead.tail()}`);
    };

    // ---- start the proxies, a batch at a time ----
    const t0 = performance.now();
    for (let i = 0; i < o.count; i += o.startBatch) {
      for (let j = i; j < Math.min(o.count, i + o.startBatch); j++) {
        const svc = j % o.services;
        const k = Math.floor(j / o.services);
        const nodeId = `real-${serviceName(svc)}-${k}`;
        ids.add(nodeId);
        procs.push(spawnNode(nodeId, [BIN, 'proxy', '--control', cp.url, '--token', cp.token, '--node-id', nodeId, '--no-supervisor', '--workers', '1',
          '--service', serviceName(svc), '--app', `127.0.0.1:${appPort}`, '--labels', `app=${serviceName(svc)},version=${k % 2 === 0 ? 'v1' : 'v2'}`,
          '--inbound', '127.0.0.1:0', '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--bundle-cache', bundles], path.join(o.dir, `${nodeId}.log`)));
      }
      await waitSynced(cp, ids, meshVersion, 60_000 + 500 * ids.size, 100, alive);
      if (ids.size % 20 === 0 || ids.size === o.count) o.log(`${ids.size}/${o.count} real proxies SYNCED (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    r.setupMs = performance.now() - t0;
    await sleep(1_000);
    await waitSynced(cp, ids, meshVersion, 30_000, 100, alive);
    r.rss.idle = memKiB(cp.child.pid)?.rss ?? null;

    // ---- the changes: warm-up ones first, unmeasured ----
    const change = async (k: number): Promise<{ propagation: number; applyRtt: number }> => {
      alive();
      const start = performance.now();
      const v = await applyMesh(cpx, flipRequest(k), meshVersion);
      const applyRtt = performance.now() - start;
      meshVersion = v;
      const deadline = start + 60_000;
      for (;;) {
        const rows = (await proxies(cpx)).proxies;
        const seen = performance.now();
        if (allAcked(rows, ids, v)) {
          for (const p of rows) if (ids.has(p.nodeId) && p.pushed !== null) pushVersions.add(p.pushed);
          await sleep(300); // let the proxies' logs and heartbeats settle between changes
          return { propagation: seen - start, applyRtt };
        }
        const nacked = rows.find((p) => ids.has(p.nodeId) && p.status === 'NACKED');
        if (nacked) throw new Error(`${nacked.nodeId} NACKed mesh v${v}: ${nacked.error}`);
        if (seen > deadline) throw new Error(`change ${k + 1}: not every proxy ACKed mesh v${v} within 60 s`);
        alive();
        await sleep(o.pollMs);
      }
    };
    const pushVersions = new Set<number>();
    for (let k = 0; k < o.warmup; k++) r.warmup.push((await change(k)).propagation);
    pushVersions.clear();
    const cpu0 = cpuMs(cp.child.pid);
    const sampler = rssSampler(cp.child.pid);
    try {
      for (let k = o.warmup; k < o.warmup + o.repeats; k++) {
        const c = await change(k);
        r.propagation.push(c.propagation);
        r.applyRtt.push(c.applyRtt);
      }
    } finally {
      r.rss.peakDuringApplies = sampler.stop();
    }
    const cpu1 = cpuMs(cp.child.pid);
    if (cpu0 !== null && cpu1 !== null && r.propagation.length > 0) r.cpuMsPerApply = (cpu1 - cpu0) / r.propagation.length;
    r.rss.hwm = memKiB(cp.child.pid)?.hwm ?? null;
    r.proxyApplyMs = proxyApplyTimes(procs, pushVersions);
    r.notes.push(`end of each propagation seen by polling GET /api/v1/proxies every ~${o.pollMs} ms plus its round trip (the times are upper bounds by up to one poll)`);
  } catch (e) {
    r.error = (e as Error).message;
  } finally {
    // The control plane first: proxies then stop without deregistering one by one (each `bye` would push to all the others).
    if (cp !== null) await cp.stop();
    await stopChildren(procs, 10_000);
    app.close();
  }
  return r;
}
