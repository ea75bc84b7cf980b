// A small, strict JSON parser (RFC 8259) for filter configuration, with typed
// accessors and a serializer.
//
//   const r = parseJson(config);
//   if (!r.ok) { log.error("config: " + r.error); return false; }
//   const cfg = r.value!.asObject();   // null unless the top level is an object
//
// Or in one step: `const cfg = parseConfig(config)` (empty config = `{}`;
// invalid JSON is logged and gives null).

import { log } from "./log";

/** Nesting deeper than this is refused (it bounds the parser's recursion). */
export const JSON_MAX_DEPTH: i32 = 100;

export enum JsonType {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** "null", "bool", "number", "string", "array" or "object". */
export function jsonTypeName(type: JsonType): string {
  switch (type) {
    case JsonType.Null: return "null";
    case JsonType.Bool: return "bool";
    case JsonType.Number: return "number";
    case JsonType.String: return "string";
    case JsonType.Array: return "array";
    default: return "object";
  }
}

/** Any JSON value. Use the `as*` accessors, or check `type` and cast. */
export abstract class JsonValue {
  constructor(readonly type: JsonType) {}

  get isNull(): bool { return this.type == JsonType.Null; }

  /** The string, or null when this is not a string. */
  asString(): string | null {
    return this.type == JsonType.String ? changetype<JsonString>(this).value : null;
  }

  /** The number, or `defaultValue` when this is not a number. */
  asNumber(defaultValue: f64 = 0): f64 {
    return this.type == JsonType.Number ? changetype<JsonNumber>(this).value : defaultValue;
  }

  /** The number as an exact i64, or `defaultValue` when not an integral number in i64 range. */
  asInt(defaultValue: i64 = 0): i64 {
    if (this.type != JsonType.Number) return defaultValue;
    const n = changetype<JsonNumber>(this);
    return n.isInteger ? n.intValue : defaultValue;
  }

  /** The boolean, or `defaultValue` when this is not a boolean. */
  asBool(defaultValue: bool = false): bool {
    return this.type == JsonType.Bool ? changetype<JsonBool>(this).value : defaultValue;
  }

  /** This array, or null. */
  asArray(): JsonArray | null {
    return this.type == JsonType.Array ? changetype<JsonArray>(this) : null;
  }

  /** This object, or null. */
  asObject(): JsonObject | null {
    return this.type == JsonType.Object ? changetype<JsonObject>(this) : null;
  }

  /** Compact JSON text. */
  abstract stringify(): string;

  toString(): string {
    return this.stringify();
  }
}

export class JsonNull extends JsonValue {
  constructor() { super(JsonType.Null); }
  stringify(): string { return "null"; }
}

export class JsonBool extends JsonValue {
  constructor(readonly value: bool) { super(JsonType.Bool); }
  stringify(): string { return this.value ? "true" : "false"; }
}

export class JsonNumber extends JsonValue {
  /**
   * @param value the number
   * @param isInteger true when it is integral and within i64 range
   * @param intValue the exact integer (integer literals in i64 range are
   *   parsed without going through f64)
   */
  constructor(readonly value: f64, readonly isInteger: bool = false, readonly intValue: i64 = 0) {
    super(JsonType.Number);
  }

  /** A number from an i64, exactly. */
  static fromInt(v: i64): JsonNumber {
    return new JsonNumber(<f64>v, true, v);
  }

  /** A number from an f64. */
  static fromFloat(v: f64): JsonNumber {
    const integral = isFinite(v) && Math.floor(v) == v && v >= -9.223372036854776e18 && v < 9.223372036854776e18;
    return new JsonNumber(v, integral, integral ? <i64>v : 0);
  }

  stringify(): string {
    if (this.isInteger) return this.intValue.toString();
    if (!isFinite(this.value)) return "null";
    const text = this.value.toString();
    // AssemblyScript prints integral floats as "1e+21" or "123.0"; JSON (and JS) has no ".0"
    return text.endsWith(".0") ? text.substring(0, text.length - 2) : text;
  }
}

export class JsonString extends JsonValue {
  constructor(readonly value: string) { super(JsonType.String); }
  stringify(): string { return jsonQuote(this.value); }
}

export class JsonArray extends JsonValue {
  constructor(readonly items: JsonValue[] = new Array<JsonValue>()) { super(JsonType.Array); }

  get length(): i32 { return this.items.length; }

  /** The element at `index`, or null when out of range. */
  at(index: i32): JsonValue | null {
    return index >= 0 && index < this.items.length ? unchecked(this.items[index]) : null;
  }

  /** Appends a value (for building JSON). */
  push(value: JsonValue): JsonArray {
    this.items.push(value);
    return this;
  }

