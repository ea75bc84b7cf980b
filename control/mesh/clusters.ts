// Clusters of a generated proxy config: one per service (and subset) a route
// uses, with the DestinationRule's traffic policy.

import { formatAddress } from '../../runtime/config/address';
import { formatDuration } from '../../runtime/config/duration';
import { resolveHost } from './parse';
import type { DestinationRuleResource, ServiceResource, TrafficPolicy } from './types';

/** The state of one translation. */
export interface Ctx {
  /** The mesh's Services, registered instances included in their endpoints. */
  services: ServiceResource[];
  rules: DestinationRuleResource[];
  problems: string[];
  /** Raw cluster documents by name, in first-use order. */
  clusters: Map<string, Record<string, unknown>>;
}

export function clusterName(svc: ServiceResource, subset: string | null): string {
  const base = svc.metadata.namespace === 'default' ? svc.metadata.name : `${svc.metadata.name}.${svc.metadata.namespace}`;
  return subset === null ? base : `${base}|${subset}`;
}

/**
 * The cluster for a service (and subset), added to ctx.clusters on first use.
 * With no endpoints: undefined, or when `required` (a route names it) a cluster
 * with none, whose requests get 503 UH until an instance registers: with a
 * live registry an empty subset is a normal moment, not a config error.
 */
export function clusterFor(ctx: Ctx, svc: ServiceResource, subset: string | null, required: boolean): string | undefined {
  const name = clusterName(svc, subset);
  if (ctx.clusters.has(name)) return name;
  const rule = ctx.rules.find((r) => resolveHost(ctx.services, r.host, r.metadata.namespace) === svc);
  const sub = subset === null ? undefined : rule?.subsets.find((s) => s.name === subset);
  const labels = sub?.labels ?? {};
  const endpoints = svc.endpoints.filter((e) => Object.entries(labels).every(([k, v]) => e.labels[k] === v)).map((e) => formatAddress(e.address));
  if (endpoints.length === 0 && !required) return undefined;
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
