// The mesh config model: what parseMesh() reads from native and Istio
// resources, already validated and cross-checked. Durations are milliseconds.

import type { Address, FilterConfig } from '../../runtime/config/types';

export interface Metadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/** Native `Service` (wasmesh.io/v1alpha1). */
export interface ServiceResource {
  kind: 'Service';
  metadata: Metadata;
  ports: { name: string; port: number }[];
  endpoints: { address: Address; labels: Record<string, string> }[];
}

/** Native `RateLimit` (wasmesh.io/v1alpha1): the ratelimit filter for gateways and/or sidecars. */
export interface RateLimitResource {
  kind: 'RateLimit';
  metadata: Metadata;
  /** Gateway names, and/or "mesh" for sidecar outbound listeners. Empty: every proxy. */
  gateways: string[];
  descriptors: { key: string; requestsPerUnit: number; unit: 'second' | 'minute' | 'hour' | 'day'; burst: number | null }[];
  failOpen: boolean;
}

/** Where a FilterBundle is inserted in a listener's chain (Istio's PluginPhase). */
export type BundlePhase = 'AUTHN' | 'AUTHZ' | 'STATS' | 'UNSPECIFIED_PHASE';

/** Which listeners a FilterBundle runs on: CLIENT = outbound and gateways, SERVER = sidecar inbound (Istio's WorkloadMode). */
export type WorkloadMode = 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';

/** Native `FilterBundle` (wasmesh.io/v1alpha1): a third-party Wasm filter, modelled on Istio's WasmPlugin. */
export interface FilterBundleResource {
  kind: 'FilterBundle';
  metadata: Metadata;
  /** Informational (shown by the API and CLI). */
  version: string;
  /** The .wasm path as written (relative to the YAML file); the CLI uploads it and writes `sha256`. */
  module: string | null;
  /** 64 lowercase hex digits; null until the module is uploaded. */
  sha256: string | null;
  /** null: every proxy. */
  selector: Record<string, string> | null;
  /** The union of the `match` entries' modes. */
  mode: WorkloadMode;
  phase: BundlePhase;
  /** Higher runs first within a phase. */
  priority: number;
  /** The filter's `config`; null when absent. */
  pluginConfig: unknown;
  rootId: string;
  vmId: string | null;
  failurePolicy: FilterConfig['failurePolicy'];
  maxMemoryBytes: number | null;
  executionBudget: number | null;
  maxBufferedBodyBytes: number | null;
  logLevel: FilterConfig['logLevel'] | null;
}

export type StringMatch = { kind: 'exact' | 'prefix' | 'regex'; value: string };

export interface HttpMatch {
  uri: StringMatch | null;
  method: string | null;
  authority: StringMatch | null;
  headers: { name: string; match: StringMatch }[];
  queryParams: { name: string; match: StringMatch }[];
  ignoreUriCase: boolean;
}

export interface RouteDestination {
  host: string;
  subset: string | null;
  port: number | null;
  /** null when the route has a single destination written without a weight. */
  weight: number | null;
}

export interface HeaderOps {
  set: Record<string, string>;
  add: Record<string, string>;
  remove: string[];
}

export interface RetryPolicy {
  attempts: number;
  perTryTimeoutMs: number | null;
  retryOn: string | null;
}

export interface FaultPolicy {
  delay: { fixedDelayMs: number; percentage: number } | null;
  abort: { httpStatus: number; percentage: number } | null;
}

export interface HttpRoute {
  name: string | null;
  match: HttpMatch[];
  route: RouteDestination[];
  redirect: { uri: string | null; authority: string | null; port: number | null; scheme: string | null; redirectCode: number } | null;
  rewrite: { uri: string | null; authority: string | null } | null;
  timeoutMs: number | null;
  retries: RetryPolicy | null;
  fault: FaultPolicy | null;
  headers: { request: HeaderOps | null; response: HeaderOps | null };
}

export interface VirtualServiceResource {
  kind: 'VirtualService';
  metadata: Metadata;
  hosts: string[];
  /** As written; empty means ["mesh"]. */
  gateways: string[];
  http: HttpRoute[];
}

export interface TrafficPolicy {
  loadBalancer:
    | { simple: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'LEAST_CONN' | 'RANDOM' }
    | { consistentHash: { kind: 'header' | 'cookie' | 'query'; name: string } | { kind: 'source_ip' } }
    | null;
  connectionPool: {
    maxConnections: number | null;
    connectTimeoutMs: number | null;
    http1MaxPendingRequests: number | null;
    idleTimeoutMs: number | null;
  } | null;
  outlierDetection: {
    consecutive5xxErrors: number;
    intervalMs: number;
    baseEjectionTimeMs: number;
    maxEjectionPercent: number;
  } | null;
}

export interface DestinationRuleResource {
  kind: 'DestinationRule';
  metadata: Metadata;
  host: string;
  trafficPolicy: TrafficPolicy | null;
  subsets: { name: string; labels: Record<string, string>; trafficPolicy: TrafficPolicy | null }[];
}

export interface GatewayResource {
  kind: 'Gateway';
  metadata: Metadata;
  selector: Record<string, string>;
  servers: { port: { number: number; protocol: string; name: string }; hosts: string[] }[];
}

export interface AuthorizationPolicyResource {
  kind: 'AuthorizationPolicy';
  metadata: Metadata;
  selector: Record<string, string> | null;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** Istio rules, in the authz filter's JSON form (identical field names). */
  rules: unknown[];
}

export interface PeerAuthenticationResource {
  kind: 'PeerAuthentication';
  metadata: Metadata;
  selector: Record<string, string> | null;
  mtlsMode: 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
  portLevelMtls: Record<string, string>;
}

export type Resource =
  | ServiceResource
  | RateLimitResource
  | FilterBundleResource
  | VirtualServiceResource
  | DestinationRuleResource
  | GatewayResource
  | AuthorizationPolicyResource
  | PeerAuthenticationResource;

export interface Mesh {
  resources: Resource[];
}