  /** Every element as a string, or null when any element is not a string. */
  toStringArray(): string[] | null {
    const out = new Array<string>(this.items.length);
    for (let i = 0; i < this.items.length; i++) {
      const s = unchecked(this.items[i]).asString();
      if (s === null) return null;
      unchecked(out[i] = s);
    }
    return out;
  }

  stringify(): string {
    let out = "[";
    for (let i = 0; i < this.items.length; i++) {
      if (i > 0) out += ",";
      out += unchecked(this.items[i]).stringify();
    }
    return out + "]";
  }
}

/**
 * A JSON object: keys in document order, duplicate keys resolved like
 * JavaScript (the last value wins). The typed getters return the default
 * when the key is missing *or* holds another type; use `get`/`typeOf` to tell
 * the two apart.
 */
export class JsonObject extends JsonValue {
  readonly keys: string[] = new Array<string>();
  private readonly map: Map<string, JsonValue> = new Map<string, JsonValue>();

  constructor() { super(JsonType.Object); }

  get size(): i32 { return this.keys.length; }

  has(key: string): bool { return this.map.has(key); }

  /** The value of `key`, or null when missing. */
  get(key: string): JsonValue | null {
    return this.map.has(key) ? this.map.get(key) : null;
  }

  /** The type of `key`'s value, or -1 when missing. */
  typeOf(key: string): i32 {
    return this.map.has(key) ? <i32>this.map.get(key).type : -1;
  }

  /** Sets `key` (for building JSON; also used by the parser). */
  set(key: string, value: JsonValue): JsonObject {
    if (!this.map.has(key)) this.keys.push(key);
    this.map.set(key, value);
    return this;
  }

  getString(key: string, defaultValue: string = ""): string {
    const v = this.get(key);
    if (v === null) return defaultValue;
    const s = v.asString();
    return s !== null ? s : defaultValue;
  }

  getNumber(key: string, defaultValue: f64 = 0): f64 {
    const v = this.get(key);
    return v === null ? defaultValue : v.asNumber(defaultValue);
  }

  /** An integral number (exact i64); a fractional number gives the default. */
  getInt(key: string, defaultValue: i64 = 0): i64 {
    const v = this.get(key);
    return v === null ? defaultValue : v.asInt(defaultValue);
  }

  getBool(key: string, defaultValue: bool = false): bool {
    const v = this.get(key);
    return v === null ? defaultValue : v.asBool(defaultValue);
  }

  getArray(key: string): JsonArray | null {
    const v = this.get(key);
    return v === null ? null : v.asArray();
  }

  getObject(key: string): JsonObject | null {
    const v = this.get(key);
    return v === null ? null : v.asObject();
  }

  /** An array of strings, or null when missing or when any element is not a string. */
  getStringArray(key: string): string[] | null {
    const a = this.getArray(key);
    return a === null ? null : a.toStringArray();
  }

  stringify(): string {
    let out = "{";
    for (let i = 0; i < this.keys.length; i++) {
      const k = unchecked(this.keys[i]);
      if (i > 0) out += ",";
      out += jsonQuote(k) + ":" + this.map.get(k).stringify();
    }
    return out + "}";
  }
}

/** The outcome of `parseJson`: a value, or an error message and its offset. */
export class JsonParseResult {
  constructor(
    /** The parsed value; null when parsing failed. */
    readonly value: JsonValue | null,
    /** Empty on success; otherwise e.g. `expected ':' at line 1, column 9`. */
    readonly error: string,
    /** Offset (UTF-16 code units) of the error; -1 on success. */
    readonly position: i32,
  ) {}

  get ok(): bool { return this.value !== null; }
}

/** Parses JSON text. Never traps: malformed input gives a result with `error`. */
export function parseJson(text: string): JsonParseResult {
  const p = new JsonParser(text);
  p.skipWs();
  const v = p.parseValue();
  if (v !== null) {
    p.skipWs();
    if (p.pos < text.length) p.fail("unexpected " + p.describeAt(p.pos) + " after the JSON value");
  }
  if (p.error.length > 0) {
    return new JsonParseResult(null, p.error + " at " + lineColumn(text, p.errorPos), p.errorPos);
  }
  return new JsonParseResult(v, "", -1);
}

/**
 * Parses a filter configuration that must be a JSON object. An empty (or
 * all-whitespace) configuration is an empty object. Invalid JSON, or JSON
 * that is not an object, is logged at ERROR and gives null, so
 * `onConfigure` can `return false`.
 */
export function parseConfig(text: string): JsonObject | null {
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    if (!isWs(text.charCodeAt(i))) { blank = false; break; }
  }
  if (blank) return new JsonObject();
  const r = parseJson(text);
  if (!r.ok) {
    log.error("invalid configuration: " + r.error);
    return null;
  }
  const o = r.value!.asObject();
  if (o === null) {
    log.error("invalid configuration: expected a JSON object, got " + jsonTypeName(r.value!.type));
    return null;
  }
  return o;
}

