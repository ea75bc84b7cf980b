// buildProxyConfig: the mesh, seen from one proxy (a gateway, or a sidecar's
// outbound listener), as a proxy config. The config is produced as the YAML
// document an operator would write (docs/config.md) and then run through the
// proxy's own validator (parseProxyConfig), so what comes out is exactly what
// a proxy accepts.
//
// Filter chain of the listener, in order:
//   ratelimit-NAME*  one per native RateLimit resource that applies
//   authz            AuthorizationPolicy (gateways only; see README)
//   router           virtual hosts from VirtualServices; picks the cluster
//                    and sets the `route_name` property
//   fault-N*         one per HTTPRoute with `fault`, restricted to that route
//                    by name (`routes`, matched against route_name)
//   retry            one filter, per-route policies selected by route_name
//                    (`policies`); Istio's default for the other routes

import { stringify } from 'yaml';
import { ConfigError } from '../../runtime/core/errors';
import { formatAddress } from '../../runtime/config/address';
import { formatDuration } from '../../runtime/config/duration';
import { parseProxyConfig } from '../../runtime/config/load';
import type { ProxyConfig } from '../../runtime/config/types';
import { resolveHost } from './parse';
import type {
  AuthorizationPolicyResource, DestinationRuleResource, FaultPolicy, GatewayResource, HeaderOps, HttpMatch, HttpRoute, Mesh,
  RateLimitResource, RetryPolicy, ServiceResource, StringMatch, TrafficPolicy, VirtualServiceResource,
} from './types';

export type Target =
  | {
      kind: 'gateway';
      /** metadata.name of the Gateway resource. */
      name: string;
      namespace?: string;
      /** Listen address; default 0.0.0.0:<first server port>. */
      listen?: string;
      admin?: string;
      /** The gateway proxy's labels (AuthorizationPolicy selectors); default the Gateway's selector. */
      labels?: Record<string, string>;
    }
  | {
      kind: 'sidecar';
      /** Outbound listener address; default 127.0.0.1:15001 (Istio's outbound port). */
      listen?: string;
      admin?: string;
      namespace?: string;
    };

interface Ctx {
  services: ServiceResource[];
  rules: DestinationRuleResource[];
  problems: string[];
  /** Raw cluster documents by name, in first-use order. */
  clusters: Map<string, Record<string, unknown>>;
}

/** Istio's mesh default retry policy: attempts 2, retryOn connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes (503). */
const DEFAULT_RETRY: RetryPolicy = { attempts: 2, perTryTimeoutMs: null, retryOn: null };

export function buildProxyConfig(mesh: Mesh, target: Target): ProxyConfig {
  const doc = buildProxyDocument(mesh, target);
  try {
    return parseProxyConfig(JSON.stringify(doc), `generated config for ${targetName(target)}`);
  } catch (e) {
    // A translation bug, not a user mistake: say so.
    if (e instanceof ConfigError) throw new ConfigError(['the generated proxy config was refused by the proxy (a wasmesh bug):', ...e.problems]);
    throw e;
  }
}

/** The generated config as YAML text, for `wasmesh proxy -c`. */
export function renderProxyConfig(mesh: Mesh, target: Target): string {
  buildProxyConfig(mesh, target); // validate
  return stringify(buildProxyDocument(mesh, target));
}

function targetName(t: Target): string {
  return t.kind === 'gateway' ? `gateway ${t.name}` : 'sidecar';
}

