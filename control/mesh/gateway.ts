// Which Gateway resources a gateway proxy serves, and what that implies for
// its listener: the VirtualServices bound to them and the hosts they admit.

import { ConfigError } from '../../runtime/core/errors';
import type { Ctx } from './clusters';
import type { GatewayTarget, ListenerPlan } from './translate';
import type { GatewayResource, VirtualServiceResource } from './types';

/** Describes a gateway target in messages. */
export function gatewayName(t: GatewayTarget): string {
  if (t.name !== undefined) return `gateway ${t.name}`;
  return `gateway with labels {${Object.entries(t.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}}`;
}

/**
 * The Gateways a proxy serves: the one named by the target or, without a
 * name, every Gateway (any namespace) whose selector is non-empty and
 * entirely among the proxy's labels (Istio's rule). Sorted by namespace/name.
 * @throws ConfigError when there is none.
 */
export function selectGateways(all: readonly GatewayResource[], t: GatewayTarget): GatewayResource[] {
  if (t.name !== undefined) {
    const namespace = t.namespace ?? 'default';
    const gw = all.find((g) => g.metadata.name === t.name && g.metadata.namespace === namespace);
    if (gw === undefined) throw new ConfigError([`${gatewayName(t)}: no Gateway ${JSON.stringify(t.name)} in namespace ${namespace}`]);
    return [gw];
  }
  const labels = t.labels ?? {};
  const found = all
    .filter((g) => Object.keys(g.selector).length > 0 && Object.entries(g.selector).every(([k, v]) => labels[k] === v))
    .sort((a, b) => (gatewayKey(a) < gatewayKey(b) ? -1 : gatewayKey(a) > gatewayKey(b) ? 1 : 0));
  if (found.length === 0) {
    const known = all.map((g) => `${gatewayKey(g)} {${Object.entries(g.selector).map(([k, v]) => `${k}=${v}`).join(', ')}}`);
    throw new ConfigError([
      `${gatewayName(t)}: no Gateway selects it (a Gateway's selector must be non-empty and all its labels among the proxy's; ` +
        `${known.length === 0 ? 'no Gateway is defined' : `defined: ${known.slice(0, 8).join(', ')}`})`,
    ]);
  }
  return found;
}

function gatewayKey(g: GatewayResource): string {
  return `${g.metadata.namespace}/${g.metadata.name}`;
}

/** Whether a VirtualService `gateways` entry (`name`, relative to the VirtualService's namespace, or `ns/name`) names this Gateway. */
function refersTo(entry: string, vsNamespace: string, gw: GatewayResource): boolean {
  const [ns, name] = entry.includes('/') ? (entry.split('/', 2) as [string, string]) : [vsNamespace, entry];
  return ns === gw.metadata.namespace && name === gw.metadata.name;
}

/** The gateway listener: VirtualServices bound to any of the Gateways, each restricted to the hosts its Gateways' servers admit. */
export function gatewayPlan(ctx: Ctx, gateways: readonly GatewayResource[], vss: readonly VirtualServiceResource[], t: GatewayTarget): ListenerPlan {
  const gatewaysOf = (vs: VirtualServiceResource) => gateways.filter((gw) => vs.gateways.some((e) => refersTo(e, vs.metadata.namespace, gw)));
  const serverHosts = (gws: readonly GatewayResource[]) =>
    gws.flatMap((gw) => gw.servers.flatMap((s) => s.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h))));
  const first = gateways[0]!;
  return {
    who: gatewayName(t),
    listen: t.listen ?? `0.0.0.0:${first.servers[0]?.port.number ?? 80}`,
    listenerName: gateways.length === 1 ? `gateway-${first.metadata.name}` : 'gateway',
    bound: vss.filter((vs) => gatewaysOf(vs).length > 0),
    domainsFor: (vs) => {
      const gws = gatewaysOf(vs);
      const admitted = serverHosts(gws);
      const hosts = vs.hosts.filter((h) => admitted.some((s) => hostMatches(s, h)));
      if (hosts.length === 0) {
        const served = gws.map((g) => g.metadata.name).join(', ');
        ctx.problems.push(`VirtualService ${vs.metadata.name}: none of its hosts (${vs.hosts.join(', ')}) is served by Gateway ${served} (hosts: ${admitted.join(', ')})`);
      }
      return hosts;
    },
    // A named gateway defaults to its Gateway's selector as its labels.
    labels: t.labels ?? (t.name !== undefined ? first.selector : {}),
    namespace: t.namespace ?? 'default',
    scopes: gateways.flatMap((g) => [g.metadata.name, gatewayKey(g)]),
  };
}

/** Whether a Gateway server host (`*`, `*.example.com`, `example.com`) admits a VirtualService host. */
function hostMatches(server: string, host: string): boolean {
  if (server === '*' || server === host) return true;
  if (server.startsWith('*.')) return host.endsWith(server.slice(1)) || (host.startsWith('*.') && host.endsWith(server.slice(1)));
  return false;
}
