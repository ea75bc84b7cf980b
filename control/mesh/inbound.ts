// A sidecar's inbound listener: requests from other proxies to the local
// app. Istio enforces AuthorizationPolicy here (the server side), so the
// chain is SERVER-mode bundles around authz and a router that sends
// everything to the app. Retries, faults and rate limits are client-side
// (outbound) and not repeated here.

import { formatAddress, parseAddress } from '../../runtime/config/address';
import { authzFilter } from './authz';
import { assembleChain } from './bundles';
import type { Ctx } from './clusters';
import type { AuthorizationPolicyResource, FilterBundleResource } from './types';

export interface InboundInput {
  listen: string;
  /** host:port of the local app. */
  app: string;
  namespace: string;
  labels: Record<string, string>;
  policies: readonly AuthorizationPolicyResource[];
  bundles: readonly FilterBundleResource[];
}

/** The `inbound` listener document; its cluster `inbound|PORT` goes to ctx.clusters. Undefined (with a problem) when `app` is not host:port. */
export function inboundListener(ctx: Ctx, input: InboundInput): Record<string, unknown> | undefined {
  const app = parseAddress(input.app);
  if (!app.ok) {
    ctx.problems.push(`sidecar inbound.app: ${app.error}`);
    return undefined;
  }
  const cluster = `inbound|${app.value.port}`;
  if (ctx.clusters.has(cluster)) ctx.problems.push(`cluster name ${JSON.stringify(cluster)} of the inbound listener is also a service subset's cluster; rename that subset`);
  ctx.clusters.set(cluster, { name: cluster, endpoints: [formatAddress(app.value)] });
  const router = {
    name: 'router',
    module: 'builtin:router',
    config: { virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'inbound', match: { prefix: '/' }, route: { cluster } }] }] },
  };
  const filters = assembleChain(
    input.bundles,
    { labels: input.labels, side: 'SERVER', early: [], authz: authzFilter(input.policies, input.namespace, input.labels), router, after: [] },
    ctx.problems,
  );
  return { name: 'inbound', address: input.listen, filters };
}
