// Typed access to the JSON configuration that records every problem with the
// JSON path it is at ("virtualHosts[0].routes[2].match.regex: ..."), so an
// operator sees all the mistakes of a config at once.

import { JsonArray, JsonObject, JsonType, JsonValue, jsonQuote, jsonTypeName } from "wasmesh-sdk";

export class Problems {
  readonly list: string[] = new Array<string>();

  add(path: string, message: string): void {
    this.list.push((path.length > 0 ? path : "(top level)") + ": " + message);
  }

  get ok(): bool {
    return this.list.length == 0;
  }
}

export function child(path: string, key: string): string {
  return path.length == 0 ? key : path + "." + key;
}

export function index(path: string, i: i32): string {
  return path + "[" + i.toString() + "]";
}

function describe(v: JsonValue): string {
  return jsonTypeName(v.type);
}

/** Reports keys of `o` not in `allowed` (a typo must not silently widen a match). */
export function checkKeys(o: JsonObject, path: string, allowed: string[], p: Problems): void {
  for (let i = 0; i < o.keys.length; i++) {
    const k = o.keys[i];
    if (!allowed.includes(k)) {
      p.add(child(path, k), "unknown field (expected one of: " + allowed.join(", ") + ")");
    }
  }
}

/** A string field; null when absent (reported if required) or not a string (reported). */
export function getString(o: JsonObject, key: string, path: string, p: Problems, required: bool, nonEmpty: bool = true): string | null {
  const v = o.get(key);
  if (v === null) {
    if (required) p.add(child(path, key), "required");
    return null;
  }
  const s = v.asString();
  if (s === null) {
    p.add(child(path, key), "expected a string, got " + describe(v));
    return null;
  }
  if (nonEmpty && s.length == 0) {
    p.add(child(path, key), "must not be empty");
    return null;
  }
  return s;
}

/**
 * An integer field in [min, max]; `absent` when missing, -1 after a reported
 * problem (so min must be >= 0).
 */
export function getInt(o: JsonObject, key: string, path: string, p: Problems, absent: i64, min: i64, max: i64): i64 {
  const v = o.get(key);
  if (v === null) return absent;
  if (v.type != JsonType.Number) {
    p.add(child(path, key), "expected an integer, got " + describe(v));
    return -1;
  }
  const n = v.asInt(-1);
  const f = v.asNumber(0);
  if (n == -1 && f != -1) {
    p.add(child(path, key), "expected an integer, got " + f.toString());
    return -1;
  }
  if (n < min || n > max) {
    p.add(child(path, key), "must be between " + min.toString() + " and " + max.toString() + ", got " + n.toString());
    return -1;
  }
  return n;
}

/** A boolean field: 1 true, 0 false, `absent` when missing, -1 after a reported problem. */
export function getBool(o: JsonObject, key: string, path: string, p: Problems, absent: i32): i32 {
  const v = o.get(key);
  if (v === null) return absent;
  if (v.type != JsonType.Bool) {
    p.add(child(path, key), "expected true or false, got " + describe(v));
    return -1;
  }
  return v.asBool() ? 1 : 0;
}

export function getObject(o: JsonObject, key: string, path: string, p: Problems, required: bool): JsonObject | null {
  const v = o.get(key);
  if (v === null) {
    if (required) p.add(child(path, key), "required");
    return null;
  }
  const r = v.asObject();
  if (r === null) p.add(child(path, key), "expected an object, got " + describe(v));
  return r;
}

export function getArray(o: JsonObject, key: string, path: string, p: Problems, required: bool): JsonArray | null {
  const v = o.get(key);
  if (v === null) {
    if (required) p.add(child(path, key), "required");
    return null;
  }
  const r = v.asArray();
  if (r === null) p.add(child(path, key), "expected an array, got " + describe(v));
  return r;
}

/** Element `i` of an array as an object, or null (reported). */
export function objectAt(a: JsonArray, i: i32, path: string, p: Problems): JsonObject | null {
  const v = a.at(i)!;
  const o = v.asObject();
  if (o === null) p.add(index(path, i), "expected an object, got " + describe(v));
  return o;
}

/** An array of strings, or null (reported when present and malformed). */
export function getStringList(o: JsonObject, key: string, path: string, p: Problems, required: bool): string[] | null {
  const a = getArray(o, key, path, p, required);
  if (a === null) return null;
  const out = new Array<string>();
  let good = true;
  for (let i = 0; i < a.length; i++) {
    const v = a.at(i)!;
    const s = v.asString();
    if (s === null) {
      p.add(index(child(path, key), i), "expected a string, got " + describe(v));
      good = false;
    } else if (s.length == 0) {
      p.add(index(child(path, key), i), "must not be empty");
      good = false;
    } else {
      out.push(s);
    }
  }
  return good ? out : null;
}

/** How many of `keys` `o` has. */
export function countPresent(o: JsonObject, keys: string[]): i32 {
  let n = 0;
  for (let i = 0; i < keys.length; i++) if (o.has(keys[i])) n++;
  return n;
}

export function quote(s: string): string {
  return jsonQuote(s);
}
