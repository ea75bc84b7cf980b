// buildProxyConfig: the mesh, seen from one proxy (a gateway, or a sidecar
// with its outbound and optional inbound listener), as a proxy config. The
// config is produced as the YAML document an operator would write
// (docs/config.md) and then run through the proxy's own validator
// (readProxyConfigValue), so what comes out is exactly what a proxy accepts.
//
// Filter chain of an outbound or gateway listener, in order (bundles.ts):
//   AUTHN bundles, ratelimit-NAME*, AUTHZ bundles, authz? (gateways only),
//   STATS and UNSPECIFIED_PHASE bundles,
//   router           virtual hosts from VirtualServices; picks the cluster
//                    and sets the `route_name` property
//   fault-N*         one per HTTPRoute with `fault`, restricted to that route
//                    by name (`routes`, matched against route_name)
//   retry            one filter, per-route policies selected by route_name
//                    (`policies`); Istio's default for the other routes
// The sidecar inbound listener: inbound.ts.

import { stringify } from 'yaml';
import { ConfigError } from '../../runtime/core/errors';
import { readProxyConfigValue } from '../../runtime/config/load';
import type { ProxyConfig } from '../../runtime/config/types';
import { authzFilter } from './authz';
import { assembleChain } from './bundles';
import { ofKind } from './common';
import type { Ctx } from './clusters';
import { gatewayName, gatewayPlan, selectGateways } from './gateway';
import { inboundListener } from './inbound';
import { withInstances, type Instance } from './instances';
import { resolveHost } from './parse';
import { buildRouting, serviceDomains } from './router';
import type { Mesh, RateLimitResource, ServiceResource, VirtualServiceResource } from './types';

export interface GatewayTarget {
  kind: 'gateway';
  /** metadata.name of the Gateway resource; without it, every Gateway whose selector `labels` satisfy. */
  name?: string;
  /** The Gateway's namespace (named form) and the proxy's (AuthorizationPolicies); default `default`. */
  namespace?: string;
  /** Listen address; default 0.0.0.0:<first server port>. */
  listen?: string;
  admin?: string;
  /** The gateway proxy's labels (Gateway, AuthorizationPolicy and FilterBundle selectors); named form: default the Gateway's selector. */
  labels?: Record<string, string>;
}

export interface SidecarTarget {
  kind: 'sidecar';
  /** Outbound listener address; default 127.0.0.1:15001 (Istio's outbound port). */
  listen?: string;
  admin?: string;
  /** The workload's namespace (AuthorizationPolicies); default `default`. */
  namespace?: string;
  /** The workload's labels (AuthorizationPolicy and FilterBundle selectors). */
  labels?: Record<string, string>;
  /** The workload's Service; not used by translation (it identifies the instance to the registry). */
  service?: string;
  /** Also generate the inbound listener: at `listen`, in front of the local app at `app` (host:port). */
  inbound?: { listen: string; app: string };
}

export type Target = GatewayTarget | SidecarTarget;

export interface BuildOptions {
  /** Registered instances, added to the endpoints of their Services. */
  instances?: readonly Instance[];
}

/** An outbound or gateway listener, before its chain is built. */
export interface ListenerPlan {
  who: string;
  listen: string;
  listenerName: string;
  bound: VirtualServiceResource[];
  domainsFor: (vs: VirtualServiceResource) => string[];
  labels: Record<string, string>;
  namespace: string;
  /** RateLimit `gateways` entries that select this listener. */
  scopes: string[];
}

export function buildProxyConfig(mesh: Mesh, target: Target, opts: BuildOptions = {}): ProxyConfig {
  return validateProxyDocument(buildProxyDocument(mesh, target, opts), target);
}

/** Runs a generated document through the proxy's own validator. @throws ConfigError (a translation bug) */
export function validateProxyDocument(doc: Record<string, unknown>, target: Target): ProxyConfig {
  try {
    // Through JSON, as a proxy receives it (drops undefined fields); no YAML step: this runs per proxy per change.
    return readProxyConfigValue(JSON.parse(JSON.stringify(doc)), `generated config for ${targetName(target)}`);
  } catch (e) {
    // A translation bug, not a user mistake: say so.
    if (e instanceof ConfigError) throw new ConfigError(['the generated proxy config was refused by the proxy (a wasmesh bug):', ...e.problems]);
    throw e;
  }
}

