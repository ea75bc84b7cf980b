import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { GuestMemory } from '../../runtime/wasm/guest-memory';

function memory(): GuestMemory {
  const m = new GuestMemory();
  m.bind(new WebAssembly.Memory({ initial: 1 }), () => 0);
  return m;
}

// The reference: the same value through BigInt, as the host computed it before.
function nanosBig(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6));
}

test('setEpochNanos writes the exact u64 nanoseconds of a fractional epoch-ms clock', () => {
  const m = memory();
  const samples = [0, 1, 0.5, 65535.999999, 65536, 4294.967296, 1_763_812_345_678.123, 1_763_812_345_678.999_999, 4_102_444_800_000.000_001, 9_007_199_254.740_993];
  for (let i = 0; i < 2000; i++) samples.push(Math.random() * 5e12);
  for (const ms of samples) {
    m.setEpochNanos(8, ms);
    assert.equal(m.view().readBigUInt64LE(8), nanosBig(ms), `ms=${ms}`);
  }
});

test('setEpochNanos drops an out-of-range pointer instead of throwing', () => {
  const m = memory();
  m.setEpochNanos(65536 - 4, 1_000);
  m.setEpochNanos(-8, 1_000);
  assert.equal(m.view().readUInt32LE(65536 - 4), 0, 'no half-written value');
  assert.equal(m.view().readBigUInt64LE(0), 0n);
});
