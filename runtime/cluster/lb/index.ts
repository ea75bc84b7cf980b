// Factory for per-worker load balancers. Build one per cluster per worker
// (and per config generation); they share endpoint health through the
// cluster's EndpointStateTable.
import type { Address, LbPolicy } from '../../config/types';
import type { EndpointStateTable } from '../endpoint-state';
import { CandidateSet, DEFAULT_PANIC_THRESHOLD_PERCENT } from './candidates';
import { LeastRequestLb } from './least-request';
import { DEFAULT_MAGLEV_TABLE_SIZE, MaglevLb } from './maglev';
import { RandomLb } from './random';
import { DEFAULT_RING_VIRTUAL_NODES, RingHashLb } from './ring-hash';
import { RoundRobinLb } from './round-robin';
import type { LbOptions, LoadBalancer } from './types';

export type { LbOptions, LoadBalancer } from './types';
export { NO_ENDPOINT, NO_HASH_KEY } from './types';
export { CandidateSet, DEFAULT_PANIC_THRESHOLD_PERCENT } from './candidates';
export { DEFAULT_MAGLEV_TABLE_SIZE } from './maglev';
export { DEFAULT_RING_VIRTUAL_NODES } from './ring-hash';

/** The identity hash policies place an endpoint by. */
export function endpointKey(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function createLoadBalancer(policy: LbPolicy, endpointCount: number, state: EndpointStateTable, options: LbOptions = {}): LoadBalancer {
  if (state.size !== endpointCount) throw new RangeError(`state table has ${state.size} endpoints, cluster has ${endpointCount}`);
  const keys = options.endpointKeys ?? Array.from({ length: endpointCount }, (_, i) => String(i));
  if (keys.length !== endpointCount) throw new RangeError(`${keys.length} endpoint keys for ${endpointCount} endpoints`);
  const random = options.random ?? Math.random;
  const candidates = new CandidateSet(state, options.panicThresholdPercent ?? DEFAULT_PANIC_THRESHOLD_PERCENT);
  switch (policy) {
    case 'round_robin': return new RoundRobinLb(candidates, random);
    case 'least_request': return new LeastRequestLb(candidates, random);
    case 'random': return new RandomLb(candidates, random);
    case 'ring_hash': return new RingHashLb(candidates, keys, options.ringVirtualNodes ?? DEFAULT_RING_VIRTUAL_NODES, random);
    case 'maglev': return new MaglevLb(candidates, keys, options.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE, random);
    default: {
      const never: never = policy;
      throw new TypeError(`unknown lb policy ${String(never)}`);
    }
  }
}
