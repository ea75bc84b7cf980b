// A small reader for untrusted config trees (the output of YAML or JSON
// parsing). It walks the tree with `Value` and `Fields`, tracking the path of
// every node, and collects problems instead of throwing, so one run reports
// every mistake. Schemas are plain functions over it:
//
//   const cluster = v.object((f) => ({
//     name: f.required('name').string({ nonEmpty: true }) ?? '',
//     timeoutMs: f.optional('timeout').duration({ min: 1 }) ?? 15_000,
//   }));
//
// Every reading method returns undefined when the value is absent (missing or
// null) or wrong; in the wrong case it has recorded a problem. `object()`
// reports fields its callback did not read as unknown.

import { joinIndex, joinKey } from './path';
import type { Parsed } from './parsed';
import { formatDuration, parseDuration } from './duration';
import { formatSize, parseSize } from './size';
import { suggest } from './suggest';

/** Maps a path to the 1-based line where that node is written, if known. */
export type Locator = (path: string) => number | undefined;

export interface Problem {
  /** '' for problems about the document as a whole. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** Collects problems; formats them as `file:line: path: message`. */
export class Problems {
  private readonly list: Problem[] = [];

  constructor(private readonly locate: Locator = () => undefined) {}

  get size(): number {
    return this.list.length;
  }

  /** Record a problem about `at`; its line is that of the node, or of its nearest written ancestor. */
  report(at: Value, message: string): void {
    let line: number | undefined;
    for (let v: Value | undefined = at; v !== undefined && line === undefined; v = v.parent) line = this.locate(v.path);
    this.list.push(line === undefined ? { path: at.path, message } : { path: at.path, message, line });
  }

  /** Record a problem at a known position (e.g. a syntax error). */
  add(problem: Problem): void {
    this.list.push(problem);
  }

  /**
   * The problems in document order (line, then the order found), each as
   * `source:line: path: message`. Without a source there is no position
   * prefix, except `line L, column C: ` for positioned syntax errors.
   */
  format(source?: string): string[] {
    const order = this.list.map((p, i) => ({ p, i }));
    order.sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i);
    return order.map(({ p }) => formatProblem(p, source));
  }
}

export function formatProblem(p: Problem, source?: string): string {
  let prefix = '';
  if (source !== undefined) {
    prefix = p.line === undefined ? `${source}: ` : `${source}:${p.line}${p.column === undefined ? '' : `:${p.column}`}: `;
  } else if (p.line !== undefined && p.column !== undefined) {
    prefix = `line ${p.line}, column ${p.column}: `;
  }
  return prefix + (p.path === '' ? '' : `${p.path}: `) + p.message;
}

export interface Range {
  min?: number;
  max?: number;
}

export class Value {
  constructor(
    readonly problems: Problems,
    readonly path: string,
    readonly raw: unknown,
    readonly parent?: Value,
  ) {}

  static root(raw: unknown, problems: Problems): Value {
    return new Value(problems, '', raw);
  }

  /** Present and not null. YAML `key:` with nothing after it is null, and counts as absent. */
  get isSet(): boolean {
    return this.raw !== undefined && this.raw !== null;
  }

  /** Record a problem at this value's path. Returns undefined for `return v.report(...)`. */
  report(message: string): undefined {
    this.problems.report(this, message);
    return undefined;
  }

  private inRange(n: number, range: Range, show: (n: number) => string): number | undefined {
    const message = inRangeMessage(n, range, show);
    return message === undefined ? n : this.report(message);
  }

  private expected(what: string): undefined {
    return this.report(`expected ${what}, got ${describe(this.raw)}`);
  }

