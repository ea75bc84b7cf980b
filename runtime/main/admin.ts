// The admin server (Envoy's endpoint names). Plain node:http on the main
// thread: it is off the hot path, and keeping it out of the workers means a
// scrape never competes with traffic for a worker's event loop.
import * as http from 'node:http';
import type { Address } from '../config/types';
import { renderPrometheus, type ExtraSample } from '../stats/prometheus';
import { sumSlot } from '../stats/layout';
import { uwsBinary } from '../core/uws';
import { VERSION } from '../core/paths';
import type { ProxyMain } from './proxy-main';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;


export class AdminServer {
  private readonly server: http.Server;
  port = 0;
  private readonly routes: Record<string, { method: 'GET' | 'POST'; help: string; fn: Handler }>;

  constructor(private readonly proxy: ProxyMain) {
    this.routes = {
      '/ready': { method: 'GET', help: '200 once config is loaded and every worker listens; 503 while starting or draining', fn: (_q, r) => this.ready(r) },
      '/stats/prometheus': { method: 'GET', help: 'all stats in Prometheus text format', fn: (_q, r) => send(r, 200, this.prometheus(), 'text/plain; version=0.0.4') },
      '/stats': { method: 'GET', help: 'all stats as name value lines', fn: (_q, r) => send(r, 200, this.prometheus().split('\n').filter((l) => l && !l.startsWith('#')).join('\n') + '\n') },
      '/clusters': { method: 'GET', help: 'endpoints with health, ejection and active requests (JSON)', fn: (_q, r) => json(r, 200, this.clusters()) },
      '/config_dump': { method: 'GET', help: 'the config in force (JSON)', fn: (_q, r) => json(r, 200, this.configDump()) },
      '/server_info': { method: 'GET', help: 'version, state, uptime, workers', fn: (_q, r) => json(r, 200, this.serverInfo()) },
      '/reload': { method: 'POST', help: 're-read the config file; a bad file is rejected and the old config stays', fn: (_q, r) => this.reload(r) },
      '/drain': { method: 'POST', help: 'stop accepting connections and let in-flight requests finish', fn: (_q, r) => this.drain(r) },
      '/quitquitquit': { method: 'POST', help: 'drain, then exit 0', fn: (_q, r) => this.quit(r) },
      '/help': { method: 'GET', help: 'this list', fn: (_q, r) => send(r, 200, this.help()) },
    };
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = this.routes[path === '/' ? '/help' : path];
      if (route === undefined) return send(res, 404, `unknown admin path ${path}; see /help\n`);
      if (req.method !== route.method) return send(res, 405, `${path} needs ${route.method}\n`, 'text/plain', { allow: route.method });
      Promise.resolve(route.fn(req, res)).catch((e: Error) => send(res, 500, `${e.message}\n`));
    });
    this.server.keepAliveTimeout = 5_000;
  }

  listen(a: Address): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(a.port, a.host, () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private ready(res: http.ServerResponse): void {
    const s = this.proxy.state;
    send(res, s === 'live' ? 200 : 503, s === 'live' ? 'LIVE\n' : `${s.toUpperCase()}\n`);
  }

  private prometheus(): string {
    const p = this.proxy;
    const extra: ExtraSample[] = [
      { name: 'wasmesh_server_uptime_seconds', labels: '', kind: 'gauge', help: 'Seconds since the proxy started', value: Math.round((Date.now() - p.startedAt) / 1000) },
      { name: 'wasmesh_server_workers', labels: '', kind: 'gauge', help: 'Worker threads', value: p.workerCount },
      { name: 'wasmesh_server_live', labels: '', kind: 'gauge', help: '1 when serving, 0 while starting or draining', value: p.state === 'live' ? 1 : 0 },
      { name: 'wasmesh_server_config_generation', labels: '', kind: 'gauge', help: 'Config generation in force', value: p.generation },
      { name: 'wasmesh_server_config_reload_total', labels: 'result="ok"', kind: 'counter', help: 'Config reloads by result', value: p.reloadsOk },
      { name: 'wasmesh_server_config_reload_total', labels: 'result="rejected"', kind: 'counter', help: 'Config reloads by result', value: p.reloadsFailed },
      { name: 'wasmesh_server_worker_restarts_total', labels: '', kind: 'counter', help: 'Worker threads replaced after an unexpected exit', value: p.pool.restarts },
      { name: 'wasmesh_server_worker_faults_total', labels: '', kind: 'counter', help: 'Exceptions caught by a worker outside any request', value: p.pool.faults },
      { name: 'wasmesh_server_supervisor_restarts_total', labels: '', kind: 'counter', help: 'Times the supervisor restarted the proxy process', value: p.supervisorRestarts },
      ...controlSamples(p),
      { name: 'wasmesh_server_memory_rss_bytes', labels: '', kind: 'gauge', help: 'Resident set size of the proxy process', value: process.memoryUsage.rss() },
    ];
    for (const c of p.config?.clusters ?? []) {
      const t = p.health.table(c.name);
      if (t === undefined) continue;
      const s = t.snapshot();
      const lb = `cluster="${c.name}"`;
      extra.push({ name: 'wasmesh_cluster_membership_total', labels: lb, kind: 'gauge', help: 'Endpoints in the cluster', value: s.endpoints.length });
      extra.push({ name: 'wasmesh_cluster_membership_healthy', labels: lb, kind: 'gauge', help: 'Endpoints passing active health checks', value: s.endpoints.length - s.unhealthy });
      extra.push({ name: 'wasmesh_cluster_outlier_ejected', labels: lb, kind: 'gauge', help: 'Endpoints currently ejected by outlier detection', value: s.ejected });
      extra.push({ name: 'wasmesh_cluster_outlier_ejections_total', labels: lb, kind: 'counter', help: 'Outlier ejections since start', value: s.endpoints.reduce((a, e) => a + e.ejectionsTotal, 0) });
    }
    return renderPrometheus(p.layout, p.statsSab, p.workerCount, extra) + p.wasmShared.metrics.renderPrometheus('wasmesh_filter_');
  }

  private clusters(): unknown {
    const p = this.proxy;
    return (p.config?.clusters ?? []).map((c) => {
      const s = p.health.table(c.name)?.snapshot();
      return {
        name: c.name,
        lb: c.lb,
        endpoints: c.endpoints.map((a, i) => {
          const e = s?.endpoints[i];
          return {
            address: `${a.host}:${a.port}`,
            healthy: e?.healthy ?? true,
            ejected: e?.ejected ?? false,
            ejectedUntil: e && e.ejectedUntilMs > 0 ? new Date(e.ejectedUntilMs).toISOString() : null,
            ejections: e?.ejectionsTotal ?? 0,
            consecutive5xx: e?.consecutive5xx ?? 0,
            activeRequests: e?.activeRequests ?? 0,
            totalRequests: e?.totalRequests ?? 0,
          };
        }),
      };
    });
  }

  private configDump(): unknown {
    const p = this.proxy;
    const filters = p.filters.map((f) => ({ ...f.info, quarantinedWorkers: sumSlot(p.statsSab, p.workerCount, f.slots.quarantined) }));
    return { generation: p.generation, configPath: p.opts.configPath ?? null, control: this.controlInfo(), lastReloadError: p.lastReloadError, filters, config: p.config };
  }

  private controlInfo(): unknown {
    const c = this.proxy.control;
    if (c === null) return null;
    return { url: c.opts.url, nodeId: c.opts.hello.nodeId, connected: c.connected, version: c.current?.version ?? null, acks: c.acks, nacks: c.nacks, reconnects: c.reconnects, lastApplyMs: Math.round(c.lastApplyMs * 10) / 10, lastError: c.lastError, bundlesFetched: c.bundles.fetched };
  }

  private serverInfo(): unknown {
    const p = this.proxy;
    return {
      version: VERSION,
      state: p.state,
      uptimeSeconds: Math.round((Date.now() - p.startedAt) / 1000),
      workers: p.workerCount,
      generation: p.generation,
      control: this.controlInfo(),
      node: process.version,
      uwsBinary,
      pid: process.pid,
    };
  }

  private async reload(res: http.ServerResponse): Promise<void> {
    const r = await this.proxy.reload();
    json(res, r.ok ? 200 : 400, r);
  }

  private async drain(res: http.ServerResponse): Promise<void> {
    send(res, 200, 'draining\n');
    await this.proxy.drain();
  }

  private quit(res: http.ServerResponse): void {
    send(res, 200, 'OK\n');
    res.on('finish', () => void this.proxy.shutdown());
  }

  private help(): string {
    return Object.entries(this.routes)
      .map(([p, r]) => `${r.method.padEnd(4)} ${p.padEnd(18)} ${r.help}`)
      .join('\n') + '\n';
  }
}

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain', extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, v: unknown): void {
  send(res, status, JSON.stringify(v, null, 2) + '\n', 'application/json');
}

/** The control-plane stream's counters; none without a control plane. */
function controlSamples(p: ProxyMain): ExtraSample[] {
  const c = p.control;
  if (c === null) return [];
  return [
    { name: 'wasmesh_control_connected', labels: '', kind: 'gauge', help: '1 while the stream to the control plane is open', value: c.connected ? 1 : 0 },
    { name: 'wasmesh_control_version', labels: '', kind: 'gauge', help: 'Control-plane version in force (0: none yet)', value: c.current?.version ?? 0 },
    { name: 'wasmesh_control_updates_total', labels: 'result="ack"', kind: 'counter', help: 'Versions received from the control plane, by result', value: c.acks },
    { name: 'wasmesh_control_updates_total', labels: 'result="nack"', kind: 'counter', help: 'Versions received from the control plane, by result', value: c.nacks },
    { name: 'wasmesh_control_reconnects_total', labels: '', kind: 'counter', help: 'Times the stream to the control plane was reopened', value: c.reconnects },
  ];
}