/** The proxy config document (docs/config.md format), before validation. @throws ConfigError */
export function buildProxyDocument(mesh: Mesh, target: Target): Record<string, unknown> {
  const of = <K extends string>(kind: K) => mesh.resources.filter((r) => r.kind === kind);
  const ctx: Ctx = {
    services: of('Service') as ServiceResource[],
    rules: of('DestinationRule') as DestinationRuleResource[],
    problems: [],
    clusters: new Map(),
  };
  const namespace = target.namespace ?? 'default';
  const vss = of('VirtualService') as VirtualServiceResource[];

  let listen: string;
  let listenerName: string;
  let bound: VirtualServiceResource[];
  let gateway: GatewayResource | undefined;
  let domainsFor: (vs: VirtualServiceResource) => string[];
  if (target.kind === 'gateway') {
    gateway = (of('Gateway') as GatewayResource[]).find((g) => g.metadata.name === target.name && g.metadata.namespace === namespace);
    if (gateway === undefined) throw new ConfigError([`${targetName(target)}: no Gateway ${JSON.stringify(target.name)} in namespace ${namespace}`]);
    const gw = gateway;
    listen = target.listen ?? `0.0.0.0:${gw.servers[0]?.port.number ?? 80}`;
    listenerName = `gateway-${gw.metadata.name}`;
    const serverHosts = gw.servers.flatMap((s) => s.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h)));
    bound = vss.filter((vs) => vs.gateways.some((g) => g === gw.metadata.name || g === `${gw.metadata.namespace}/${gw.metadata.name}`));
    domainsFor = (vs) => {
      const hosts = vs.hosts.filter((h) => serverHosts.some((s) => hostMatches(s, h)));
      if (hosts.length === 0) {
        ctx.problems.push(`VirtualService ${vs.metadata.name}: none of its hosts (${vs.hosts.join(', ')}) is served by Gateway ${gw.metadata.name} (hosts: ${serverHosts.join(', ')})`);
      }
      return hosts;
    };
  } else {
    listen = target.listen ?? '127.0.0.1:15001';
    listenerName = 'outbound';
    bound = vss.filter((vs) => vs.gateways.length === 0 || vs.gateways.includes('mesh'));
    domainsFor = (vs) => vs.hosts.flatMap((h) => {
      const svc = resolveHost(ctx.services, h, vs.metadata.namespace);
      return svc === undefined ? [h] : serviceDomains(svc);
    });
  }

  // Router: virtual hosts.
  const virtualHosts: Record<string, unknown>[] = [];
  const domainOwner = new Map<string, string>();
  const faults: { route: string; fault: FaultPolicy }[] = [];
  const retries: { route: string; policy: RetryPolicy }[] = [];
  /** Route name -> who uses it: the fault and retry filters select by name, so a shared name would leak a policy. */
  const routeOwners = new Map<string, string[]>();
  const own = (name: string, owner: string) => routeOwners.set(name, [...(routeOwners.get(name) ?? []), owner]);
  for (const vs of bound) {
    const domains = domainsFor(vs).filter((d) => {
      const owner = domainOwner.get(d.toLowerCase());
      if (owner !== undefined) {
        ctx.problems.push(`VirtualService ${vs.metadata.name}: host ${JSON.stringify(d)} is already routed by VirtualService ${owner} (wasmesh does not merge VirtualServices)`);
        return false;
      }
      domainOwner.set(d.toLowerCase(), vs.metadata.name);
      return true;
    });
    if (domains.length === 0) continue;
    const routes: Record<string, unknown>[] = [];
    vs.http.forEach((r, i) => {
      const name = `${vs.metadata.namespace === 'default' ? '' : vs.metadata.namespace + '/'}${vs.metadata.name}/${r.name ?? i}`;
      const built = buildRoutes(ctx, vs, r, name);
      routes.push(...built);
      own(name, `VirtualService ${vs.metadata.namespace}/${vs.metadata.name} http[${i}]`);
      if (r.fault !== null) {
        if (r.redirect !== null) ctx.problems.push(`VirtualService ${vs.metadata.name}: http[${i}]: "fault" with "redirect" is not supported (the redirect is answered before faults apply)`);
        else faults.push({ route: name, fault: r.fault });
      }
      if (r.redirect === null) retries.push({ route: name, policy: r.retries ?? DEFAULT_RETRY });
    });
    virtualHosts.push({ name: `${vs.metadata.name}.${vs.metadata.namespace}`, domains, routes });
  }
  if (target.kind === 'sidecar') {
    // Every service is reachable by name; services without a VirtualService go to all their endpoints.
    for (const svc of ctx.services) {
      const domains = serviceDomains(svc).filter((d) => !domainOwner.has(d));
      if (domains.length === 0) continue;
      for (const d of domains) domainOwner.set(d, `(service ${svc.metadata.name})`);
      const cluster = clusterFor(ctx, svc, null, false);
      own(`${svc.metadata.name}/default`, `the default route of service ${svc.metadata.namespace}/${svc.metadata.name}`);
      const route: Record<string, unknown> =
        cluster === undefined
          ? { name: `${svc.metadata.name}/default`, match: { prefix: '/' }, directResponse: { status: 503, body: `no endpoints for service ${svc.metadata.name}` } }
          : { name: `${svc.metadata.name}/default`, match: { prefix: '/' }, route: { cluster } };
      virtualHosts.push({ name: `${svc.metadata.name}.${svc.metadata.namespace}`, domains, routes: [route] });
      if (cluster !== undefined) retries.push({ route: `${svc.metadata.name}/default`, policy: DEFAULT_RETRY });
    }
  }
  if (virtualHosts.length === 0) ctx.problems.push(`${targetName(target)}: no VirtualService is bound to it, so it has no routes`);

  // The fault and retry filters tell routes apart by the router's route_name: a name shared by
  // two routes would apply one route's fault or retry policy to the other.
  const retryKey = (p: RetryPolicy) => JSON.stringify(retryConfig(p));
  for (const [name, owners] of routeOwners) {
    if (owners.length < 2) continue;
    const why = [
      ...(faults.some((f) => f.route === name) ? ['a fault'] : []),
      ...(new Set(retries.filter((r) => r.route === name).map((r) => retryKey(r.policy))).size > 1 ? ['the retry policy'] : []),
    ];
    if (why.length === 0) continue;
    ctx.problems.push(
      `route name ${JSON.stringify(name)} is used by ${owners.join(' and ')}; the fault and retry filters select routes by name, ` +
        `so ${why.join(' and ')} of one would apply to the other (give the http route a unique "name")`,
    );
  }

  // Filter chain.
  const filters: Record<string, unknown>[] = [];
  const scope = target.kind === 'gateway' ? target.name : 'mesh';
  for (const rl of of('RateLimit') as RateLimitResource[]) {
    if (rl.gateways.length > 0 && !rl.gateways.includes(scope)) continue;
    filters.push({
      name: `ratelimit-${rl.metadata.name}`,
      module: 'builtin:ratelimit',
      config: {
        descriptors: rl.descriptors.map((d) => ({ key: d.key, requestsPerUnit: d.requestsPerUnit, unit: d.unit, ...(d.burst === null ? {} : { burst: d.burst }) })),
        failOpen: rl.failOpen,
      },
    });
  }
  if (target.kind === 'gateway') {
    const labels = target.labels ?? gateway!.selector;
    const policies = (of('AuthorizationPolicy') as AuthorizationPolicyResource[]).filter(
      (p) => p.metadata.namespace === namespace && (p.selector === null || Object.entries(p.selector).every(([k, v]) => labels[k] === v)),
    );
    if (policies.length > 0) {
      filters.push({
        name: 'authz',
        module: 'builtin:authz',
        config: { policies: policies.map((p) => ({ name: `${p.metadata.namespace}/${p.metadata.name}`, action: p.action, rules: p.rules })) },
      });
    }
  }
  filters.push({ name: 'router', module: 'builtin:router', config: { virtualHosts } });
  faults.forEach((f, i) => {
    filters.push({ name: `fault-${i}`, module: 'builtin:fault', config: faultConfig(f.fault, f.route) });
  });
  const retry = retryFilter(retries);
  if (retry !== null) filters.push(retry);

  if (ctx.problems.length > 0) throw new ConfigError(ctx.problems, targetName(target));
  return {
    admin: { address: target.admin ?? '127.0.0.1:15000' },
    listeners: [{ name: listenerName, address: listen, filters }],
    clusters: [...ctx.clusters.values()],
  };
}

