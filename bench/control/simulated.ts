// N simulated sidecars (simulator.ts, in this process) against a real control
// plane. The simulator timestamps each ACK as it sends it; a propagation ends
// at the last proxy's ACK of the applied version. GET /api/v1/proxies checks
// once at the end that the control plane saw every ACK too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allAcked, applyMesh, cpuMs, memKiB, proxies, rssSampler, sleep, startControlPlane, waitSynced, type ControlPlaneProc } from './control';
import { flipRequest, meshYaml } from './mesh';
import { emptyResult, type ScenarioResult } from './result';
import { Simulator } from './simulator';

export interface SimulatedOptions {
  count: number;
  repeats: number;
  services: number;
  heartbeat: string;
  dir: string;
  /** Streams opened at a time while connecting. */
  connectConcurrency: number;
  /** Extra node options for the control plane (e.g. --cpu-prof). */
  controlNodeArgs: string[];
  /** Unmeasured changes applied first (JIT warm-up). */
  warmup: number;
  log: (msg: string) => void;
}

export async function runSimulated(o: SimulatedOptions): Promise<ScenarioResult> {
  const r = emptyResult(`${o.count} simulated`, 'simulated', o.count, o.services, o.repeats);
  fs.mkdirSync(o.dir, { recursive: true });
  const meshFile = path.join(o.dir, 'mesh.yaml');
  fs.writeFileSync(meshFile, meshYaml(o.services));
  let cp: ControlPlaneProc | null = null;
  let sim: Simulator | null = null;
  try {
    cp = await startControlPlane(o.dir, meshFile, o.heartbeat, o.controlNodeArgs);
    const cpx = cp;
    r.rss.empty = memKiB(cp.child.pid)?.rss ?? null;
    let meshVersion = (await proxies(cp)).configVersion;
    const s = new Simulator({ url: cp.url, token: cp.token, count: o.count, services: o.services, concurrency: o.connectConcurrency });
    sim = s;
    const ids = new Set(s.proxies.map((p) => p.hello.nodeId));
    const healthy = () => {
      if (!cpx.child.alive()) throw new Error(`the control plane exited:\n${cpx.child.tail()}`);
      if (s.counters.lostStreams > 0) throw new Error(`${s.counters.lostStreams} simulated streams were closed by the control plane (missed heartbeats?); errors: ${s.counters.errors.slice(0, 3).join('; ')}`);
    };

    // ---- connect ----
    const t0 = performance.now();
    await s.connectAll(120_000);
    o.log(`${o.count} simulated streams open (${((performance.now() - t0) / 1000).toFixed(1)} s); waiting for SYNCED`);
    await waitSynced(cp, ids, meshVersion, 120_000, 250, healthy);
    r.setupMs = performance.now() - t0;
    o.log(`${o.count} simulated proxies SYNCED (${(r.setupMs / 1000).toFixed(1)} s; ${s.counters.snapshots} snapshots, ${s.counters.deltas} deltas, ${(s.counters.bytesIn / 1048576).toFixed(0)} MiB received)`);
    await sleep(1_000);
    await waitSynced(cp, ids, meshVersion, 30_000, 250, healthy);
    r.rss.idle = memKiB(cp.child.pid)?.rss ?? null;

    // ---- the changes: warm-up ones first, unmeasured ----
    const change = async (k: number): Promise<{ times: number[]; applyRtt: number }> => {
      healthy();
      const start = performance.now();
      const v = await applyMesh(cpx, flipRequest(k), meshVersion);
      const applyRtt = performance.now() - start;
      meshVersion = v;
      await s.waitAcked(v, 60_000);
      const times = s.ackTimes(v).map((t) => t!.ackedAt - start);
      await sleep(300); // a pause between changes, as between two operators' applies
      return { times, applyRtt };
    };
    for (let k = 0; k < o.warmup; k++) r.warmup.push(Math.max(...(await change(k)).times));
    const bytes0 = s.counters.bytesIn;
    const resyncs0 = s.counters.resyncs;
    const cpu0 = cpuMs(cp.child.pid);
    const simCpu0 = process.cpuUsage();
    const sampler = rssSampler(cp.child.pid);
    try {
      for (let k = o.warmup; k < o.warmup + o.repeats; k++) {
        const c = await change(k);
        r.propagation.push(Math.max(...c.times));
        r.firstAck.push(Math.min(...c.times));
        r.perProxy.push(...c.times);
        r.applyRtt.push(c.applyRtt);
      }
    } finally {
      r.rss.peakDuringApplies = sampler.stop();
    }
    const cpu1 = cpuMs(cp.child.pid);
    const simCpu = process.cpuUsage(simCpu0);
    const n = r.propagation.length;
    if (n > 0) {
      if (cpu0 !== null && cpu1 !== null) r.cpuMsPerApply = (cpu1 - cpu0) / n;
      r.simCpuMsPerApply = (simCpu.user + simCpu.system) / 1000 / n;
      r.bytesPerProxyPerApply = (s.counters.bytesIn - bytes0) / n / o.count;
    }
    r.rss.hwm = memKiB(cp.child.pid)?.hwm ?? null;
    if (s.counters.resyncs > resyncs0) r.notes.push(`${s.counters.resyncs - resyncs0} resyncs during the repeats (a delta on a base the proxy did not have)`);

    // ---- cross-check with the control plane's own view ----
    const rows = (await proxies(cp)).proxies.filter((p) => ids.has(p.nodeId));
    const ok = rows.filter((p) => p.connected && p.pushed !== null && p.acked === p.pushed && p.configVersion === meshVersion).length;
    r.notes.push(`cross-check: GET /api/v1/proxies after the last repeat shows ${ok}/${o.count} simulated proxies with acked = pushed on mesh v${meshVersion}${allAcked(rows, ids, meshVersion) ? '' : ' (MISMATCH)'}`);
    r.notes.push(`setup: ${s.counters.snapshots} snapshots and ${s.counters.deltas} deltas received in all, ${s.counters.resyncs} resyncs, ${s.counters.errors.length} errors`);
  } catch (e) {
    r.error = (e as Error).message;
  } finally {
    await sim?.close(false);
    if (cp !== null) await cp.stop();
  }
  return r;
}
