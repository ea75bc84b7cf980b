// What one scenario measured.

export interface ScenarioResult {
  name: string;
  kind: 'real' | 'simulated';
  proxies: number;
  services: number;
  repeats: number;
  /** From the first proxy started/connected to all of them SYNCED, ms. */
  setupMs: number;
  /** Per repeat: from just before POST /api/v1/apply to the last proxy's ACK of that version, ms. */
  propagation: number[];
  /** Propagation of the unmeasured warm-up changes, ms. */
  warmup: number[];
  /** Per repeat: the POST's round trip (check, store, push scheduled), ms. */
  applyRtt: number[];
  /** Simulated: per repeat, POST start to the first proxy's ACK, ms. */
  firstAck: number[];
  /** Simulated: every proxy of every repeat, POST start to its ACK, ms. */
  perProxy: number[];
  /** Control plane VmRSS, KiB: before any proxy, idle with all connected, max sampled (50 ms) during the repeats, VmHWM at the end. */
  rss: { empty: number | null; idle: number | null; peakDuringApplies: number | null; hwm: number | null };
  /** Control plane CPU (user + system) per repeat, ms; from /proc, 10 ms ticks. */
  cpuMsPerApply: number | null;
  /** Simulator process CPU per repeat, ms (simulated only). */
  simCpuMsPerApply: number | null;
  /** Bytes one proxy received per change (simulated only). */
  bytesPerProxyPerApply: number | null;
  /** Real: each proxy's own apply time of each measured change (its log: receipt to every worker serving it), ms. */
  proxyApplyMs: number[];
  /** Lines for the report: cross-checks, anomalies. */
  notes: string[];
  /** Set when the scenario failed; the numbers are then partial. */
  error: string | null;
}

export function emptyResult(name: string, kind: ScenarioResult['kind'], proxies: number, services: number, repeats: number): ScenarioResult {
  return {
    name, kind, proxies, services, repeats,
    setupMs: NaN,
    propagation: [], warmup: [], applyRtt: [], firstAck: [], perProxy: [], proxyApplyMs: [],
    rss: { empty: null, idle: null, peakDuringApplies: null, hwm: null },
    cpuMsPerApply: null, simCpuMsPerApply: null, bytesPerProxyPerApply: null,
    notes: [], error: null,
  };
}
