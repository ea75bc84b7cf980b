// Maglev consistent hashing (Eisenbud et al., NSDI 2016), as Envoy's maglev
// policy: a lookup table of prime size M (default 65537) that every candidate
// fills in turn along its own permutation (offset + j * skip) mod M, both
// derived from the endpoint's identity. A pick is one table read, O(1).
//
// Maglev trades exact minimal disruption for perfectly even load: when the
// candidate set changes the table is rebuilt, and besides the keys of the
// removed endpoint a small share of other keys also moves (for M >> N, a few
// percent at most; the tests bound it). The rebuild - O(M log M), a few ms
// for M = 65537 - happens on the first pick after a health change, once per
// worker, into the same preallocated table.
import type { LoadBalancer } from './types';
import { NO_ENDPOINT } from './types';
import type { CandidateSet } from './candidates';
import { murmur3 } from '../hash';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export class MaglevLb implements LoadBalancer {
  readonly policy = 'maglev' as const;
  private readonly candidates: CandidateSet;
  private readonly random: () => number;
  private readonly size: number;
  private readonly table: Int32Array;
  private readonly offset: Int32Array;
  private readonly skip: Int32Array;
  private readonly next: Int32Array;
  /** Endpoint indices sorted by key: the fill order must not depend on config order. */
  private readonly byKey: Int32Array;
  private readonly live: Int32Array;

  constructor(candidates: CandidateSet, keys: readonly string[], tableSize: number, random: () => number) {
    if (!isPrime(tableSize)) throw new RangeError(`maglev table size must be prime, got ${tableSize}`);
    if (keys.length > tableSize) throw new RangeError(`maglev table size ${tableSize} is smaller than the ${keys.length} endpoints`);
    this.candidates = candidates;
    this.random = random;
    this.size = tableSize;
    const n = keys.length;
    this.table = new Int32Array(tableSize);
    this.offset = new Int32Array(n);
    this.skip = new Int32Array(n);
    this.next = new Int32Array(n);
    this.live = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Two independent hashes of the identity, as in the paper (Envoy uses
      // xxHash with seeds 0 and 1). skip in [1, M-1] is coprime with prime
      // M, so each permutation visits every slot.
      this.offset[i] = murmur3(keys[i], 0) % tableSize;
      this.skip[i] = (murmur3(keys[i], 1) % (tableSize - 1)) + 1;
    }
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    this.byKey = Int32Array.from(idx);
    this.populate();
  }

  pick(hashKey: number): number {
    if (this.candidates.refresh()) this.populate();
    if (this.candidates.count === 0) return NO_ENDPOINT;
    const h = hashKey < 0 ? Math.floor(this.random() * 4294967296) : hashKey;
    return this.table[h % this.size];
  }

  private populate(): void {
    const member = this.candidates.member;
    let n = 0;
    for (let j = 0; j < this.byKey.length; j++) {
      const e = this.byKey[j];
      if (member[e] === 1) {
        this.live[n++] = e;
        this.next[e] = this.offset[e];
      }
    }
    if (n === 0) return; // pick() answers NO_ENDPOINT before reading the table
    const M = this.size;
    const table = this.table;
    table.fill(-1);
    let filled = 0;
    for (;;) {
      for (let j = 0; j < n; j++) {
        const e = this.live[j];
        const step = this.skip[e];
        let c = this.next[e];
        while (table[c] >= 0) {
          c += step;
          if (c >= M) c -= M;
        }
        table[c] = e;
        c += step;
        this.next[e] = c >= M ? c - M : c;
        if (++filled === M) return;
      }
    }
  }
}