/** `s` as a JSON string literal, with quotes and escapes. */
export function jsonQuote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c == 34 || c == 92) { plain = false; break; }
  }
  if (plain) return "\"" + s + "\"";
  let out = "\"";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 34 && c != 92) continue;
    if (i > from) out += s.substring(from, i);
    from = i + 1;
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c == 10) out += "\\n";
    else if (c == 13) out += "\\r";
    else if (c == 9) out += "\\t";
    else if (c == 8) out += "\\b";
    else if (c == 12) out += "\\f";
    else out += "\\u00" + hexDigit(c >> 4) + hexDigit(c & 15);
  }
  if (from < s.length) out += s.substring(from);
  return out + "\"";
}

function hexDigit(n: i32): string {
  return String.fromCharCode(n < 10 ? 48 + n : 87 + n);
}

// @ts-ignore: decorator
@inline function isWs(c: i32): bool {
  return c == 32 || c == 10 || c == 13 || c == 9;
}

function isDigit(c: i32): bool {
  return c >= 48 && c <= 57;
}

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function lineColumn(text: string, pos: i32): string {
  let line = 1;
  let col = 1;
  const end = min(pos, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) == 10) { line++; col = 1; } else col++;
  }
  return "line " + line.toString() + ", column " + col.toString();
}

class JsonParser {
  pos: i32 = 0;
  error: string = "";
  errorPos: i32 = -1;
  depth: i32 = 0;

  constructor(readonly s: string) {}

  /** Records the first error; returns null so callers can `return this.fail(...)`. */
  fail(message: string): JsonValue | null {
    if (this.error.length == 0) {
      this.error = message;
      this.errorPos = this.pos;
    }
    return null;
  }

  describeAt(i: i32): string {
    if (i >= this.s.length) return "end of input";
    const c = this.s.charCodeAt(i);
    if (c < 0x20) return "control character U+" + c.toString(16).padStart(4, "0");
    return "'" + this.s.charAt(i) + "'";
  }

  @inline peek(): i32 {
    return this.pos < this.s.length ? <i32>load<u16>(changetype<usize>(this.s) + (<usize>this.pos << 1)) : -1;
  }

  skipWs(): void {
    const s = this.s;
    while (this.pos < s.length && isWs(s.charCodeAt(this.pos))) this.pos++;
  }

  parseValue(): JsonValue | null {
    const c = this.peek();
    if (c == 123) return this.parseObject(); // {
    if (c == 91) return this.parseArray(); // [
    if (c == 34) { // "
      const s = this.parseString();
      return s === null ? null : new JsonString(s);
    }
    if (c == 45 || isDigit(c)) return this.parseNumber();
    if (c == 116) return this.literal("true", new JsonBool(true));
    if (c == 102) return this.literal("false", new JsonBool(false));
    if (c == 110) return this.literal("null", new JsonNull());
    return this.fail(c < 0 ? "unexpected end of input" : "unexpected " + this.describeAt(this.pos));
  }

  literal(word: string, value: JsonValue): JsonValue | null {
    const n = word.length;
    if (this.pos + n <= this.s.length && this.s.substr(this.pos, n) == word) {
      this.pos += n;
      return value;
    }
    return this.fail("invalid literal (expected '" + word + "')");
  }

  parseNumber(): JsonValue | null {
    const s = this.s;
    const start = this.pos;
    let negative = false;
    if (this.peek() == 45) { negative = true; this.pos++; }
    const intStart = this.pos;
    let c = this.peek();
    if (c == 48) {
      this.pos++;
      if (isDigit(this.peek())) return this.fail("leading zero in number");
    } else if (isDigit(c)) {
      while (isDigit(this.peek())) this.pos++;
    } else {
      return this.fail("invalid number: expected a digit, got " + this.describeAt(this.pos));
    }
    const intDigits = this.pos - intStart;
    let integral = true;
    if (this.peek() == 46) { // .
      integral = false;
      this.pos++;
      if (!isDigit(this.peek())) return this.fail("invalid number: expected a digit after '.'");
      while (isDigit(this.peek())) this.pos++;
    }
    c = this.peek();
    if (c == 101 || c == 69) { // e E
      integral = false;
      this.pos++;
      c = this.peek();
      if (c == 43 || c == 45) this.pos++;
      if (!isDigit(this.peek())) return this.fail("invalid number: expected a digit in the exponent");
      while (isDigit(this.peek())) this.pos++;
    }
    if (integral && intDigits <= 19) {
      // exact: 19 digits always fit in a u64; then check the i64 range
      let v: u64 = 0;
      for (let i = intStart; i < this.pos; i++) v = v * 10 + <u64>(s.charCodeAt(i) - 48);
      if (!negative && v <= <u64>i64.MAX_VALUE) return new JsonNumber(<f64>v, true, <i64>v);
      if (negative && v <= <u64>i64.MAX_VALUE + 1) {
        const n = <i64>(0 - v);
        return new JsonNumber(v == 0 ? -0.0 : <f64>n, true, n);
      }
    }
    return JsonNumber.fromFloat(parseFloat(s.substring(start, this.pos)));
  }

