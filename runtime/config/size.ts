// Byte sizes as users write them: a number and a unit, `B`, binary `KiB`
// `MiB` `GiB` (1024-based) or decimal `KB` `MB` `GB` (1000-based). The result
// is whole bytes.

import type { Parsed } from './parsed';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|KiB|MiB|GiB)$/;

export const SIZE_FORMS = 'a number with a unit B, KiB, MiB, GiB, KB, MB or GB, like "60KiB"';

export function parseSize(text: string): Parsed<number> {
  const m = SIZE.exec(text);
  if (!m) return { ok: false, error: `invalid size ${JSON.stringify(text)} (expected ${SIZE_FORMS})` };
  const total = Number(m[1]) * UNIT_BYTES[m[2]!]!;
  const bytes = Math.round(total);
  if (Math.abs(total - bytes) > 1e-6 || !Number.isSafeInteger(bytes)) {
    return { ok: false, error: `invalid size ${JSON.stringify(text)} (must be a whole number of bytes)` };
  }
  return { ok: true, value: bytes };
}

/** Bytes in the largest binary unit that divides them exactly: 61440 -> "60KiB". */
export function formatSize(bytes: number): string {
  if (bytes !== 0) {
    for (const unit of ['GiB', 'MiB', 'KiB']) {
      if (bytes % UNIT_BYTES[unit]! === 0) return `${bytes / UNIT_BYTES[unit]!}${unit}`;
    }
  }
  return `${bytes}B`;
}
