// Mesh documents shared by the control/mesh tests: the two documents of issue 4 verbatim.

export const ISSUE_DESTINATION_RULE_AND_SPLIT = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v3
      weight: 10
`;

export const ISSUE_FAULT_VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - fault:
      delay:
        percent: 100
        fixedDelay: 7s
    route:
    - destination:
        host: reviews
        subset: v3
`;

/** A native Service for reviews, with one endpoint per version (addresses given). */
export function reviewsService(addresses: [string, string, string]): string {
  return `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - name: http
    port: 9080
  endpoints:
  - address: ${addresses[0]}
    labels: { version: v1 }
  - address: ${addresses[1]}
    labels: { version: v2 }
  - address: ${addresses[2]}
    labels: { version: v3 }
`;
}

export function gateway(name = 'bookinfo-gateway'): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: ${name}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 8080
      name: http
      protocol: HTTP
    hosts:
    - "*"
`;
}
