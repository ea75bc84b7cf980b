// Latency-by-percentile chart as hand-written SVG (the classic HdrHistogram
// percentile plot): x = log10(1 / (1 - p)), labelled 0 %, 90 %, 99 %,
// 99.9 %, ...; y = latency (ms, linear). Several runs are overlaid.
import * as fs from 'fs';
import * as path from 'path';
import type { SpectrumPoint } from './histogram';
import type { BenchResult } from './run';

export interface PlotSeries {
  label: string;
  points: SpectrumPoint[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2, 5 × 10^k at or above x. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= x) return m * e;
  return 10 * e;
}

function pctLabel(decade: number): string {
  if (decade === 0) return '0%';
  return `${(100 - 100 / Math.pow(10, decade)).toFixed(Math.max(0, decade - 2))}%`;
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

export function renderPlot(series: PlotSeries[], title = 'Latency by percentile'): string {
  const W = 900;
  const H = 520;
  const L = 80;
  const R = 30;
  const T = 50;
  const B = 70;
  const pw = W - L - R;
  const ph = H - T - B;
  // x range: as many nines as the deepest series resolves (2..6 decades)
  let decades = 2;
  let yMax = 0;
  for (const s of series) {
    for (const p of s.points) {
      if (p.percentile < 100) decades = Math.max(decades, Math.ceil(Math.log10(1 / (1 - p.percentile / 100)) - 1e-9));
      yMax = Math.max(yMax, p.ms);
    }
  }
  decades = Math.min(6, decades);
  const yTop = niceCeil(yMax * 1.05);
  const xOf = (p: number): number => {
    const v = p >= 100 ? decades : Math.min(decades, Math.log10(1 / (1 - p / 100)));
    return L + (v / decades) * pw;
  };
  const yOf = (ms: number): number => T + ph - (Math.min(ms, yTop) / yTop) * ph;

  const o: string[] = [];
  o.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${W / 2}" y="28" text-anchor="middle" font-size="16">${esc(title)}</text>`);
  // grid + axes
  o.push(`<g class="grid" stroke="#dddddd" stroke-width="1">`);
  for (let d = 0; d <= decades; d++) {
    const x = fmt(L + (d / decades) * pw);
    o.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}"/>`);
  }
  const yTicks = 5;
  for (let k = 0; k <= yTicks; k++) {
    const y = fmt(T + ph - (k / yTicks) * ph);
    o.push(`<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}"/>`);
  }
  o.push(`</g>`);
  o.push(`<g class="axes" stroke="#333333" stroke-width="1" fill="none">`);
  o.push(`<line x1="${L}" y1="${T + ph}" x2="${L + pw}" y2="${T + ph}"/>`);
  o.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${T + ph}"/>`);
  o.push(`</g>`);
  o.push(`<g class="x-labels" text-anchor="middle" fill="#333333">`);
  for (let d = 0; d <= decades; d++) {
    o.push(`<text x="${fmt(L + (d / decades) * pw)}" y="${T + ph + 18}">${pctLabel(d)}</text>`);
  }
  o.push(`<text x="${L + pw / 2}" y="${H - 20}">percentile</text>`);
  o.push(`</g>`);
  o.push(`<g class="y-labels" text-anchor="end" fill="#333333">`);
  for (let k = 0; k <= yTicks; k++) {
    const v = (yTop * k) / yTicks;
    o.push(`<text x="${L - 8}" y="${fmt(T + ph - (k / yTicks) * ph + 4)}">${+v.toPrecision(4)}</text>`);
  }
  o.push(`<text x="20" y="${T + ph / 2}" text-anchor="middle" transform="rotate(-90 20 ${T + ph / 2})">latency (ms)</text>`);
  o.push(`</g>`);
  // series
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.map((p) => `${fmt(xOf(p.percentile))},${fmt(yOf(p.ms))}`).join(' ');
    o.push(`<polyline class="series" fill="none" stroke="${color}" stroke-width="2" points="${pts}"><title>${esc(s.label)}</title></polyline>`);
  });
  // legend
  o.push(`<g class="legend">`);
  series.forEach((s, i) => {
    const y = T + 16 + i * 18;
    const color = COLORS[i % COLORS.length];
    o.push(`<line x1="${L + 14}" y1="${y - 4}" x2="${L + 38}" y2="${y - 4}" stroke="${color}" stroke-width="3"/>`);
    o.push(`<text x="${L + 44}" y="${y}" fill="#333333">${esc(s.label)}</text>`);
  });
  o.push(`</g>`);
  o.push(`</svg>`);
  return o.join('\n') + '\n';
}

export function seriesOf(r: BenchResult, label?: string): PlotSeries {
  const rate = r.targetRps !== null ? ` @ ${r.targetRps} rps` : ' (max)';
  return { label: label ?? `${r.label}${rate}`, points: r.spectrum };
}

/** `wasmesh bench plot a.json b.json -o cmp.svg`: overlay saved runs. */
export function plotFiles(files: string[], out: string, title?: string): void {
  const runs = files.map((f) => {
    const r = JSON.parse(fs.readFileSync(f, 'utf8')) as BenchResult;
    if (r.tool !== 'wasmesh bench' || !Array.isArray(r.spectrum)) throw new Error(`${f}: not a wasmesh bench --json file`);
    return { r, s: seriesOf(r), base: path.basename(f).replace(/\.json$/, '') };
  });
  // Each run's legend is its --label; the file name tells apart runs that share one.
  const series = runs.map(({ s, base }) =>
    runs.filter((o) => o.s.label === s.label).length > 1 ? { ...s, label: `${base}: ${s.label}` } : s,
  );
  fs.writeFileSync(out, renderPlot(series, title));
}
