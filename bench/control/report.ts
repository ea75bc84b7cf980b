// The Markdown report.
import * as os from 'node:os';
import * as fs from 'node:fs';
import { mib, ms, summarize } from './stats';
import type { ScenarioResult } from './result';

export interface RunInfo {
  command: string;
  startedAt: Date;
  elapsedS: number;
  services: number;
  heartbeat: string;
  pollMs: number;
  targetMs: number;
  warmup: number;
  loadAtStart: number[];
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1]!.trim() : os.cpus()[0]?.model ?? '?';
  } catch {
    return os.cpus()[0]?.model ?? '?';
  }
}

export function renderReport(info: RunInfo, results: ScenarioResult[]): string {
  const L: string[] = [];
  L.push('# Control plane: config propagation', '');
  L.push(`Run of ${info.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${info.elapsedS.toFixed(0)} s in all.`, '');
  L.push('```sh', info.command, '```', '');
  L.push(`Machine: ${os.cpus().length} CPUs (${cpuModel()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; loopback only; load average at start ${info.loadAtStart.map((x) => x.toFixed(2)).join(' ')}. ` +
    'The control plane, the benchmark (with the simulator) and every real proxy share these CPUs.', '');
  L.push(`Mesh: ${info.services} Services, each with two static endpoints (v1, v2), a DestinationRule (subsets v1, v2) and a VirtualService bound to \`mesh\` (90/10). ` +
    'Sidecars register as instances of svc-(i mod S), labels `app`, `version` (v1/v2 alternating). ' +
    'Each repeat applies svc-0\'s VirtualService with its weights flipped (90/10 ↔ 10/90): the outbound router of every sidecar changes, so every proxy gets a delta. ' +
    `Heartbeat ${info.heartbeat}.`, '');
  L.push('**Propagation** = from just before `POST /api/v1/apply` to the last proxy\'s ACK of the new version. Real proxies: seen by polling `GET /api/v1/proxies` ' +
    `(every ~${info.pollMs} ms) until every proxy has \`acked\` = \`pushed\` on the applied mesh version. Simulated: the simulator's own timestamp as it sends each ACK. ` +
    `${info.warmup > 0 ? `${info.warmup} unmeasured warm-up change${info.warmup > 1 ? 's' : ''} first (the first change after start is slower: JIT; its time is in the notes). ` : ''}` +
    'Percentiles are nearest-rank over the repeats (with 20 repeats p99 is the largest; with 10, too).', '');

  L.push('| scenario | repeats | propagation p50 | p99 | max | POST /apply p50 / max | setup (all SYNCED) | control plane RSS: no proxy → idle with N → peak during applies (VmHWM) | control plane CPU per apply |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of results) {
    const p = summarize(r.propagation);
    const a = summarize(r.applyRtt);
    L.push(`| ${r.name}${r.error ? ' (**failed**)' : ''} | ${r.propagation.length}/${r.repeats} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${ms(a.p50)} / ${ms(a.max)} | ${ms(r.setupMs)} | ` +
      `${mib(r.rss.empty)} → ${mib(r.rss.idle)} → ${mib(r.rss.peakDuringApplies)} (${mib(r.rss.hwm)}) | ${r.cpuMsPerApply === null ? '–' : ms(r.cpuMsPerApply)} |`);
  }
  L.push('');

  const reals = results.filter((r) => r.kind === 'real' && r.proxyApplyMs.length > 0);
  if (reals.length > 0) {
    L.push('Real proxies: each proxy\'s own apply time per change (its log line `version N in force (X ms)`: from receipt to every worker serving it; compile, prepare and commit), over every proxy and measured change:', '');
    L.push('| scenario | applies | p50 | p90 | p99 | max |');
    L.push('|---|--:|--:|--:|--:|--:|');
    for (const r of reals) {
      const a = summarize(r.proxyApplyMs);
      L.push(`| ${r.name} | ${a.n} | ${ms(a.p50)} | ${ms(a.p90)} | ${ms(a.p99)} | ${ms(a.max)} |`);
    }
    L.push('');
  }

  const sims = results.filter((r) => r.kind === 'simulated' && r.perProxy.length > 0);
  if (sims.length > 0) {
    L.push('Simulated proxies, per proxy (every ACK of every repeat):', '');
    L.push('| scenario | ACKs | first ACK p50 | per-proxy ACK p50 | p90 | p99 | max | delta bytes per proxy per change | simulator CPU per change |');
    L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const r of sims) {
      const pp = summarize(r.perProxy);
      const f = summarize(r.firstAck);
      L.push(`| ${r.name} | ${pp.n} | ${ms(f.p50)} | ${ms(pp.p50)} | ${ms(pp.p90)} | ${ms(pp.p99)} | ${ms(pp.max)} | ${r.bytesPerProxyPerApply === null ? '–' : Math.round(r.bytesPerProxyPerApply).toLocaleString('en-US')} | ${r.simCpuMsPerApply === null ? '–' : ms(r.simCpuMsPerApply)} |`);
    }
    L.push('');
  }

  L.push('## Target', '');
  const target = results.find((r) => r.kind === 'simulated' && r.proxies >= 1000 && r.error === null && r.propagation.length > 0);
  if (target === undefined) {
    L.push(`At most ${ms(info.targetMs)} at the 99th percentile with 1000 connected proxies: **not measured in this run** (no successful scenario with ≥ 1000 simulated proxies).`);
  } else {
    const p99 = summarize(target.propagation).p99;
    L.push(`At most ${ms(info.targetMs)} at the 99th percentile with 1000 connected proxies: **${p99 <= info.targetMs ? 'met' : 'not met'}** — ` +
      `p99 ${ms(p99)} over ${target.propagation.length} changes with ${target.proxies} simulated proxies (the simulator's ACK times, all proxies ACKed each change).`);
  }
  L.push('');

  L.push('## Notes', '');
  for (const r of results) {
    if (r.error) L.push(`- **${r.name}: failed**: ${r.error.split('\n').slice(0, 12).join('\n  ')}`);
    for (const n of r.notes) L.push(`- ${r.name}: ${n}`);
    if (r.warmup.length > 0) L.push(`- ${r.name}: warm-up change${r.warmup.length > 1 ? 's' : ''} (not counted): ${r.warmup.map((x) => ms(x)).join(', ')}`);
    if (r.propagation.length > 0) L.push(`- ${r.name}: propagation per repeat (ms): ${r.propagation.map((x) => x.toFixed(1)).join(', ')}`);
  }
  L.push('');
  return L.join('\n');
}
