import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../runtime/config/duration';
import { formatSize, parseSize } from '../../runtime/config/size';

test('durations: each unit, fractions and Go-style sequences, in whole ms', () => {
  const cases: [string, number][] = [
    ['250ms', 250],
    ['0ms', 0],
    ['1s', 1000],
    ['1.5s', 1500],
    ['0.001s', 1],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h0m0.5s', 3_600_500],
  ];
  for (const [text, ms] of cases) assert.deepEqual(parseDuration(text), { ok: true, value: ms }, text);
});

test('durations: malformed strings are rejected with the accepted forms', () => {
  const forms = '(expected a number with a unit ms, s, m or h, like "250ms", "1.5s", "2m" or "1m30s")';
  for (const text of ['1', '1 s', '-1s', '1S', '1d', 's', '', '1.s', '1s ', '+1s']) {
    assert.deepEqual(parseDuration(text), { ok: false, error: `invalid duration ${JSON.stringify(text)} ${forms}` }, text);
  }
  assert.deepEqual(parseDuration('0.5ms'), { ok: false, error: 'invalid duration "0.5ms" (must be a whole number of milliseconds)' });
  assert.deepEqual(parseDuration('1000h'), {
    ok: false,
    error: 'duration "1000h" is too long (the maximum is 2147483647ms, about 24.8 days)',
  });
  assert.deepEqual(parseDuration('596h'), { ok: true, value: 596 * 3_600_000 });
});

test('formatDuration picks the largest exact unit', () => {
  assert.deepEqual([0, 5, 1000, 1500, 90_000, 120_000, 7_200_000].map(formatDuration), ['0ms', '5ms', '1s', '1500ms', '90s', '2m', '2h']);
});

test('sizes: binary and decimal units, whole bytes', () => {
  const cases: [string, number][] = [
    ['60KiB', 61_440],
    ['1B', 1],
    ['1.5KiB', 1536],
    ['2MiB', 2_097_152],
    ['1GiB', 1_073_741_824],
    ['10KB', 10_000],
    ['1MB', 1_000_000],
    ['1GB', 1_000_000_000],
  ];
  for (const [text, bytes] of cases) assert.deepEqual(parseSize(text), { ok: true, value: bytes }, text);
  for (const text of ['60', '60kib', '60 KiB', 'KiB', '-1B', '60K']) {
    assert.deepEqual(
      parseSize(text),
      { ok: false, error: `invalid size ${JSON.stringify(text)} (expected a number with a unit B, KiB, MiB, GiB, KB, MB or GB, like "60KiB")` },
      text,
    );
  }
  assert.deepEqual(parseSize('0.5B'), { ok: false, error: 'invalid size "0.5B" (must be a whole number of bytes)' });
  assert.deepEqual([0, 100, 61_440, 1_048_576, 1536].map(formatSize), ['0B', '100B', '60KiB', '1MiB', '1536B']);
});
