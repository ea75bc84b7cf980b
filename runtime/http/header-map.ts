// A HeaderMap over two parallel arrays, reused from stream to stream: no Map,
// no per-header objects. Header counts per request are small (tens), so a
// linear scan beats hashing.
import type { HeaderMap } from '../filter/types';

export class FlatHeaderMap implements HeaderMap {
  readonly names: string[] = [];
  readonly values: string[] = [];

  get size(): number {
    return this.names.length;
  }

  nameAt(i: number): string {
    return this.names[i]!;
  }

  valueAt(i: number): string {
    return this.values[i]!;
  }

  clear(): void {
    this.names.length = 0;
    this.values.length = 0;
  }

  /** Appends without lower-casing; the caller guarantees `name` is lower-case. */
  push(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  get(name: string): string | undefined {
    return this.getLower(name.toLowerCase());
  }

  /** get() for a name the caller knows is lower-case (the core's own lookups). */
  getLower(n: string): string | undefined {
    const i = this.names.indexOf(n);
    return i < 0 ? undefined : this.values[i];
  }

  getAll(name: string): string[] {
    const n = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === n) out.push(this.values[i]!);
    return out;
  }

  has(name: string): boolean {
    return this.names.indexOf(name.toLowerCase()) >= 0;
  }

  set(name: string, value: string): void {
    const n = name.toLowerCase();
    const i = this.names.indexOf(n);
    if (i < 0) {
      this.push(n, value);
      return;
    }
    this.values[i] = value;
    this.removeFrom(n, i + 1);
  }

  add(name: string, value: string): void {
    this.push(name.toLowerCase(), value);
  }

  remove(name: string): void {
    this.removeFrom(name.toLowerCase(), 0);
  }

  forEach(cb: (name: string, value: string) => void): void {
    for (let i = 0; i < this.names.length; i++) cb(this.names[i]!, this.values[i]!);
  }

  private removeFrom(n: string, start: number): void {
    let w = start;
    for (let r = start; r < this.names.length; r++) {
      if (this.names[r] === n) continue;
      this.names[w] = this.names[r]!;
      this.values[w] = this.values[r]!;
      w++;
    }
    this.names.length = w;
    this.values.length = w;
  }
}
