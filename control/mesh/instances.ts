// Registered instances (sidecars that announced themselves to the control
// plane) as endpoints of their Service, after its static endpoints, so that
// DestinationRule subsets select them by their labels like static ones.

import { formatAddress, parseAddress } from '../../runtime/config/address';
import type { Address } from '../../runtime/config/types';
import type { ServiceResource } from './types';

export interface Instance {
  service: string;
  namespace: string;
  /** host:port other proxies reach it at. */
  address: string;
  labels: Record<string, string>;
  nodeId: string;
}

export interface ServiceEndpoint {
  address: Address;
  labels: Record<string, string>;
  source: 'static' | 'registered';
  /** The registered proxy (source "registered" only). */
  nodeId?: string;
}

/**
 * A Service's endpoints: the static ones, then its instances. An instance
 * whose address is not a valid host:port, or is already an endpoint (static
 * or an earlier instance), is skipped: a cluster cannot list one address twice.
 */
export function serviceEndpoints(svc: ServiceResource, instances: readonly Instance[]): ServiceEndpoint[] {
  const out: ServiceEndpoint[] = svc.endpoints.map((e) => ({ address: e.address, labels: e.labels, source: 'static' }));
  const seen = new Set(out.map((e) => formatAddress(e.address)));
  for (const i of instances) {
    if (i.service !== svc.metadata.name || i.namespace !== svc.metadata.namespace) continue;
    const parsed = parseAddress(i.address);
    if (!parsed.ok || seen.has(formatAddress(parsed.value))) continue;
    seen.add(formatAddress(parsed.value));
    out.push({ address: parsed.value, labels: i.labels, source: 'registered', nodeId: i.nodeId });
  }
  return out;
}

/** The Services with their instances added to their endpoints (instances of unknown services are ignored). */
export function withInstances(services: readonly ServiceResource[], instances: readonly Instance[]): ServiceResource[] {
  if (instances.length === 0) return [...services];
  return services.map((s) => ({ ...s, endpoints: serviceEndpoints(s, instances).map((e) => ({ address: e.address, labels: e.labels })) }));
}
