// RE2-style regular expressions for route matching, matched in linear time.
//
// Semantics are those of Envoy's `safe_regex` (RE2::FullMatch): the whole
// input must match. The supported subset:
//
//   literals, escaped punctuation (\. \/ \\ ...), \t \n \r \f \v \a, \xHH, \x{H...}
//   .                       any character except \n
//   [abc] [a-z0-9_-] [^...] character classes, with \d \w \s \D \W \S and
//                           POSIX [:alpha:] [:^digit:] ... inside
//   \d \w \s \D \W \S       digit, word character, space (RE2's ASCII sets)
//   * + ? {n} {n,} {n,m}    repetition (lazy forms *? +? ?? {n,m}? accepted;
//                           for a yes/no full match they mean the same)
//   ( ) (?: ) (?P<n> ) (?<n> )  groups (nothing is captured)
//   |                       alternation
//   ^ $ \A \z               start / end of the input
//
// Anything else RE2 has (flags like (?i), \b, \pL, \Q..\E) or does not have
// (backreferences, lookaround) is refused when the pattern is compiled, with
// a message saying what and where.
//
// Matching is a Thompson NFA simulation (a Pike VM without captures): every
// NFA state is visited at most once per input character, so the cost is
// O(input length x program size) for any pattern: `(a*)*b` against a long
// run of `a`s is as cheap as `a*b`. Program size is capped (MAX_PROGRAM), and
// so are repetition counts (MAX_REPEAT, as RE2) and group nesting.
//
// Linear is not bounded: a 60 KB header against a large pattern could still
// take longer than the proxy's per-callback execution budget (the proxy would
// then fail the request and, after repeated failures, quarantine the filter).
// So the work of all matches in one callback is metered (`resetRegexWork`);
// once it runs out every match answers false and `regexWorkExceeded()` is
// true, and the caller must fail the request rather than treat that as "no
// match" (a padded header must not skip past a route that would have matched).

/** Largest n or m in {n,m} (RE2's limit). */
export const MAX_REPEAT: i32 = 1000;
/** Largest compiled program, in instructions. */
export const MAX_PROGRAM: i32 = 1000;

/** NFA state visits left in the current budget. */
let workLeft: i64 = 0x7fffffffffffffff;
let workExceeded: bool = false;

/** Starts a new work budget of `steps` NFA state visits for the following matches. */
export function resetRegexWork(steps: i64): void {
  workLeft = steps;
  workExceeded = false;
}

/** True when a match since `resetRegexWork` ran out of budget (and answered false). */
export function regexWorkExceeded(): bool {
  return workExceeded;
}
/** Deepest group nesting. */
const MAX_DEPTH: i32 = 100;

// ---- AST

const N_EMPTY: i32 = 0;
const N_CHAR: i32 = 1;
const N_ANY: i32 = 2;
const N_CLASS: i32 = 3;
const N_CONCAT: i32 = 4;
const N_ALT: i32 = 5;
const N_REPEAT: i32 = 6;
const N_BEGIN: i32 = 7;
const N_END: i32 = 8;

class Node {
  /** Sub-expressions (concat, alternation) or the repeated one (repeat). */
  subs: Node[] = new Array<Node>();
  /** The character (N_CHAR) or class index (N_CLASS). */
  value: i32 = 0;
  min: i32 = 0;
  /** -1 = unbounded. */
  max: i32 = 0;

  constructor(readonly kind: i32) {}
}

function leaf(kind: i32, value: i32): Node {
  const n = new Node(kind);
  n.value = value;
  return n;
}

// ---- character classes

const MAX_CODE_POINT: i32 = 0x10ffff;

/** A set of code points: a bitmap for ASCII, sorted disjoint ranges above. */
export class CharClass {
  readonly ascii: StaticArray<u32> = new StaticArray<u32>(4);
  /** Ranges of code points >= 128, as lo, hi pairs, sorted. */
  readonly high: StaticArray<i32>;