/** The generated config as YAML text, for `wasmesh proxy -c`. */
export function renderProxyConfig(mesh: Mesh, target: Target, opts: BuildOptions = {}): string {
  buildProxyConfig(mesh, target, opts); // validate
  return stringify(buildProxyDocument(mesh, target, opts));
}

function targetName(t: Target): string {
  return t.kind === 'gateway' ? gatewayName(t) : 'sidecar';
}

/** The proxy config document (docs/config.md format), before validation. @throws ConfigError */
export function buildProxyDocument(mesh: Mesh, target: Target, opts: BuildOptions = {}): Record<string, unknown> {
  const ctx: Ctx = {
    services: withInstances(ofKind(mesh, 'Service'), opts.instances ?? []),
    rules: ofKind(mesh, 'DestinationRule'),
    problems: [],
    clusters: new Map(),
  };
  const vss = ofKind(mesh, 'VirtualService');
  const policies = ofKind(mesh, 'AuthorizationPolicy');
  const bundles = ofKind(mesh, 'FilterBundle');

  const plan = target.kind === 'gateway'
    ? gatewayPlan(ctx, selectGateways(ofKind(mesh, 'Gateway'), target), vss, target)
    : sidecarPlan(ctx, vss, target);
  const routing = buildRouting(ctx, plan.bound, plan.domainsFor, target.kind === 'sidecar', plan.who);
  const rateLimits = ofKind(mesh, 'RateLimit')
    .filter((rl) => rl.gateways.length === 0 || rl.gateways.some((g) => plan.scopes.includes(g)))
    .map(rateLimitFilter);
  // Istio enforces AuthorizationPolicy on the server side: gateways, and sidecars' inbound listener (not outbound).
  const authz = target.kind === 'gateway' ? authzFilter(policies, plan.namespace, plan.labels) : null;
  const filters = assembleChain(
    bundles,
    { labels: plan.labels, side: 'CLIENT', early: rateLimits, authz, router: routing.router, after: routing.after },
    ctx.problems,
  );
  const listeners: Record<string, unknown>[] = [{ name: plan.listenerName, address: plan.listen, filters }];
  if (target.kind === 'sidecar' && target.inbound !== undefined) {
    const inbound = inboundListener(ctx, { ...target.inbound, namespace: plan.namespace, labels: plan.labels, policies, bundles });
    if (inbound !== undefined) listeners.push(inbound);
  }

  // A bundle on both listeners would report its problem twice.
  if (ctx.problems.length > 0) throw new ConfigError([...new Set(ctx.problems)], targetName(target));
  return {
    admin: { address: target.admin ?? '127.0.0.1:15000' },
    listeners,
    clusters: [...ctx.clusters.values()],
  };
}

/** The outbound listener: VirtualServices bound to `mesh` (or to nothing); a host naming a Service answers for its DNS forms. */
function sidecarPlan(ctx: Ctx, vss: readonly VirtualServiceResource[], t: SidecarTarget): ListenerPlan {
  return {
    who: 'sidecar',
    listen: t.listen ?? '127.0.0.1:15001',
    listenerName: 'outbound',
    bound: vss.filter((vs) => vs.gateways.length === 0 || vs.gateways.includes('mesh')),
    domainsFor: (vs) => vs.hosts.flatMap((h) => {
      const svc: ServiceResource | undefined = resolveHost(ctx.services, h, vs.metadata.namespace);
      return svc === undefined ? [h] : serviceDomains(svc);
    }),
    labels: t.labels ?? {},
    namespace: t.namespace ?? 'default',
    scopes: ['mesh'],
  };
}

function rateLimitFilter(rl: RateLimitResource): Record<string, unknown> {
  return {
    name: `ratelimit-${rl.metadata.name}`,
    module: 'builtin:ratelimit',
    config: {
      descriptors: rl.descriptors.map((d) => ({ key: d.key, requestsPerUnit: d.requestsPerUnit, unit: d.unit, ...(d.burst === null ? {} : { burst: d.burst }) })),
      failOpen: rl.failOpen,
    },
  };
}
