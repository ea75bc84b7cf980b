// The contract every load-balancing policy implements. One instance per
// cluster per worker thread: instances are single-threaded and keep private
// per-worker state (round-robin cursor, rebuilt tables); the shared part -
// endpoint health and active requests - is read from the EndpointStateTable.
import type { LbPolicy } from '../../config/types';

/** pick() result when no endpoint may be used; the caller answers 503 with flag UH. */
export const NO_ENDPOINT = -1;
/** pick() argument when the request has no hash key (the only value non-hash policies need). */
export const NO_HASH_KEY = -1;

export interface LoadBalancer {
  readonly policy: LbPolicy;
  /**
   * Choose an endpoint. `hashKey` is an unsigned 32-bit hash (see hash-key.ts)
   * used by ring_hash and maglev, or NO_HASH_KEY; other policies ignore it.
   * Returns the endpoint index, or NO_ENDPOINT. Never allocates; O(1) or
   * O(log n) except right after a health change, when the policy rebuilds
   * its per-worker view once (O(n), Maglev O(M log M)).
   */
  pick(hashKey: number): number;
}

export interface LbOptions {
  /**
   * Stable identities of the endpoints, index-aligned with the cluster's
   * endpoint list - normally "host:port" (see endpointKey). Hash policies
   * place endpoints by these, so an endpoint keeps its keys when others are
   * added or removed by a config change. Default: the index as a string.
   */
  endpointKeys?: readonly string[];
  /**
   * Envoy's healthy_panic_threshold, in percent (default 50; 0 disables).
   * Below it, outlier-ejected endpoints are used again. Endpoints failing
   * active health checks are never used (see candidates.ts).
   */
  panicThresholdPercent?: number;
  /** Source of uniform numbers in [0, 1), for tests; default Math.random. */
  random?: () => number;
  /** ring_hash: points per endpoint (default 160, as Ketama). */
  ringVirtualNodes?: number;
  /** maglev: lookup table size, must be prime (default 65537, as Envoy). */
  maglevTableSize?: number;
}