  /** Parses a string literal at `pos` (which is at the opening quote). */
  parseString(): string | null {
    const s = this.s;
    const base = changetype<usize>(s);
    const n = s.length;
    const open = this.pos;
    let i = open + 1;
    let escapes = false;
    // pass 1: find the closing quote, validate raw characters
    while (true) {
      if (i >= n) {
        this.pos = open;
        this.fail("unterminated string");
        return null;
      }
      const c = <i32>load<u16>(base + (<usize>i << 1));
      if (c == 34) break;
      if (c == 92) { escapes = true; i += 2; continue; }
      if (c < 0x20) {
        this.pos = i;
        this.fail("unescaped control character in string");
        return null;
      }
      i++;
    }
    const close = i;
    if (!escapes) {
      this.pos = close + 1;
      return s.substring(open + 1, close);
    }
    // pass 2: decode escapes into a raw buffer (output is never longer than input)
    const buf = heap.alloc(<usize>(close - open) << 1);
    let o: usize = 0;
    i = open + 1;
    while (i < close) {
      let c = <i32>load<u16>(base + (<usize>i << 1));
      if (c != 92) {
        store<u16>(buf + (o++ << 1), <u16>c);
        i++;
        continue;
      }
      const e = <i32>load<u16>(base + (<usize>(i + 1) << 1));
      i += 2;
      if (e == 34 || e == 92 || e == 47) c = e;
      else if (e == 98) c = 8;
      else if (e == 102) c = 12;
      else if (e == 110) c = 10;
      else if (e == 114) c = 13;
      else if (e == 116) c = 9;
      else if (e == 117) { // uXXXX
        if (i + 4 > close) {
          heap.free(buf);
          this.pos = i - 2;
          this.fail("invalid \\u escape (expected 4 hex digits)");
          return null;
        }
        c = 0;
        for (let k = 0; k < 4; k++) {
          const h = hexValue(<i32>load<u16>(base + (<usize>(i + k) << 1)));
          if (h < 0) {
            heap.free(buf);
            this.pos = i - 2;
            this.fail("invalid \\u escape (expected 4 hex digits)");
            return null;
          }
          c = (c << 4) | h;
        }
        i += 4;
      } else {
        heap.free(buf);
        this.pos = i - 2;
        this.fail("invalid escape '\\" + String.fromCharCode(e) + "'");
        return null;
      }
      store<u16>(buf + (o++ << 1), <u16>c);
    }
    const out = String.UTF16.decodeUnsafe(buf, o << 1);
    heap.free(buf);
    this.pos = close + 1;
    return out;
  }

  parseArray(): JsonValue | null {
    if (++this.depth > JSON_MAX_DEPTH) return this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString());
    this.pos++; // [
    const arr = new JsonArray();
    this.skipWs();
    if (this.peek() == 93) { this.pos++; this.depth--; return arr; }
    while (true) {
      this.skipWs();
      const v = this.parseValue();
      if (v === null) return null;
      arr.items.push(v);
      this.skipWs();
      const c = this.peek();
      if (c == 44) { this.pos++; continue; }
      if (c == 93) { this.pos++; break; }
      return this.fail("expected ',' or ']' in array, got " + this.describeAt(this.pos));
    }
    this.depth--;
    return arr;
  }

  parseObject(): JsonValue | null {
    if (++this.depth > JSON_MAX_DEPTH) return this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString());
    this.pos++; // {
    const obj = new JsonObject();
    this.skipWs();
    if (this.peek() == 125) { this.pos++; this.depth--; return obj; }
    while (true) {
      this.skipWs();
      if (this.peek() != 34) return this.fail("expected a string key, got " + this.describeAt(this.pos));
      const key = this.parseString();
      if (key === null) return null;
      this.skipWs();
      if (this.peek() != 58) return this.fail("expected ':' after key, got " + this.describeAt(this.pos));
      this.pos++;
      this.skipWs();
      const v = this.parseValue();
      if (v === null) return null;
      obj.set(key, v);
      this.skipWs();
      const c = this.peek();
      if (c == 44) { this.pos++; continue; }
      if (c == 125) { this.pos++; break; }
      return this.fail("expected ',' or '}' in object, got " + this.describeAt(this.pos));
    }
    this.depth--;
    return obj;
  }
}
