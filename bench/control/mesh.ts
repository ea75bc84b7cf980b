// The benchmark's mesh: S services, each with two static endpoints (v1, v2),
// a DestinationRule with subsets v1/v2 and a VirtualService bound to `mesh`
// splitting 90/10. The change under test flips the weights of svc-0's
// VirtualService, which every sidecar's outbound router carries: every
// proxy's config changes.
//
// The static endpoints keep both subsets non-empty whatever registers (a
// route to an empty subset makes a proxy's config fail to build); nothing
// listens on them and nothing sends traffic.

export const SERVICE_PORT = 8080;

export function serviceName(i: number): string {
  return `svc-${i}`;
}

/** The whole mesh, multi-document YAML. */
export function meshYaml(services: number): string {
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = serviceName(i);
    docs.push(`apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
  - name: http
    port: ${SERVICE_PORT}
  endpoints:
  - address: 127.1.${i}.1:${SERVICE_PORT}
    labels: { version: v1 }
  - address: 127.1.${i}.2:${SERVICE_PORT}
    labels: { version: v2 }
`);
    docs.push(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${name}
  subsets:
  - name: v1
    labels: { version: v1 }
  - name: v2
    labels: { version: v2 }
`);
    docs.push(virtualService(i, 90));
  }
  return docs.join('---\n');
}

/** svc-N's VirtualService: `v1Weight` % to subset v1, the rest to v2 (bound to `mesh`, the default). */
export function virtualService(i: number, v1Weight: number): string {
  const name = serviceName(i);
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${name}
spec:
  hosts: [${name}]
  http:
  - route:
    - destination: { host: ${name}, subset: v1 }
      weight: ${v1Weight}
    - destination: { host: ${name}, subset: v2 }
      weight: ${100 - v1Weight}
`;
}

/** The body of POST /api/v1/apply for repeat `k`: svc-0's split alternates 10/90 and 90/10 (the mesh starts at 90/10). */
export function flipRequest(k: number): { documents: { source: string; text: string }[]; author: string; message: string } {
  const w = k % 2 === 0 ? 10 : 90;
  return { documents: [{ source: `bench-flip-${k}.yaml`, text: virtualService(0, w) }], author: 'bench/control', message: `flip svc-0 to ${w}/${100 - w}` };
}
