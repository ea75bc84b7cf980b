// The router of an outbound or gateway listener and the filters that follow
// it: one virtual host per VirtualService (and, on sidecars, one per
// Service), the fault filters (one per HTTPRoute with `fault`) and the retry
// filter, both selecting routes by the router's `route_name`.

import { clusterFor, type Ctx } from './clusters';
import { buildRoutes } from './routes';
import type { FaultPolicy, RetryPolicy, ServiceResource, VirtualServiceResource } from './types';

/** Istio's mesh default retry policy: attempts 2, retryOn connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes (503). */
const DEFAULT_RETRY: RetryPolicy = { attempts: 2, perTryTimeoutMs: null, retryOn: null };

export interface Routing {
  router: Record<string, unknown>;
  /** fault-N* then retry?, placed after the router. */
  after: Record<string, unknown>[];
}

/**
 * Routes for the VirtualServices bound to a listener; `domainsFor` gives the
 * domains of each (recording a problem when none is left). `serviceDefaults`
 * (sidecars) adds a route per Service not claimed by a VirtualService.
 */
export function buildRouting(
  ctx: Ctx,
  bound: readonly VirtualServiceResource[],
  domainsFor: (vs: VirtualServiceResource) => string[],
  serviceDefaults: boolean,
  who: string,
): Routing {
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
      routes.push(...buildRoutes(ctx, vs, r, name));
      own(name, `VirtualService ${vs.metadata.namespace}/${vs.metadata.name} http[${i}]`);
      if (r.fault !== null) {
        if (r.redirect !== null) ctx.problems.push(`VirtualService ${vs.metadata.name}: http[${i}]: "fault" with "redirect" is not supported (the redirect is answered before faults apply)`);
        else faults.push({ route: name, fault: r.fault });
      }
      if (r.redirect === null) retries.push({ route: name, policy: r.retries ?? DEFAULT_RETRY });
    });
    virtualHosts.push({ name: `${vs.metadata.name}.${vs.metadata.namespace}`, domains, routes });
  }
  if (serviceDefaults) {
    // Every service is reachable by name; services without a VirtualService go to all their endpoints.
    for (const svc of ctx.services) {
      const domains = serviceDomains(svc).filter((d) => !domainOwner.has(d));
      if (domains.length === 0) continue;
      for (const d of domains) domainOwner.set(d, `(service ${svc.metadata.name})`);
      const cluster = clusterFor(ctx, svc, null, false);
      const name = `${svc.metadata.name}/default`;
      own(name, `the default route of service ${svc.metadata.namespace}/${svc.metadata.name}`);
      const route: Record<string, unknown> =
        cluster === undefined
          ? { name, match: { prefix: '/' }, directResponse: { status: 503, body: `no endpoints for service ${svc.metadata.name}` } }
          : { name, match: { prefix: '/' }, route: { cluster } };
      virtualHosts.push({ name: `${svc.metadata.name}.${svc.metadata.namespace}`, domains, routes: [route] });
      if (cluster !== undefined) retries.push({ route: name, policy: DEFAULT_RETRY });
    }
  }
  if (virtualHosts.length === 0 && serviceDefaults) {
    // A sidecar in a mesh with no Service yet (or no more): it still runs, and says so.
    virtualHosts.push({ name: 'no-services', domains: ['*'], routes: [{ name: 'no-services', match: { prefix: '/' }, directResponse: { status: 404, body: 'the mesh has no services' } }] });
  }
  if (virtualHosts.length === 0) ctx.problems.push(`${who}: no VirtualService is bound to it, so it has no routes`);
  checkRouteNames(ctx, routeOwners, faults, retries);

  const after: Record<string, unknown>[] = faults.map((f, i) => ({ name: `fault-${i}`, module: 'builtin:fault', config: faultConfig(f.fault, f.route) }));
  const retry = retryFilter(retries);
  if (retry !== null) after.push(retry);
  return { router: { name: 'router', module: 'builtin:router', config: { virtualHosts } }, after };
}

/** Names a sidecar answers for a service: `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`. */
export function serviceDomains(svc: ServiceResource): string[] {
  const { name, namespace } = svc.metadata;
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

/**
 * The fault and retry filters tell routes apart by the router's route_name: a
 * name shared by two routes would apply one route's fault or retry policy to the other.
 */
function checkRouteNames(
  ctx: Ctx,
  routeOwners: Map<string, string[]>,
  faults: { route: string }[],
  retries: { route: string; policy: RetryPolicy }[],
): void {
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