  constructor(ranges: i64[]) {
    // ranges: normalized (sorted, disjoint) lo << 32 | hi
    let n = 0;
    for (let i = 0; i < ranges.length; i++) {
      if (<i32>(unchecked(ranges[i]) & 0xffffffff) >= 128) n++;
    }
    const high = new StaticArray<i32>(n * 2);
    this.high = high;
    const ascii = this.ascii;
    let k = 0;
    for (let i = 0; i < ranges.length; i++) {
      const r = unchecked(ranges[i]);
      let lo = <i32>(r >> 32);
      const hi = <i32>(r & 0xffffffff);
      for (let c = lo; c <= hi && c < 128; c++) {
        ascii[c >> 5] |= (<u32>1) << (c & 31);
      }
      if (hi < 128) continue;
      if (lo < 128) lo = 128;
      high[k++] = lo;
      high[k++] = hi;
    }
  }

  has(c: i32): bool {
    if (c < 128) return (unchecked(this.ascii[c >> 5]) & ((<u32>1) << (c & 31))) != 0;
    const h = this.high;
    let lo = 0;
    let hi = (h.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c < unchecked(h[mid * 2])) hi = mid - 1;
      else if (c > unchecked(h[mid * 2 + 1])) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/** Ranges being collected for one class. */
class RangeSet {
  ranges: i64[] = new Array<i64>();

  add(lo: i32, hi: i32): void {
    this.ranges.push((<i64>lo << 32) | <i64>hi);
  }

  addSet(other: RangeSet): void {
    for (let i = 0; i < other.ranges.length; i++) this.ranges.push(unchecked(other.ranges[i]));
  }

  /** Sorted, merged ranges. */
  normalized(): i64[] {
    const rs = this.ranges.slice(0);
    rs.sort((a: i64, b: i64): i32 => (a < b ? -1 : a > b ? 1 : 0));
    const out = new Array<i64>();
    let curLo: i32 = -1;
    let curHi: i32 = -2;
    for (let i = 0; i < rs.length; i++) {
      const lo = <i32>(unchecked(rs[i]) >> 32);
      const hi = <i32>(unchecked(rs[i]) & 0xffffffff);
      if (curLo >= 0 && lo <= curHi + 1) {
        if (hi > curHi) curHi = hi;
      } else {
        if (curLo >= 0) out.push((<i64>curLo << 32) | <i64>curHi);
        curLo = lo;
        curHi = hi;
      }
    }
    if (curLo >= 0) out.push((<i64>curLo << 32) | <i64>curHi);
    return out;
  }

  /** The complement, normalized. */
  negated(): i64[] {
    const rs = this.normalized();
    const out = new Array<i64>();
    let next = 0;
    for (let i = 0; i < rs.length; i++) {
      const lo = <i32>(unchecked(rs[i]) >> 32);
      const hi = <i32>(unchecked(rs[i]) & 0xffffffff);
      if (lo > next) out.push((<i64>next << 32) | <i64>(lo - 1));
      next = hi + 1;
    }
    if (next <= MAX_CODE_POINT) out.push((<i64>next << 32) | <i64>MAX_CODE_POINT);
    return out;
  }

  negate(): void {
    this.ranges = this.negated();
  }
}

/** Adds \d \w \s (or their negations) to `set`. */
function addPerlClass(set: RangeSet, letter: i32): void {
  const inner = new RangeSet();
  const lower = letter | 32;
  if (lower == 100) { // d
    inner.add(48, 57);
  } else if (lower == 119) { // w
    inner.add(48, 57);
    inner.add(65, 90);
    inner.add(95, 95);
    inner.add(97, 122);
  } else { // s: RE2's \s is [\t\n\f\r ]
    inner.add(9, 10);
    inner.add(12, 13);
    inner.add(32, 32);
  }
  if (letter != lower) inner.negate(); // \D \W \S
  set.addSet(inner);
}

/** Adds a POSIX class by name; false when the name is unknown. */
function addPosixClass(set: RangeSet, name: string, negate: bool): bool {
  const s = new RangeSet();
  if (name == "alnum") { s.add(48, 57); s.add(65, 90); s.add(97, 122); }
  else if (name == "alpha") { s.add(65, 90); s.add(97, 122); }
  else if (name == "ascii") { s.add(0, 127); }
  else if (name == "blank") { s.add(9, 9); s.add(32, 32); }
  else if (name == "cntrl") { s.add(0, 31); s.add(127, 127); }
  else if (name == "digit") { s.add(48, 57); }
  else if (name == "graph") { s.add(33, 126); }
  else if (name == "lower") { s.add(97, 122); }
  else if (name == "print") { s.add(32, 126); }
  else if (name == "punct") { s.add(33, 47); s.add(58, 64); s.add(91, 96); s.add(123, 126); }
  else if (name == "space") { s.add(9, 13); s.add(32, 32); }
  else if (name == "upper") { s.add(65, 90); }
  else if (name == "word") { s.add(48, 57); s.add(65, 90); s.add(95, 95); s.add(97, 122); }
  else if (name == "xdigit") { s.add(48, 57); s.add(65, 70); s.add(97, 102); }
  else return false;
  if (negate) s.negate();
  set.addSet(s);
  return true;
}

// ---- parser

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: i32): bool {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isWordChar(c: i32): bool {
  return isDigit(c) || isAsciiLetter(c) || c == 95;
}

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** A code point as it would appear in an error message. */
function show(c: i32): string {
  if (c < 0) return "end of pattern";
  if (c < 32 || c == 127) return "\\x" + (c < 16 ? "0" : "") + c.toString(16);
  return String.fromCodePoint(c);
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  depth: i32 = 0;
  readonly classes: CharClass[] = new Array<CharClass>();

  constructor(readonly src: string) {}

  fail(message: string): Node | null {
    if (this.error.length == 0) this.error = message + " at offset " + this.pos.toString();
    return null;
  }

  /** The code point at `pos`, or -1 at the end. */
  peek(): i32 {
    if (this.pos >= this.src.length) return -1;
    return <i32>this.src.codePointAt(this.pos);
  }

  /** The code point after the one at `pos`, or -1. */
  peek2(): i32 {
    const c = this.peek();
    if (c < 0) return -1;
    const at = this.pos + (c > 0xffff ? 2 : 1);
    return at < this.src.length ? <i32>this.src.codePointAt(at) : -1;
  }

  next(): i32 {
    const c = this.peek();
    if (c >= 0) this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  lookingAt(s: string): bool {
    return this.src.substr(this.pos, s.length) == s;
  }

  parse(): Node | null {
    const n = this.parseAlt();
    if (n === null) return null;
    if (this.pos < this.src.length) {
      // parseAlt stops only at the end or at a ')' it does not own
      return this.fail("unexpected ')' (no matching '(')");
    }
    return n;
  }

  parseAlt(): Node | null {
    const first = this.parseConcat();
    if (first === null) return null;
    if (this.peek() != 124) return first; // |
    const alt = new Node(N_ALT);
    alt.subs.push(first);
    while (this.peek() == 124) {
      this.next();
      const b = this.parseConcat();
      if (b === null) return null;
      alt.subs.push(b);
    }
    return alt;
  }

  parseConcat(): Node | null {
    const cat = new Node(N_CONCAT);
    while (true) {
      const c = this.peek();
      if (c < 0 || c == 124 || c == 41) break; // end, |, )
      const item = this.parseRepeat();
      if (item === null) return null;
      cat.subs.push(item);
    }
    if (cat.subs.length == 0) return new Node(N_EMPTY);
    if (cat.subs.length == 1) return cat.subs[0];
    return cat;
  }

  parseRepeat(): Node | null {
    const atom = this.parseAtom();
    if (atom === null) return null;
    const start = this.pos;
    let min: i32 = 0;
    let max: i32 = 0;
    const c = this.peek();
    if (c == 42) { this.next(); min = 0; max = -1; } // *
    else if (c == 43) { this.next(); min = 1; max = -1; } // +
    else if (c == 63) { this.next(); min = 0; max = 1; } // ?
    else if (c == 123 && this.braceRepeatAhead()) { // {
      this.next();
      min = this.readInt();
      max = min;
      if (this.peek() == 44) { // ,
        this.next();
        max = this.peek() == 125 ? -1 : this.readInt();
      }
      this.next(); // }
      if (min > MAX_REPEAT || max > MAX_REPEAT) {
        this.pos = start;
        return this.fail("repetition count above " + MAX_REPEAT.toString() + " in " + this.src.substring(start, this.src.indexOf("}", start) + 1));
      }
      if (max >= 0 && max < min) {
        this.pos = start;
        return this.fail("bad repetition " + this.src.substring(start, this.src.indexOf("}", start) + 1) + " (min > max)");
      }
    } else {
      return atom;
    }
    if (this.peek() == 63) this.next(); // lazy: same yes/no answer
    const after = this.peek();
    if (after == 42 || after == 43 || after == 63 || (after == 123 && this.braceRepeatAhead())) {
      return this.fail("bad repetition operator: " + this.src.substring(start, this.pos + 1) +
        " (wrap the repeated part in a group to repeat it again)");
    }
    const rep = new Node(N_REPEAT);
    rep.subs.push(atom);
    rep.min = min;
    rep.max = max;
    return rep;
  }

  /** True when `pos` is at `{n}`, `{n,}` or `{n,m}` (anything else is a literal '{', as in RE2). */
  braceRepeatAhead(): bool {
    const s = this.src;
    let i = this.pos + 1;
    const n = s.length;
    let digits = 0;
    while (i < n && isDigit(s.charCodeAt(i))) { i++; digits++; }
    if (digits == 0 || digits > 9) return false;
    if (i < n && s.charCodeAt(i) == 125) return true;
    if (i >= n || s.charCodeAt(i) != 44) return false;
    i++;
    digits = 0;
    while (i < n && isDigit(s.charCodeAt(i))) { i++; digits++; }
    if (digits > 9) return false;
    return i < n && s.charCodeAt(i) == 125;
  }

  readInt(): i32 {
    let v = 0;
    while (isDigit(this.peek())) v = v * 10 + (this.next() - 48);
    return v;
  }

  parseAtom(): Node | null {
    const c = this.peek();
    if (c == 40) return this.parseGroup(); // (
    if (c == 91) return this.parseClass(); // [
    if (c == 46) { this.next(); return new Node(N_ANY); } // .
    if (c == 94) { this.next(); return new Node(N_BEGIN); } // ^
    if (c == 36) { this.next(); return new Node(N_END); } // $
    if (c == 92) return this.parseEscape(); // backslash
    if (c == 42 || c == 43 || c == 63 || (c == 123 && this.braceRepeatAhead())) {
      return this.fail("missing argument to repetition operator '" + show(c) + "'");
    }
    this.next();
    return leaf(N_CHAR, c);
  }

  parseGroup(): Node | null {
    const open = this.pos;
    this.next(); // (
    if (this.peek() == 63) { // ?
      if (this.lookingAt("?:")) {
        this.pos += 2;
      } else if (this.lookingAt("?P<") || (this.lookingAt("?<") && !this.lookingAt("?<=") && !this.lookingAt("?<!"))) {
        this.pos += this.lookingAt("?P<") ? 3 : 2;
        const nameStart = this.pos;
        while (isWordChar(this.peek())) this.next();
        if (this.pos == nameStart || this.peek() != 62) { // >
          this.pos = open;
          return this.fail("invalid named group (expected (?P<name>...))");
        }
        this.next();
      } else if (this.lookingAt("?=") || this.lookingAt("?!") || this.lookingAt("?<=") || this.lookingAt("?<!")) {
        this.pos = open;
        return this.fail("lookaround (?=, (?!, (?<=, (?<! is not supported (RE2 has none)");
      } else {
        this.pos = open;
        return this.fail("flags and other (? groups are not supported (only (?:...) and (?P<name>...))");
      }
    }
    if (++this.depth > MAX_DEPTH) {
      this.pos = open;
      return this.fail("groups nested deeper than " + MAX_DEPTH.toString());
    }
    const inner = this.parseAlt();
    if (inner === null) return null;
    if (this.peek() != 41) {
      this.pos = open;
      return this.fail("missing ')' for this '('");
    }
    this.next();
    this.depth--;
    return inner;
  }

  /** An escape outside a class. */
  parseEscape(): Node | null {
    const at = this.pos;
    this.next(); // backslash
    const c = this.peek();
    if (c < 0) return this.fail("trailing backslash");
    const lower = c | 32;
    if (c < 128 && (lower == 100 || lower == 119 || lower == 115)) { // d w s D W S
      this.next();
      const set = new RangeSet();
      addPerlClass(set, c);
      return this.classNode(set.normalized());
    }
    if (c == 65) { this.next(); return new Node(N_BEGIN); } // \A
    if (c == 122) { this.next(); return new Node(N_END); } // \z
    const lit = this.escapedChar(at, false);
    if (lit < 0) return null;
    return leaf(N_CHAR, lit);
  }

  /**
   * The character of a single-character escape (after the backslash, which
   * was consumed; `at` is its offset), or -1 after recording an error.
   */
  escapedChar(at: i32, inClass: bool): i32 {
    const c = this.peek();
    if (c == 110) { this.next(); return 10; } // n
    if (c == 116) { this.next(); return 9; } // t
    if (c == 114) { this.next(); return 13; } // r
    if (c == 102) { this.next(); return 12; } // f
    if (c == 118) { this.next(); return 11; } // v
    if (c == 97) { this.next(); return 7; } // a
    if (c == 120) { // x
      this.next();
      if (this.peek() == 123) { // \x{...}
        this.next();
        let v = 0;
        let digits = 0;
        while (hexValue(this.peek()) >= 0 && digits < 7) { v = v * 16 + hexValue(this.next()); digits++; }
        if (digits == 0 || this.peek() != 125 || v > MAX_CODE_POINT) {
          this.pos = at;
          this.fail("invalid escape \\x{...} (expected 1-6 hex digits, at most 10FFFF)");
          return -1;
        }
        this.next();
        return v;
      }
      const h1 = hexValue(this.peek());
      const h2 = hexValue(this.peek2());
      if (h1 < 0 || h2 < 0) {
        this.pos = at;
        this.fail("invalid escape \\x (expected two hex digits, or \\x{...})");
        return -1;
      }
      this.next();
      this.next();
      return h1 * 16 + h2;
    }
    if (c >= 0 && c < 128 && !isWordChar(c)) { // escaped punctuation (or space): itself
      this.next();
      return c;
    }
    this.pos = at;
    if (isDigit(c)) {
      this.fail("backreferences and octal escapes (\\" + show(c) + ") are not supported");
    } else if (c == 98 || c == 66) {
      this.fail("word boundaries (\\b, \\B) are not supported");
    } else if (c == 112 || c == 80) {
      this.fail("Unicode classes (\\p, \\P) are not supported");
    } else if (c == 81 || c == 69) {
      this.fail("quoting (\\Q...\\E) is not supported; escape each character");
    } else if (inClass && (c == 65 || c == 122)) {
      this.fail("\\" + show(c) + " is not allowed in a character class");
    } else {
      this.fail("invalid or unsupported escape \\" + show(c));
    }
    return -1;
  }

  classNode(ranges: i64[]): Node {
    const idx = this.classes.length;
    this.classes.push(new CharClass(ranges));
    return leaf(N_CLASS, idx);
  }

  parseClass(): Node | null {
    const open = this.pos;
    this.next(); // [
    let negate = false;
    if (this.peek() == 94) { this.next(); negate = true; } // ^
    const set = new RangeSet();
    let first = true;
    while (true) {
      let c = this.peek();
      if (c < 0) {
        this.pos = open;
        return this.fail("missing ']' for this '['");
      }
      if (c == 93 && !first) { this.next(); break; } // ]
      first = false;
      if (c == 91 && this.lookingAt("[:")) { // [:name:]
        const end = this.src.indexOf(":]", this.pos + 2);
        if (end >= 0) {
          let name = this.src.substring(this.pos + 2, end);
          let neg = false;
          if (name.startsWith("^")) { neg = true; name = name.substring(1); }
          if (!addPosixClass(set, name, neg)) return this.fail("unknown POSIX class [:" + name + ":]");
          this.pos = end + 2;
          continue;
        }
      }
      let lo: i32;
      if (c == 92) { // backslash
        const at = this.pos;
        this.next();
        const e = this.peek();
        if (e >= 0 && e < 128 && ((e | 32) == 100 || (e | 32) == 119 || (e | 32) == 115)) {
          this.next();
          addPerlClass(set, e);
          if (this.peek() == 45 && this.peek2() != 93) { // a range starting at a class
            return this.fail("invalid character class range (\\" + show(e) + " cannot start a range)");
          }
          continue;
        }
        lo = this.escapedChar(at, true);
        if (lo < 0) return null;
      } else {
        lo = this.next();
      }
      let hi = lo;
      if (this.peek() == 45 && this.peek2() != 93 && this.peek2() >= 0) { // a-b (a '-' before ']' is literal)
        const dash = this.pos;
        this.next();
        c = this.peek();
        if (c == 92) {
          const at = this.pos;
          this.next();
          const e = this.peek();
          if (e >= 0 && e < 128 && ((e | 32) == 100 || (e | 32) == 119 || (e | 32) == 115)) {
            this.pos = dash;
            return this.fail("invalid character class range (\\" + show(e) + " cannot end a range)");
          }
          hi = this.escapedChar(at, true);
          if (hi < 0) return null;
        } else if (c == 91 && this.lookingAt("[:")) {
          this.pos = dash;
          return this.fail("invalid character class range (a POSIX class cannot end a range)");
        } else {
          hi = this.next();
        }
        if (hi < lo) {
          this.pos = dash;
          return this.fail("invalid character class range " + show(lo) + "-" + show(hi));
        }
      }
      set.add(lo, hi);
    }
    return this.classNode(negate ? set.negated() : set.normalized());
  }
}

// ---- compiler

const OP_CHAR: u8 = 0;
const OP_ANY: u8 = 1;
const OP_CLASS: u8 = 2;
const OP_SPLIT: u8 = 3;
const OP_JMP: u8 = 4;
const OP_BEGIN: u8 = 5;
const OP_END: u8 = 6;
const OP_MATCH: u8 = 7;

/** Instructions `n` compiles to, or MAX_PROGRAM + 1 once over the cap. */
function programSize(n: Node): i64 {
  const cap: i64 = <i64>MAX_PROGRAM + 1;
  let s: i64 = 0;
  switch (n.kind) {
    case N_EMPTY: return 0;
    case N_CONCAT: {
      for (let i = 0; i < n.subs.length; i++) s += programSize(n.subs[i]);
      return s > cap ? cap : s;
    }
    case N_ALT: {
      for (let i = 0; i < n.subs.length; i++) s += programSize(n.subs[i]);
      s += <i64>(n.subs.length - 1) * 2;
      return s > cap ? cap : s;
    }
    case N_REPEAT: {
      const e = programSize(n.subs[0]);
      if (n.max < 0) s = n.min == 0 ? e + 2 : <i64>n.min * e + 1;
      else s = <i64>n.min * e + <i64>(n.max - n.min) * (e + 1);
      return s > cap ? cap : s;
    }
    default: return 1;
  }
}

class Emitter {
  op: u8[] = new Array<u8>();
  a: i32[] = new Array<i32>();
  b: i32[] = new Array<i32>();

  emit(op: u8, a: i32, b: i32): i32 {
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }

  get pc(): i32 {
    return this.op.length;
  }

  node(n: Node): void {
    switch (n.kind) {
      case N_EMPTY: return;
      case N_CHAR: this.emit(OP_CHAR, n.value, 0); return;
      case N_ANY: this.emit(OP_ANY, 0, 0); return;
      case N_CLASS: this.emit(OP_CLASS, n.value, 0); return;
      case N_BEGIN: this.emit(OP_BEGIN, 0, 0); return;
      case N_END: this.emit(OP_END, 0, 0); return;
      case N_CONCAT: {
        for (let i = 0; i < n.subs.length; i++) this.node(n.subs[i]);
        return;
      }
      case N_ALT: {
        const jumps = new Array<i32>();
        const k = n.subs.length;
        for (let i = 0; i < k - 1; i++) {
          const split = this.emit(OP_SPLIT, 0, 0);
          this.a[split] = this.pc;
          this.node(n.subs[i]);
          jumps.push(this.emit(OP_JMP, 0, 0));
          this.b[split] = this.pc;
        }
        this.node(n.subs[k - 1]);
        for (let i = 0; i < jumps.length; i++) this.a[jumps[i]] = this.pc;
        return;
      }
      case N_REPEAT: {
        const e = n.subs[0];
        if (n.max < 0) {
          if (n.min == 0) {
            this.star(e);
          } else {
            for (let i = 0; i < n.min - 1; i++) this.node(e);
            // e+ : L: e; split L, next
            const loop = this.pc;
            this.node(e);
            this.emit(OP_SPLIT, loop, this.pc + 1);
          }
        } else {
          for (let i = 0; i < n.min; i++) this.node(e);
          for (let i = n.min; i < n.max; i++) {
            // e? : split L1, L2; L1: e; L2:
            const split = this.emit(OP_SPLIT, 0, 0);
            this.a[split] = this.pc;
            this.node(e);
            this.b[split] = this.pc;
          }
        }
        return;
      }
    }
  }

  /** e* : L: split L1, L2; L1: e; jmp L; L2: */
  star(e: Node): void {
    const split = this.emit(OP_SPLIT, 0, 0);
    this.a[split] = this.pc;
    this.node(e);
    this.emit(OP_JMP, split, 0);
    this.b[split] = this.pc;
  }
}

// ---- matcher

/** A sparse set of program counters (Briggs & Torczon): O(1) add, test and clear. */
class PcSet {
  readonly dense: StaticArray<i32>;
  readonly sparse: StaticArray<i32>;
  size: i32 = 0;

  constructor(n: i32) {
    this.dense = new StaticArray<i32>(n);
    this.sparse = new StaticArray<i32>(n);
  }

  // @ts-ignore: decorator
  @inline has(pc: i32): bool {
    const i = unchecked(this.sparse[pc]);
    return i < this.size && unchecked(this.dense[i]) == pc;
  }

  // @ts-ignore: decorator
  @inline add(pc: i32): void {
    unchecked(this.sparse[pc] = this.size);
    unchecked(this.dense[this.size] = pc);
    this.size++;
  }
}

/** A compiled pattern. `matches` is a full match of the whole input. */
export class Regex {
  private readonly ops: StaticArray<u8>;
  private readonly args: StaticArray<i32>;
  private readonly args2: StaticArray<i32>;
  private readonly classes: CharClass[];
  // Per-match scratch, reused: a VM runs one callback at a time.
  private cur: PcSet;
  private nxt: PcSet;
  private readonly stack: StaticArray<i32>;

  constructor(readonly pattern: string, e: Emitter, classes: CharClass[]) {
    const n = e.op.length;
    const ops = new StaticArray<u8>(n);
    const args = new StaticArray<i32>(n);
    const args2 = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) {
      ops[i] = e.op[i];
      args[i] = e.a[i];
      args2[i] = e.b[i];
    }
    this.ops = ops;
    this.args = args;
    this.args2 = args2;
    this.classes = classes;
    this.cur = new PcSet(n);
    this.nxt = new PcSet(n);
    this.stack = new StaticArray<i32>(2 * n + 2);
  }

  /** Instructions in the program (for tests and limits). */
  get size(): i32 {
    return this.ops.length;
  }

  /**
   * Adds `pc0` and everything reachable from it without consuming input.
   * Returns the number of states visited.
   */
  private follow(set: PcSet, pc0: i32, pos: i32, len: i32): i32 {
    const stack = this.stack;
    const ops = this.ops;
    let sp = 0;
    let visits = 0;
    unchecked(stack[sp++] = pc0);
    while (sp > 0) {
      const pc = unchecked(stack[--sp]);
      visits++;
      if (set.has(pc)) continue;
      set.add(pc);
      const op = unchecked(ops[pc]);
      if (op == OP_JMP) {
        unchecked(stack[sp++] = this.args[pc]);
      } else if (op == OP_SPLIT) {
        unchecked(stack[sp++] = this.args2[pc]);
        unchecked(stack[sp++] = this.args[pc]);
      } else if (op == OP_BEGIN) {
        if (pos == 0) unchecked(stack[sp++] = pc + 1);
      } else if (op == OP_END) {
        if (pos == len) unchecked(stack[sp++] = pc + 1);
      }
    }
    return visits;
  }

  /**
   * True when the whole of `s` matches (RE2::FullMatch). False also when the
   * work budget runs out (see `regexWorkExceeded`).
   */
  matches(s: string): bool {
    if (workLeft < 0) {
      workExceeded = true;
      return false;
    }
    const len = s.length;
    const ops = this.ops;
    let cur = this.cur;
    let nxt = this.nxt;
    cur.size = 0;
    let work: i64 = this.follow(cur, 0, 0, len);
    let i = 0;
    while (i < len) {
      if (cur.size == 0) break;
      // Metered once per character: the overshoot is at most one step.
      if (work > workLeft) {
        workLeft = -1;
        workExceeded = true;
        return false;
      }
      let c = <i32>s.charCodeAt(i);
      let j = i + 1;
      if (c >= 0xd800 && c <= 0xdbff && j < len) {
        const d = <i32>s.charCodeAt(j);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          j++;
        }
      }
      nxt.size = 0;
      const n = cur.size;
      work += n;
      for (let k = 0; k < n; k++) {
        const pc = unchecked(cur.dense[k]);
        const op = unchecked(ops[pc]);
        let ok = false;
        if (op == OP_CHAR) ok = unchecked(this.args[pc]) == c;
        else if (op == OP_ANY) ok = c != 10;
        else if (op == OP_CLASS) ok = unchecked(this.classes[unchecked(this.args[pc])]).has(c);
        if (ok) work += this.follow(nxt, pc + 1, j, len);
      }
      const t = cur;
      cur = nxt;
      nxt = t;
      i = j;
    }
    this.cur = cur;
    this.nxt = nxt;
    workLeft -= work;
    if (i < len) return false; // every thread died early
    for (let k = 0; k < cur.size; k++) {
      if (unchecked(ops[unchecked(cur.dense[k])]) == OP_MATCH) return true;
    }
    return false;
  }
}

/** The outcome of `compileRegex`: a regex, or why the pattern was refused. */
export class RegexResult {
  constructor(readonly regex: Regex | null, readonly error: string) {}
}

/** Parses and compiles `pattern`; never traps. */
export function compileRegex(pattern: string): RegexResult {
  const p = new Parser(pattern);
  const ast = p.parse();
  if (ast === null) return new RegexResult(null, p.error);
  // The final MATCH is not counted: `a{1000}` (1000 instructions) is allowed.
  if (programSize(ast) > <i64>MAX_PROGRAM) {
    return new RegexResult(null, "pattern too large (over " + MAX_PROGRAM.toString() +
      " instructions once repetitions are expanded)");
  }
  const e = new Emitter();
  e.node(ast);
  e.emit(OP_MATCH, 0, 0);
  return new RegexResult(new Regex(pattern, e, p.classes), "");
}
