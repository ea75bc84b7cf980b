// The random source of weighted cluster picks: xorshift64* (Vigna), one per
// VM, seeded on first use from the host clock through splitmix64, so VMs on
// different workers (first used at different nanoseconds) draw different
// sequences. Picks are exactly uniform (rejection sampling, no modulo bias).

import { currentTimeNanos } from "wasmesh-sdk";

let state: u64 = 0;

function splitmix64(x: u64): u64 {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

/** Re-seeds the generator (`extra` is mixed with the clock). */
export function seedRandom(extra: u64): void {
  let s = splitmix64(currentTimeNanos() ^ splitmix64(extra));
  if (s == 0) s = 0x9e3779b97f4a7c15;
  state = s;
}

/** The next 64 random bits. */
export function nextRandom(): u64 {
  if (state == 0) seedRandom(0);
  let x = state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  state = x;
  return x * 0x2545f4914f6cdd1d;
}

/** A uniform integer in [0, n); n must be > 0. */
export function randomBelow(n: u64): u64 {
  // Values below 2^64 mod n would make the low residues more likely: redraw them.
  const threshold = (0 - n) % n;
  let r = nextRandom();
  while (r < threshold) r = nextRandom();
  return r % n;
}
