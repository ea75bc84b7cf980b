// Defaults for every optional field of the proxy config. docs/config.md lists
// the same values; keep the two in step.

export const DEFAULTS = {
  adminAddress: { host: '127.0.0.1', port: 15000 },
  /** How long a drain waits for in-flight requests. */
  drainTimeoutMs: 15_000,
  logLevel: 'info',
  listener: {
    /** Envoy's max_request_headers_kb default (60 KiB). */
    maxRequestHeadersBytes: 60 * 1024,
  },
  cluster: {
    lb: 'round_robin',
    /** Envoy's connect_timeout default (Istio uses 10s). */
    connectTimeoutMs: 5_000,
    /** Envoy's route timeout default. */
    timeoutMs: 15_000,
    /** Envoy's circuit breaker defaults are 1024 each. */
    maxConnections: 1024,
    maxPendingRequests: 1024,
    idleTimeoutMs: 60_000,
  },
  /** Kubernetes probe defaults (periodSeconds 10, timeoutSeconds 1, failureThreshold 3, successThreshold 1). */
  healthCheck: { intervalMs: 10_000, timeoutMs: 1_000, unhealthyThreshold: 3, healthyThreshold: 1 },
  /** Istio's outlier detection defaults. */
  outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 },
  filter: {
    failurePolicy: 'failClosed',
    maxMemoryBytes: 64 * 1024 * 1024,
    /** About 10-50 ms of guest CPU: far above any sane callback, far below a stuck worker. */
    executionBudget: 10_000_000,
    /** Envoy's per-filter buffer limit default (1 MiB). */
    maxBufferedBody: 1024 * 1024,
    logLevel: 'info',
  },
  /** Envoy's upper bound for max_request_headers_kb (8192 KiB). */
  maxRequestHeadersLimitBytes: 8 * 1024 * 1024,
} as const;
