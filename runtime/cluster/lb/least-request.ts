// Least request by "power of two choices" (Envoy's default choice_count 2):
// sample two distinct candidates, take the one with fewer active requests.
// Active requests are the cluster-wide sum in the shared table, so workers
// see each other's load. P2C avoids the herd effect of a strict minimum,
// where every worker would pile onto the same momentarily idle endpoint
// between counter updates.
import type { LoadBalancer } from './types';
import { NO_ENDPOINT } from './types';
import type { CandidateSet } from './candidates';

export class LeastRequestLb implements LoadBalancer {
  readonly policy = 'least_request' as const;
  private readonly candidates: CandidateSet;
  private readonly random: () => number;

  constructor(candidates: CandidateSet, random: () => number) {
    this.candidates = candidates;
    this.random = random;
  }

  pick(_hashKey: number): number {
    const cs = this.candidates;
    cs.refresh();
    const c = cs.count;
    if (c === 0) return NO_ENDPOINT;
    if (c === 1) return cs.list[0];
    const a = Math.floor(this.random() * c);
    let b = Math.floor(this.random() * (c - 1));
    if (b >= a) b++; // distinct second choice, still uniform
    const ea = cs.list[a];
    const eb = cs.list[b];
    return cs.table.activeRequests(eb) < cs.table.activeRequests(ea) ? eb : ea;
  }
}
