// Names of listeners, clusters and filters, and the "defined twice" check.

import type { Parsed } from './parsed';
import type { Value } from './validator';

/** Any non-empty string without whitespace or control characters. */
export function parseName(text: string): Parsed<string> {
  if (text === '') return { ok: false, error: 'must not be empty' };
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(text)) return { ok: false, error: `invalid name ${JSON.stringify(text)} (whitespace and control characters are not allowed)` };
  return { ok: true, value: text };
}

/** Remembers where each key was first seen and reports repeats: `duplicate cluster name "web" (first defined at clusters[0].name)`. */
export class Unique {
  private readonly seen = new Map<string, string>();

  constructor(private readonly what: string) {}

  /** False (and a problem recorded at `at`) when `key` was seen before. */
  check(key: string, at: Value, shown = JSON.stringify(key)): boolean {
    const first = this.seen.get(key);
    if (first !== undefined) {
      at.report(`duplicate ${this.what} ${shown} (first defined at ${first})`);
      return false;
    }
    this.seen.set(key, at.path);
    return true;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  keys(): string[] {
    return [...this.seen.keys()];
  }
}
