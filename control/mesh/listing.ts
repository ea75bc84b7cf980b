// Read-only views of the mesh for the control plane's REST API
// (GET /api/v1/services, /routes, /filters; docs/control-plane.md).

import { formatAddress } from '../../runtime/config/address';
import { ofKind } from './common';
import { serviceEndpoints, type Instance } from './instances';
import type { BundlePhase, FaultPolicy, Mesh, RetryPolicy, WorkloadMode } from './types';

export interface ServiceInfo {
  name: string;
  namespace: string;
  ports: { name: string; port: number }[];
  labels: Record<string, string>;
  endpoints: { address: string; labels: Record<string, string>; source: 'static' | 'registered'; nodeId?: string }[];
}

export interface RouteInfo {
  virtualService: string;
  namespace: string;
  /** The http route's `name`, or its index in `http`. */
  name: string;
  hosts: string[];
  /** Effective: ["mesh"] when the VirtualService names none. */
  gateways: string[];
  /** Empty for a redirect. `weight` is 100 for a single destination written without one. */
  destinations: { host: string; subset: string | null; weight: number }[];
  fault: FaultPolicy | null;
  retries: RetryPolicy | null;
  timeoutMs: number | null;
}

export interface FilterInfo {
  name: string;
  namespace: string;
  version: string;
  /** null until the module is uploaded. */
  sha256: string | null;
  phase: BundlePhase;
  priority: number;
  selector: Record<string, string> | null;
  mode: WorkloadMode;
}

/** Every Service with its endpoints: static ones, then registered instances (as translation uses them). */
export function listServices(mesh: Mesh, instances: readonly Instance[] = []): ServiceInfo[] {
  return ofKind(mesh, 'Service').map((s) => ({
    name: s.metadata.name,
    namespace: s.metadata.namespace,
    ports: s.ports.map((p) => ({ name: p.name, port: p.port })),
    labels: s.metadata.labels,
    endpoints: serviceEndpoints(s, instances).map((e) => ({
      address: formatAddress(e.address),
      labels: e.labels,
      source: e.source,
      ...(e.nodeId === undefined ? {} : { nodeId: e.nodeId }),
    })),
  }));
}

/** One entry per VirtualService HTTP route, in mesh order. */
export function listRoutes(mesh: Mesh): RouteInfo[] {
  return ofKind(mesh, 'VirtualService').flatMap((vs) =>
    vs.http.map((r, i) => ({
      virtualService: vs.metadata.name,
      namespace: vs.metadata.namespace,
      name: r.name ?? String(i),
      hosts: vs.hosts,
      gateways: vs.gateways.length === 0 ? ['mesh'] : vs.gateways,
      destinations: r.route.map((d) => ({ host: d.host, subset: d.subset, weight: d.weight ?? 100 })),
      fault: r.fault,
      retries: r.retries,
      timeoutMs: r.timeoutMs,
    })),
  );
}

export function listFilters(mesh: Mesh): FilterInfo[] {
  return ofKind(mesh, 'FilterBundle').map((b) => ({
    name: b.metadata.name,
    namespace: b.metadata.namespace,
    version: b.version,
    sha256: b.sha256,
    phase: b.phase,
    priority: b.priority,
    selector: b.selector,
    mode: b.mode,
  }));
}
