// Durations as users write them: a decimal number and a unit (ms, s, m, h),
// optionally several in a row like Go's `1m30s`. The result is whole
// milliseconds. Plain numbers are not durations: is `timeout: 15` 15 ms or 15 s?

import type { Parsed } from './parsed';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** The largest value Node.js timers accept (setTimeout clamps anything larger to 1 ms). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const DURATION_FORMS = 'a number with a unit ms, s, m or h, like "250ms", "1.5s", "2m" or "1m30s"';

export function parseDuration(text: string): Parsed<number> {
  if (!WHOLE.test(text)) return { ok: false, error: `invalid duration ${JSON.stringify(text)} (expected ${DURATION_FORMS})` };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  const ms = Math.round(total);
  if (Math.abs(total - ms) > 1e-6) {
    return { ok: false, error: `invalid duration ${JSON.stringify(text)} (must be a whole number of milliseconds)` };
  }
  if (ms > MAX_DURATION_MS) {
    return { ok: false, error: `duration ${JSON.stringify(text)} is too long (the maximum is ${MAX_DURATION_MS}ms, about 24.8 days)` };
  }
  return { ok: true, value: ms };
}

/** Milliseconds in the largest unit that divides them exactly: 90000 -> "90s", 120000 -> "2m". */
export function formatDuration(ms: number): string {
  if (ms !== 0) {
    if (ms % UNIT_MS.h! === 0) return `${ms / UNIT_MS.h!}h`;
    if (ms % UNIT_MS.m! === 0) return `${ms / UNIT_MS.m!}m`;
    if (ms % UNIT_MS.s! === 0) return `${ms / UNIT_MS.s!}s`;
  }
  return `${ms}ms`;
}
