// Prometheus text exposition of the shared filter metrics, for the admin
// /stats/prometheus page. Same shape as runtime/stats/prometheus.ts (# HELP
// and # TYPE per family, histogram _bucket{le}, _sum, _count), but values
// are exact BigInts rendered as integers.

import { MetricType, type MetricSnapshot } from './metrics';

/** A valid Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, other characters become '_'. */
export function prometheusName(s: string): string {
  const name = s.replace(/[^a-zA-Z0-9_:]/g, '_');
  return name === '' || /^[0-9]/.test(name) ? `_${name}` : name;
}

/** HELP text escaping per the exposition format: backslash and newline. */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * Render `metrics`, each named prometheusName(prefix + name). Two metrics
 * whose names sanitise to the same family are kept apart: the later one
 * gets `_<id>` appended, rather than emitting a duplicate series.
 */
export function renderMetricsPrometheus(metrics: readonly MetricSnapshot[], prefix = ''): string {
  let out = '';
  const taken = new Set<string>();
  for (const m of metrics) {
    let name = prometheusName(prefix + m.name);
    if (taken.has(name)) name = `${name}_${m.id}`;
    taken.add(name);
    const kind = m.type === MetricType.COUNTER ? 'counter' : m.type === MetricType.GAUGE ? 'gauge' : 'histogram';
    out += `# HELP ${name} proxy-wasm ${kind} ${escapeHelp(m.name)}\n# TYPE ${name} ${kind}\n`;
    if (m.type === MetricType.HISTOGRAM) {
      for (const b of m.buckets) out += `${name}_bucket{le="${b.le === Infinity ? '+Inf' : String(b.le)}"} ${b.count}\n`;
      out += `${name}_sum ${m.sum}\n${name}_count ${m.count}\n`;
    } else {
      out += `${name} ${m.value}\n`;
    }
  }
  return out;
}
