// Ketama-style consistent hash ring. Each endpoint owns `virtualNodes`
// points, hash("<key>_<r>"); a request hashes to the first point at or after
// its key, wrapping around. Points are placed by endpoint *identity*
// (endpointKeys), so adding or removing an endpoint only moves the keys whose
// nearest point it owns - about 1/N of them - and nothing else.
//
// The full ring is built and sorted once. When candidates change (health,
// ejection, panic) the live ring is re-filtered from it in O(points),
// without sorting: dropping an endpoint's points is exactly "walk forward to
// the next live endpoint's point", so the skip costs nothing per pick and a
// pick is always one binary search, O(log points).
import type { LoadBalancer } from './types';
import { NO_ENDPOINT } from './types';
import type { CandidateSet } from './candidates';
import { murmur3 } from '../hash';

export const DEFAULT_RING_VIRTUAL_NODES = 160;

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class RingHashLb implements LoadBalancer {
  readonly policy = 'ring_hash' as const;
  private readonly candidates: CandidateSet;
  private readonly random: () => number;
  private readonly hashes: Uint32Array;
  private readonly owners: Int32Array;
  private readonly liveHashes: Uint32Array;
  private readonly liveOwners: Int32Array;
  private liveCount = 0;

  constructor(candidates: CandidateSet, keys: readonly string[], virtualNodes: number, random: () => number) {
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) throw new RangeError(`ring virtual nodes must be >= 1, got ${virtualNodes}`);
    this.candidates = candidates;
    this.random = random;
    const n = keys.length;
    const total = n * virtualNodes;
    const pointHash = new Uint32Array(total);
    const order: number[] = new Array(total);
    for (let i = 0, p = 0; i < n; i++) {
      for (let r = 0; r < virtualNodes; r++, p++) {
        pointHash[p] = murmur3(`${keys[i]}_${r}`);
        order[p] = p;
      }
    }
    // Ties between endpoints (rare with 32-bit points) are broken by key, not
    // index, so the ring does not depend on endpoint order in the config.
    order.sort((x, y) => pointHash[x] - pointHash[y] || compareKeys(keys[(x / virtualNodes) | 0], keys[(y / virtualNodes) | 0]) || x - y);
    this.hashes = new Uint32Array(total);
    this.owners = new Int32Array(total);
    for (let j = 0; j < total; j++) {
      this.hashes[j] = pointHash[order[j]];
      this.owners[j] = (order[j] / virtualNodes) | 0;
    }
    this.liveHashes = new Uint32Array(total);
    this.liveOwners = new Int32Array(total);
    this.filter();
  }

  pick(hashKey: number): number {
    if (this.candidates.refresh()) this.filter();
    const m = this.liveCount;
    if (m === 0) return NO_ENDPOINT;
    // No key: any endpoint will do (Envoy picks a random hash too).
    const h = hashKey < 0 ? Math.floor(this.random() * 4294967296) : hashKey;
    // First point >= h.
    const hs = this.liveHashes;
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hs[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    return this.liveOwners[lo === m ? 0 : lo];
  }

  private filter(): void {
    const member = this.candidates.member;
    let m = 0;
    for (let j = 0; j < this.owners.length; j++) {
      const o = this.owners[j];
      if (member[o] === 1) {
        this.liveHashes[m] = this.hashes[j];
        this.liveOwners[m] = o;
        m++;
      }
    }
    this.liveCount = m;
  }
}
