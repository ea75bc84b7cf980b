// Active HTTP health checking for one cluster. Runs on the main thread only -
// one probe per endpoint for the whole proxy, not one per worker - and
// publishes verdicts through the cluster's shared EndpointStateTable, which
// every worker's load balancer reads.
//
// Choices, and how they differ from Envoy:
// - Success is any 2xx. Envoy accepts only 200 unless expected_statuses is
//   set; health endpoints commonly answer 204, and we have no
//   expected_statuses knob yet, so 2xx is the less surprising default.
// - Endpoints start healthy. Envoy starts them unhealthy until their first
//   check passes, which makes a fresh proxy (or every config reload) answer
//   503 until the checks come back. We start optimistic: a dead endpoint
//   costs at most unhealthyThreshold intervals of failed requests, which
//   retries and outlier detection absorb, while the pessimistic start turns
//   every deploy into an outage window.
// - Timeouts, connect errors and resets are failures, like non-2xx.
// - Plain node:http with a keepAlive:false agent and `connection: close`: a
//   fresh connection per check also proves the endpoint still accepts
//   connections, and nothing lingers between checks. The body is never read:
//   the verdict is taken from the status line and the socket is destroyed.
// - Timers are left ref'd on purpose: a checker someone forgot to stop keeps
//   the process alive and is noticed, instead of silently probing on. stop()
//   clears every timer and destroys every socket.
import * as http from 'node:http';
import type { ClusterConfig, HealthCheckConfig } from '../config/types';
import type { EndpointStateTable } from './endpoint-state';

export interface HealthCheckerOptions {
  /** Called after an endpoint's health flag flips (main thread), e.g. to log it. */
  onTransition?: (endpoint: number, healthy: boolean, detail: string) => void;
  /**
   * Envoy's successful_active_health_check_uneject_host (Envoy default true):
   * a passing check returns an outlier-ejected endpoint to service. Default
   * false here: a /healthz that passes says little about the requests that
   * got the endpoint ejected.
   */
  unejectOnSuccess?: boolean;
}

export interface ProbeStatus {
  endpoint: number;
  healthy: boolean;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  checks: number;
  /** "HTTP 200", "timeout", an error code, or "" before the first check. */
  lastResult: string;
}

const USER_AGENT = 'wasmesh-health-checker';

function noop(): void {}

/** State of one endpoint's probe; its requests' event handlers carry `seq` to ignore stale events. */
class Probe {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  seq = 0;
  timer: NodeJS.Timeout | null = null;
  deadline: NodeJS.Timeout | null = null;
  req: http.ClientRequest | null = null;
  successes = 0;
  failures = 0;
  checks = 0;
  lastResult = '';

  constructor(index: number, host: string, port: number) {
    this.index = index;
    this.host = host;
    this.port = port;
  }
}

export class HealthChecker {
  private readonly clusterName: string;
  private readonly cfg: HealthCheckConfig;
  private readonly table: EndpointStateTable;
  private readonly opts: HealthCheckerOptions;
  private readonly probes: Probe[];
  private agent: http.Agent | null = null;
  private running = false;

  constructor(cluster: ClusterConfig, table: EndpointStateTable, opts: HealthCheckerOptions = {}) {
    if (cluster.healthCheck === null) throw new TypeError(`cluster ${cluster.name} has no health check`);
    if (table.size !== cluster.endpoints.length) throw new RangeError(`state table has ${table.size} endpoints, cluster ${cluster.name} has ${cluster.endpoints.length}`);
    this.clusterName = cluster.name;
    this.cfg = cluster.healthCheck;
    this.table = table;
    this.opts = opts;
    this.probes = cluster.endpoints.map((a, i) => new Probe(i, a.host, a.port));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Start probing every endpoint now, then every intervalMs after each check completes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.agent = new http.Agent({ keepAlive: false });
    for (const p of this.probes) this.check(p);
  }

  /** Stop: clears all timers and destroys all sockets; nothing of the checker stays alive. Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const p of this.probes) {
      p.seq++; // invalidates the events of an in-flight check
      if (p.timer) clearTimeout(p.timer);
      if (p.deadline) clearTimeout(p.deadline);
      p.timer = null;
      p.deadline = null;
      const req = p.req;
      p.req = null;
      if (req) req.destroy();
    }
    this.agent?.destroy();
    this.agent = null;
  }

  status(): ProbeStatus[] {
    return this.probes.map((p) => ({
      endpoint: p.index,
      healthy: this.table.isHealthy(p.index),
      consecutiveSuccesses: p.successes,
      consecutiveFailures: p.failures,
      checks: p.checks,
      lastResult: p.lastResult,
    }));
  }

  private check(p: Probe): void {
    p.timer = null;
    if (!this.running || this.agent === null) return;
    const seq = ++p.seq;
    const req = http.request({
      host: p.host,
      port: p.port,
      method: 'GET',
      path: this.cfg.path,
      agent: this.agent,
      headers: { host: this.clusterName, 'user-agent': USER_AGENT, connection: 'close' },
    });
    p.req = req;
    // One deadline for the whole exchange (connect + response head).
    p.deadline = setTimeout(() => this.complete(p, seq, false, 'timeout'), this.cfg.timeoutMs);
    req.on('response', (res) => {
      res.on('error', noop); // destroying the request below may abort the body
      const s = res.statusCode ?? 0;
      this.complete(p, seq, s >= 200 && s <= 299, `HTTP ${s}`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => this.complete(p, seq, false, err.code ?? err.message));
    req.end();
  }

  private complete(p: Probe, seq: number, ok: boolean, result: string): void {
    if (seq !== p.seq || p.req === null) return; // stale: timed out, answered, or stopped already
    if (p.deadline) clearTimeout(p.deadline);
    p.deadline = null;
    const req = p.req;
    p.req = null;
    req.destroy(); // the error it may emit is stale by now and ignored
    p.checks++;
    p.lastResult = result;
    this.verdict(p, ok, result);
    if (this.running) p.timer = setTimeout(() => this.check(p), this.cfg.intervalMs);
  }

  private verdict(p: Probe, ok: boolean, result: string): void {
    const i = p.index;
    const healthy = this.table.isHealthy(i);
    if (ok) {
      p.failures = 0;
      p.successes++;
      if (!healthy && p.successes >= this.cfg.healthyThreshold && this.table.setHealthy(i, true)) this.opts.onTransition?.(i, true, result);
      if (this.opts.unejectOnSuccess && this.table.isEjected(i)) this.table.uneject(i);
    } else {
      p.successes = 0;
      p.failures++;
      if (healthy && p.failures >= this.cfg.unhealthyThreshold && this.table.setHealthy(i, false)) this.opts.onTransition?.(i, false, result);
    }
  }
}
