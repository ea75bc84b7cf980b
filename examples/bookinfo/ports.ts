// The Bookinfo demo's fixed port layout, all on 127.0.0.1. `wasmesh demo
// --port-offset N` adds N to every port (the end-to-end test runs the demo with
// an offset so that it does not collide with a demo a user left running).
//
//   ingress gateway     8080 (listener)  15000 (admin)
//   control plane       15010 (REST API and proxy stream)
//   instance            app    sidecar admin / outbound / inbound
//   productpage-v1      9080   15100 / 15101 / 15106
//   details-v1          9081   15110 / 15111 / 15116
//   reviews-v1          9082   15120 / 15121 / 15126
//   reviews-v2          9083   15130 / 15131 / 15136
//   reviews-v3          9084   15140 / 15141 / 15146
//   ratings-v1          9085   15150 / 15151 / 15156
//
// The sidecar ports follow Istio's pattern (admin 15000, outbound 15001,
// inbound 15006), moved up by 100 + 10 per instance.

export const HOST = '127.0.0.1';

export type ServiceName = 'productpage' | 'details' | 'reviews' | 'ratings';

export interface InstancePorts {
  /** Node id and display name: `reviews-v2`. */
  name: string;
  service: ServiceName;
  version: string;
  /** The service itself (the app behind the sidecar). */
  app: number;
  /** Sidecar admin. */
  admin: number;
  /** Sidecar outbound listener: the app calls other services through it, with `Host: SERVICE`. */
  outbound: number;
  /** Sidecar inbound listener: what the instance is registered as, in front of the app. */
  inbound: number;
}

export interface DemoPorts {
  offset: number;
  gateway: number;
  gatewayAdmin: number;
  control: number;
  instances: InstancePorts[];
}

const INSTANCES: [ServiceName, string][] = [
  ['productpage', 'v1'],
  ['details', 'v1'],
  ['reviews', 'v1'],
  ['reviews', 'v2'],
  ['reviews', 'v3'],
  ['ratings', 'v1'],
];

export function demoPorts(offset = 0): DemoPorts {
  return {
    offset,
    gateway: 8080 + offset,
    gatewayAdmin: 15000 + offset,
    control: 15010 + offset,
    instances: INSTANCES.map(([service, version], i) => ({
      name: `${service}-${version}`,
      service,
      version,
      app: 9080 + i + offset,
      admin: 15100 + 10 * i + offset,
      outbound: 15101 + 10 * i + offset,
      inbound: 15106 + 10 * i + offset,
    })),
  };
}

/** Every port the demo binds, for the "is it free" check before start and after stop. */
export function allPorts(p: DemoPorts): number[] {
  return [p.gateway, p.gatewayAdmin, p.control, ...p.instances.flatMap((i) => [i.app, i.admin, i.outbound, i.inbound])];
}

export function instance(p: DemoPorts, name: string): InstancePorts {
  const i = p.instances.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name}`);
  return i;
}