/** Names a sidecar answers for a service: `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`. */
function serviceDomains(svc: ServiceResource): string[] {
  const { name, namespace } = svc.metadata;
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

/** Whether a Gateway server host (`*`, `*.example.com`, `example.com`) admits a VirtualService host. */
function hostMatches(server: string, host: string): boolean {
  if (server === '*' || server === host) return true;
  if (server.startsWith('*.')) return host.endsWith(server.slice(1)) || (host.startsWith('*.') && host.endsWith(server.slice(1)));
  return false;
}

function clusterName(svc: ServiceResource, subset: string | null): string {
  const base = svc.metadata.namespace === 'default' ? svc.metadata.name : `${svc.metadata.name}.${svc.metadata.namespace}`;
  return subset === null ? base : `${base}|${subset}`;
}

/**
 * The cluster for a service (and subset), added to ctx.clusters on first use.
 * Undefined when it has no endpoints; `required` then records a problem.
 */
function clusterFor(ctx: Ctx, svc: ServiceResource, subset: string | null, required: boolean, where = ''): string | undefined {
  const name = clusterName(svc, subset);
  if (ctx.clusters.has(name)) return name;
  const rule = ctx.rules.find((r) => resolveHost(ctx.services, r.host, r.metadata.namespace) === svc);
  const sub = subset === null ? undefined : rule?.subsets.find((s) => s.name === subset);
  const labels = sub?.labels ?? {};
  const endpoints = svc.endpoints.filter((e) => Object.entries(labels).every(([k, v]) => e.labels[k] === v)).map((e) => formatAddress(e.address));
  if (endpoints.length === 0) {
    if (required) {
      const sel = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
      ctx.problems.push(`${where}service ${svc.metadata.name}${subset === null ? '' : ` subset ${subset} (${sel || 'no labels'})`}: no endpoints`);
    }
    return undefined;
  }
  const policy = mergePolicy(rule?.trafficPolicy ?? null, sub?.trafficPolicy ?? null);
  ctx.clusters.set(name, { name, endpoints, ...clusterPolicy(policy) });
  return name;
}

/** A subset's trafficPolicy overrides the rule's, field by field (loadBalancer, connectionPool, outlierDetection), as in Istio. */
function mergePolicy(top: TrafficPolicy | null, sub: TrafficPolicy | null): TrafficPolicy | null {
  if (top === null) return sub;
  if (sub === null) return top;
  return {
    loadBalancer: sub.loadBalancer ?? top.loadBalancer,
    connectionPool: sub.connectionPool ?? top.connectionPool,
    outlierDetection: sub.outlierDetection ?? top.outlierDetection,
  };
}

function clusterPolicy(p: TrafficPolicy | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p === null) return out;
  const lb = p.loadBalancer;
  if (lb !== null) {
    if ('simple' in lb) out.lb = lb.simple === 'RANDOM' ? 'random' : lb.simple === 'ROUND_ROBIN' ? 'round_robin' : 'least_request';
    else {
      out.lb = 'ring_hash';
      const h = lb.consistentHash;
      out.hashOn = h.kind === 'source_ip' ? 'source_ip' : `${h.kind}:${h.name}`;
    }
  }
  const cp = p.connectionPool;
  if (cp !== null) {
    if (cp.maxConnections !== null) out.maxConnections = cp.maxConnections;
    if (cp.connectTimeoutMs !== null) out.connectTimeout = formatDuration(cp.connectTimeoutMs);
    if (cp.http1MaxPendingRequests !== null) out.maxPendingRequests = cp.http1MaxPendingRequests;
    if (cp.idleTimeoutMs !== null) out.idleTimeout = formatDuration(cp.idleTimeoutMs);
  }
  const od = p.outlierDetection;
  if (od !== null && od.consecutive5xxErrors > 0) {
    out.outlierDetection = {
      consecutive5xx: od.consecutive5xxErrors,
      interval: formatDuration(od.intervalMs),
      baseEjectionTime: formatDuration(od.baseEjectionTimeMs),
      maxEjectionPercent: od.maxEjectionPercent,
    };
  }
  return out;
}

