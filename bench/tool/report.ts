// Human-readable report, the progress line and the percentile spectrum text.
import { decode, type Summary } from './histogram';
import type { BenchResult, Progress } from './run';
import { ERROR_KINDS } from './types';

export function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function fmtRate(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

function row(name: string, s: Summary): string {
  const cells = [s.p50, s.p90, s.p99, s.p999, s.max, s.mean].map((v) => (s.count === 0 ? '-' : fmtMs(v)).padStart(10));
  return `  ${name.padEnd(9)}${cells.join('')}${String(s.count).padStart(11)}`;
}

export function formatReport(r: BenchResult): string {
  const o = r.options;
  const out: string[] = [];
  const mode = r.mode === 'open' ? `open loop at ${fmtRate(r.targetRps!)} req/s` : 'closed loop (max throughput)';
  out.push(`wasmesh bench ${r.url}`);
  out.push(
    `  ${mode}, ${o.connections} connection${o.connections === 1 ? '' : 's'}, ${o.workers} worker${o.workers === 1 ? '' : 's'}, ` +
      `${o.durationS} s measured after ${o.warmupS} s warm-up`,
  );
  out.push('');
  const target = r.targetRps !== null ? ` of ${fmtRate(r.targetRps)} target (${((100 * r.achievedRps) / r.targetRps).toFixed(1)} %)` : '';
  out.push(`  rate       ${fmtRate(r.achievedRps)} req/s${target}`);
  const q = r.requests;
  const unsent = r.mode === 'open' ? `, ${q.intended} intended, ${q.unsent} never sent` : '';
  out.push(`  requests   ${q.completed} completed of ${q.sent} sent in the window${unsent}; ${q.sentTotal} sent in total`);
  out.push(`  traffic    ${fmtBytes(r.bytes.rxPerS)}/s in, ${fmtBytes(r.bytes.txPerS)}/s out`);
  const st = Object.entries(r.status)
    .map(([k, v]) => `${k} × ${v}`)
    .join(', ');
  out.push(`  status     ${st || 'none'}`);
  const errs = ERROR_KINDS.filter((k) => r.errors[k]).map((k) => `${k} × ${r.errors[k]}`);
  out.push(`  errors     ${errs.length ? errs.join(', ') : 'none'}`);
  out.push(`  conns      ${r.connections.opened} opened, ${r.connections.reconnects} reconnects`);
  out.push('');
  out.push(`  ${''.padEnd(9)}${['p50', 'p90', 'p99', 'p99.9', 'max', 'mean'].map((h) => h.padStart(10)).join('')}${'count'.padStart(11)}`);
  out.push(row('latency', r.latency));
  if (r.mode === 'open') out.push(row('service', r.service));
  out.push(row('connect', r.connect));
  out.push('');
  out.push(
    r.mode === 'open'
      ? '  latency: from each request\'s intended send time (coordinated omission corrected); service: from its actual write'
      : '  latency: from the write of each request to the end of its response',
  );
  for (const w of r.warnings) out.push(`  WARNING: ${w}`);
  return out.join('\n') + '\n';
}

/** HdrHistogram's classic percentile distribution (values in ms), for --spectrum. */
export function formatSpectrum(r: BenchResult): string {
  const h = decode(r.histograms.latency);
  return `latency percentile spectrum (ms):\n${h.outputPercentileDistribution(5, 1000)}`;
}

export function formatProgress(p: Progress): string {
  const phase = p.warmingUp ? 'warm-up' : 'measuring';
  return `[${p.elapsedS.toFixed(0).padStart(3)}/${p.totalS} s] ${phase.padEnd(9)} ${fmtRate(p.rps).padStart(9)} req/s  ${p.completed} done  ${p.errors} errors`;
}
