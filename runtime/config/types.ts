// The validated, normalised proxy config. Durations are milliseconds, sizes
// bytes, addresses split. Objects of these types are immutable once built:
// a reload builds a whole new ProxyConfig and swaps it in.

export type LbPolicy = 'round_robin' | 'least_request' | 'random' | 'ring_hash' | 'maglev';
export const LB_POLICIES: readonly LbPolicy[] = ['round_robin', 'least_request', 'random', 'ring_hash', 'maglev'];

export type HashOn =
  | { kind: 'header'; name: string }
  | { kind: 'cookie'; name: string }
  | { kind: 'query'; name: string }
  | { kind: 'source_ip' };

export interface Address {
  host: string;
  port: number;
}

export interface HealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

export interface OutlierDetectionConfig {
  consecutive5xx: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
}

export interface ClusterConfig {
  name: string;
  endpoints: Address[];
  lb: LbPolicy;
  hashOn: HashOn | null;
  connectTimeoutMs: number;
  timeoutMs: number;
  maxConnections: number;
  maxPendingRequests: number;
  /** Idle keep-alive connections are closed after this long. */
  idleTimeoutMs: number;
  healthCheck: HealthCheckConfig | null;
  outlierDetection: OutlierDetectionConfig | null;
}

/** One entry of a listener's filter chain; interpreted by the filter factories. */
export interface FilterConfig {
  name: string;
  module: string;
  rootId: string;
  config: unknown;
  failurePolicy: 'failClosed' | 'failOpen' | 'reload';
  /** Scope of shared data and queues (proxy-wasm vm_id); defaults to the filter name. */
  vmId: string;
  /** Cap on the module's linear memory. */
  maxMemoryBytes: number;
  /** Metering units one callback may use before it is stopped. */
  executionBudget: number;
  /** Most bytes of body this filter may make the proxy buffer, per direction. */
  maxBufferedBody: number;
  /** proxy_log messages below this level are dropped. */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';
}

export interface ListenerConfig {
  name: string;
  address: Address;
  filters: FilterConfig[];
  defaultCluster: string | null;
  /** Total bytes of the request line plus headers; over it the request gets 431. */
  maxRequestHeadersBytes: number;
}

export interface AccessLogConfig {
  /** A file path, or "-" for stdout. */
  path: string;
}

export interface ProxyConfig {
  admin: { address: Address };
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  accessLog: AccessLogConfig | null;
  drainTimeoutMs: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}
