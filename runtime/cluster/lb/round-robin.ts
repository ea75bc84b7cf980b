// Round robin over the current candidates. Exactly even while the candidate
// set is stable. Each worker starts at a random offset so N workers do not
// all send their first request to endpoint 0 (Envoy does the same).
import type { LoadBalancer } from './types';
import { NO_ENDPOINT } from './types';
import type { CandidateSet } from './candidates';

export class RoundRobinLb implements LoadBalancer {
  readonly policy = 'round_robin' as const;
  private readonly candidates: CandidateSet;
  private cursor: number;

  constructor(candidates: CandidateSet, random: () => number) {
    this.candidates = candidates;
    this.cursor = Math.floor(random() * 0x10000);
  }

  pick(_hashKey: number): number {
    const cs = this.candidates;
    cs.refresh();
    const c = cs.count;
    if (c === 0) return NO_ENDPOINT;
    let k = this.cursor;
    if (k >= c) k %= c;
    this.cursor = k + 1;
    return cs.list[k];
  }
}