/** One router route per Istio match (OR across matches; AND within one). */
function buildRoutes(ctx: Ctx, vs: VirtualServiceResource, r: HttpRoute, name: string): Record<string, unknown>[] {
  const common: Record<string, unknown> = { name };
  const where = `VirtualService ${vs.metadata.name}: route ${name}: `;
  if (r.redirect !== null) {
    const rd = r.redirect;
    common.redirect = {
      ...(rd.uri === null ? {} : { path: rd.uri }),
      ...(rd.authority === null ? {} : { host: rd.authority }),
      ...(rd.port === null ? {} : { port: rd.port }),
      ...(rd.scheme === null ? {} : { scheme: rd.scheme }),
      responseCode: rd.redirectCode,
    };
  } else {
    const action: Record<string, unknown> = {};
    const picks = r.route.map((d) => {
      const svc = resolveHost(ctx.services, d.host, vs.metadata.namespace);
      return { cluster: svc === undefined ? undefined : clusterFor(ctx, svc, d.subset, true, where), weight: d.weight ?? 100 };
    });
    if (picks.length === 1) action.cluster = picks[0]!.cluster ?? '';
    else action.weightedClusters = picks.map((p) => ({ cluster: p.cluster ?? '', weight: p.weight }));
    if (r.timeoutMs !== null) action.timeoutMs = r.timeoutMs;
    const perTry = r.retries?.perTryTimeoutMs ?? null;
    if (perTry !== null && (r.retries?.attempts ?? 0) > 0) action.perTryTimeoutMs = perTry;
    if (r.rewrite?.uri != null) action.prefixRewrite = r.rewrite.uri;
    if (r.rewrite?.authority != null) action.hostRewrite = r.rewrite.authority;
    common.route = action;
  }
  const req = headerEdits(r.headers.request);
  if (r.redirect === null) {
    if (req.add.length > 0) common.requestHeadersToAdd = req.add;
    if (req.remove.length > 0) common.requestHeadersToRemove = req.remove;
  }
  const res = headerEdits(r.headers.response);
  if (res.add.length > 0) common.responseHeadersToAdd = res.add;
  if (res.remove.length > 0) common.responseHeadersToRemove = res.remove;
  const matches = r.match.length === 0 ? [null] : r.match;
  return matches.map((m) => ({ ...common, match: routeMatch(m) }));
}

