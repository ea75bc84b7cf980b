// Renders the summed worker regions (plus main-thread values) in the
// Prometheus text exposition format.
import { HISTOGRAM_BUCKETS_MS, SLOTS_PER_WORKER, type StatDef, type StatsLayout } from './layout';

function sum(sab: SharedArrayBuffer, workers: number, slot: number): number {
  let s = 0;
  for (let w = 0; w < workers; w++) s += new Float64Array(sab, (w * SLOTS_PER_WORKER + slot) * 8, 1)[0]!;
  return s;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

export interface ExtraSample {
  name: string;
  labels: string;
  kind: 'counter' | 'gauge';
  help: string;
  value: number;
}

export function renderPrometheus(layout: StatsLayout, sab: SharedArrayBuffer, workers: number, extra: ExtraSample[]): string {
  const families = new Map<string, { kind: string; help: string; lines: string[] }>();
  const family = (name: string, kind: string, help: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { kind, help, lines: [] }));
    return f;
  };
  for (const d of layout.defs()) renderDef(d, family(d.name, d.kind, d.help).lines, sab, workers);
  for (const e of extra) family(e.name, e.kind, e.help).lines.push(`${e.name}${e.labels ? `{${e.labels}}` : ''} ${fmt(e.value)}`);
  let out = '';
  for (const [name, f] of families) {
    out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.kind}\n${f.lines.join('\n')}\n`;
  }
  return out;
}

function renderDef(d: StatDef, lines: string[], sab: SharedArrayBuffer, workers: number): void {
  const l = d.labels;
  if (d.kind !== 'histogram') {
    lines.push(`${d.name}${l ? `{${l}}` : ''} ${fmt(sum(sab, workers, d.slot))}`);
    return;
  }
  const n = HISTOGRAM_BUCKETS_MS.length;
  let cumulative = 0;
  for (let i = 0; i <= n; i++) {
    cumulative += sum(sab, workers, d.slot + i);
    const le = i < n ? fmt(HISTOGRAM_BUCKETS_MS[i]!) : '+Inf';
    lines.push(`${d.name}_bucket{${l ? l + ',' : ''}le="${le}"} ${cumulative}`);
  }
  lines.push(`${d.name}_sum${l ? `{${l}}` : ''} ${fmt(sum(sab, workers, d.slot + n + 1))}`);
  lines.push(`${d.name}_count${l ? `{${l}}` : ''} ${fmt(sum(sab, workers, d.slot + n + 2))}`);
}