  string(options: { nonEmpty?: boolean } = {}): string | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw !== 'string') return this.expected('a string');
    if (options.nonEmpty && this.raw === '') return this.report('must not be empty');
    return this.raw;
  }

  bool(): boolean | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw !== 'boolean') return this.expected('true or false');
    return this.raw;
  }

  number(range: Range = {}): number | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw !== 'number' || !Number.isFinite(this.raw)) return this.expected('a number');
    return this.inRange(this.raw, range, String);
  }

  int(range: Range = {}): number | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw !== 'number' || !Number.isSafeInteger(this.raw)) return this.expected('an integer');
    return this.inRange(this.raw, range, String);
  }

  /** A duration string (see duration.ts), in milliseconds. */
  duration(range: Range = {}): number | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw === 'number') {
      return this.report(`a duration needs a unit, like "${this.raw}s" or "${this.raw}ms" (plain numbers are not accepted)`);
    }
    const ms = this.parse(parseDuration);
    return ms === undefined ? undefined : this.inRange(ms, range, formatDuration);
  }

  /** A size string (see size.ts), in bytes. */
  size(range: Range = {}): number | undefined {
    if (!this.isSet) return undefined;
    if (typeof this.raw === 'number') {
      return this.report(`a size needs a unit, like "${this.raw}B" or "${this.raw}KiB" (plain numbers are not accepted)`);
    }
    const bytes = this.parse(parseSize);
    return bytes === undefined ? undefined : this.inRange(bytes, range, formatSize);
  }

  /** One of a fixed set of strings; `noun` names it in the error: `unknown policy "x" (expected one of ...)`. */
  oneOf<T extends string>(values: readonly T[], noun = 'value'): T | undefined {
    if (!this.isSet) return undefined;
    const expected = `one of ${values.join(', ')}`;
    if (typeof this.raw !== 'string') return this.expected(expected);
    if (!(values as readonly string[]).includes(this.raw)) return this.report(`unknown ${noun} ${JSON.stringify(this.raw)} (expected ${expected})`);
    return this.raw as T;
  }

  /** A string run through a domain parser (addresses, durations, ...). */
  parse<T>(parser: (text: string) => Parsed<T>): T | undefined {
    const text = this.string();
    if (text === undefined) return undefined;
    const result = parser(text);
    return result.ok ? result.value : this.report(result.error);
  }

  /** A list; `each` reads one item (items it returns undefined for are dropped). */
  list<T>(each: (item: Value, index: number) => T | undefined, options: { nonEmpty?: boolean } = {}): T[] | undefined {
    if (!this.isSet) return undefined;
    if (!Array.isArray(this.raw)) return this.expected('a list');
    if (options.nonEmpty && this.raw.length === 0) return this.report('must not be empty');
    const out: T[] = [];
    this.raw.forEach((raw: unknown, i) => {
      const item = each(new Value(this.problems, joinIndex(this.path, i), raw, this), i);
      if (item !== undefined) out.push(item);
    });
    return out;
  }

  /** A mapping with known fields; fields `read` does not ask for are reported as unknown. */
  object<T>(read: (fields: Fields) => T): T | undefined {
    if (!this.isSet) return undefined;
    if (!isPlainObject(this.raw)) return this.expected('a mapping');
    const fields = new Fields(this, this.raw);
    const out = read(fields);
    fields.reportUnknown();
    return out;
  }

  /** A mapping with arbitrary keys (labels, headers...); `each` reads one entry. */
  map<T>(each: (value: Value, key: string) => T | undefined): Map<string, T> | undefined {
    if (!this.isSet) return undefined;
    if (!isPlainObject(this.raw)) return this.expected('a mapping');
    const out = new Map<string, T>();
    for (const [key, raw] of Object.entries(this.raw)) {
      const item = each(new Value(this.problems, joinKey(this.path, key), raw, this), key);
      if (item !== undefined) out.set(key, item);
    }
    return out;
  }

  /** Any JSON-compatible data (null included), returned as is; anything else (.inf, dates, ...) is a problem. */
  json(): unknown {
    if (this.raw === undefined) return undefined;
    return this.checkJson() ? this.raw : undefined;
  }

  private checkJson(): boolean {
    const raw = this.raw;
    if (raw === null || typeof raw === 'string' || typeof raw === 'boolean') return true;
    if (typeof raw === 'number') {
      if (Number.isFinite(raw)) return true;
      this.report(`not valid JSON: numbers must be finite, got ${raw}`);
      return false;
    }
    let good = true;
    if (Array.isArray(raw)) {
      raw.forEach((item: unknown, i) => {
        if (!new Value(this.problems, joinIndex(this.path, i), item, this).checkJson()) good = false;
      });
    } else if (isPlainObject(raw)) {
      for (const [key, item] of Object.entries(raw)) {
        if (!new Value(this.problems, joinKey(this.path, key), item, this).checkJson()) good = false;
      }
    } else {
      this.report(`expected JSON-compatible data, got ${describe(raw)}`);
      good = false;
    }
    return good;
  }
}

/** The fields of one mapping. Asking for a field marks it known. */
export class Fields {
  private readonly known = new Set<string>();

  constructor(
    readonly owner: Value,
    private readonly raw: Record<string, unknown>,
  ) {}

  get path(): string {
    return this.owner.path;
  }

  optional(key: string): Value {
    this.known.add(key);
    const raw = Object.prototype.hasOwnProperty.call(this.raw, key) ? this.raw[key] : undefined;
    return new Value(this.owner.problems, joinKey(this.owner.path, key), raw, this.owner);
  }

  /** Like optional(), but records "required field is missing" when the field is absent or null. */
  required(key: string): Value {
    const v = this.optional(key);
    if (!v.isSet) v.report(v.raw === null ? 'required field is empty' : 'required field is missing');
    return v;
  }

  /** Called by Value.object(); exposed for readers that build a Fields themselves. */
  reportUnknown(): void {
    for (const key of Object.keys(this.raw)) {
      if (this.known.has(key)) continue;
      const guess = suggest(key, this.known);
      new Value(this.owner.problems, joinKey(this.owner.path, key), this.raw[key], this.owner).report(
        `unknown field${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`,
      );
    }
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A short description of a value for "expected X, got Y". */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  if (v instanceof Date) return 'a date';
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : typeof v;
}

function inRangeMessage(n: number, range: Range, show: (n: number) => string): string | undefined {
  const { min, max } = range;
  if (min !== undefined && max !== undefined && (n < min || n > max)) return `must be between ${show(min)} and ${show(max)}, got ${show(n)}`;
  if (min !== undefined && n < min) return `must be at least ${show(min)}, got ${show(n)}`;
  if (max !== undefined && n > max) return `must be at most ${show(max)}, got ${show(n)}`;
  return undefined;
}