function headerEdits(ops: HeaderOps | null): { add: { name: string; value: string; append: boolean }[]; remove: string[] } {
  if (ops === null) return { add: [], remove: [] };
  return {
    add: [
      ...Object.entries(ops.set).map(([name, value]) => ({ name, value, append: false })),
      ...Object.entries(ops.add).map(([name, value]) => ({ name, value, append: true })),
    ],
    remove: ops.remove,
  };
}

function valueMatcher(name: string, m: StringMatch): Record<string, unknown> {
  return { name, [m.kind]: m.value };
}

function routeMatch(m: HttpMatch | null): Record<string, unknown> {
  if (m === null) return { prefix: '/' };
  const out: Record<string, unknown> = {};
  if (m.uri === null) out.prefix = '/';
  else if (m.uri.kind === 'exact') out.path = m.uri.value;
  else out[m.uri.kind] = m.uri.value;
  if (m.ignoreUriCase) out.caseSensitive = false;
  if (m.method !== null) out.methods = [m.method];
  const headers = m.headers.map((h) => valueMatcher(h.name, h.match));
  if (m.authority !== null) headers.push(valueMatcher(':authority', m.authority));
  if (headers.length > 0) out.headers = headers;
  if (m.queryParams.length > 0) out.queryParams = m.queryParams.map((q) => valueMatcher(q.name, q.match));
  return out;
}

function faultConfig(f: FaultPolicy, route: string): Record<string, unknown> {
  return {
    ...(f.delay === null ? {} : { delay: { fixedDelayMs: f.delay.fixedDelayMs, percentage: f.delay.percentage } }),
    ...(f.abort === null ? {} : { abort: { httpStatus: f.abort.httpStatus, percentage: f.abort.percentage } }),
    routes: [route],
  };
}

/**
 * The retry filter's fields for a policy; status codes in retryOn become
 * retriableStatusCodes. `perTryTimeoutMs` is given too (the router also sets
 * it per route): the filter needs it to tell a per-try timeout (retried)
 * from the request's global one (final).
 */
function retryConfig(p: RetryPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = { attempts: p.attempts };
  if (p.attempts > 0 && p.perTryTimeoutMs !== null && p.perTryTimeoutMs > 0) out.perTryTimeoutMs = p.perTryTimeoutMs;
  if (p.retryOn !== null) {
    const parts = p.retryOn.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const codes = parts.filter((s) => /^[0-9]{3}$/.test(s)).map(Number);
    const policies = parts.filter((s) => !/^[0-9]{3}$/.test(s));
    if (codes.length > 0) {
      if (!policies.includes('retriable-status-codes')) policies.push('retriable-status-codes');
      out.retriableStatusCodes = codes;
    } else if (policies.includes('retriable-status-codes')) out.retriableStatusCodes = [503];
    out.retryOn = policies.join(',');
  }
  return out;
}

/**
 * One retry filter for the listener. Its top-level fields are Istio's mesh
 * default (`attempts: 2`), for routes without `retries`; every other policy
 * is an entry of `policies` listing the routes (router route names) it
 * serves, routes with the same policy sharing one entry. No filter when no
 * route retries at all.
 */
function retryFilter(routes: { route: string; policy: RetryPolicy }[]): Record<string, unknown> | null {
  if (routes.every((r) => r.policy.attempts === 0)) return null;
  const defaultKey = JSON.stringify(retryConfig(DEFAULT_RETRY));
  const byConfig = new Map<string, string[]>();
  for (const r of routes) {
    const key = JSON.stringify(retryConfig(r.policy));
    if (key === defaultKey) continue;
    const names = byConfig.get(key) ?? [];
    if (!names.includes(r.route)) names.push(r.route);
    byConfig.set(key, names);
  }
  const config: Record<string, unknown> = JSON.parse(defaultKey) as Record<string, unknown>;
  if (byConfig.size > 0) config.policies = [...byConfig].map(([key, names]) => ({ routes: names, ...(JSON.parse(key) as Record<string, unknown>) }));
  return { name: 'retry', module: 'builtin:retry', config };
}
