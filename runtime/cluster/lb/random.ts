// Uniformly random candidate. Stateless apart from the candidate cache, so it
// is the policy to use when many proxies share few endpoints and round-robin
// cursors would synchronise.
import type { LoadBalancer } from './types';
import { NO_ENDPOINT } from './types';
import type { CandidateSet } from './candidates';

export class RandomLb implements LoadBalancer {
  readonly policy = 'random' as const;
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
    return cs.list[Math.floor(this.random() * c)];
  }
}
