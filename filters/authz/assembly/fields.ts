// Configuration reading helpers: typed fields with the first error recorded
// together with the JSON path of the offending field (e.g.
// `policies[0].rules[1].from[0].source.ipBlocks[2]`), so onConfigure can log
// exactly what is wrong.

import { JsonArray, JsonObject, JsonType, JsonValue, jsonTypeName } from "wasmesh-sdk";

let firstError: string = "";

/** Records an error (only the first one is kept). Returns false for `return fail(...)`. */
export function fail(path: string, message: string): bool {
  if (firstError.length == 0) firstError = path + ": " + message;
  return false;
}

export function hasError(): bool {
  return firstError.length > 0;
}

/** The recorded error, and clears it. */
export function takeError(): string {
  const e = firstError;
  firstError = "";
  return e;
}

export function resetErrors(): void {
  firstError = "";
}

/** Fails on any key of `obj` not in `allowed`. */
export function checkKeys(obj: JsonObject, allowed: string[], path: string): bool {
  for (let i = 0; i < obj.keys.length; i++) {
    const k = obj.keys[i];
    let known = false;
    for (let j = 0; j < allowed.length; j++) {
      if (allowed[j] == k) { known = true; break; }
    }
    if (!known) return fail(join(path, k), "unknown field (expected one of: " + allowed.join(", ") + ")");
  }
  return true;
}

export function join(path: string, key: string): string {
  return path.length == 0 ? key : path + "." + key;
}

export function index(path: string, i: i32): string {
  return path + "[" + i.toString() + "]";
}

/** A list of strings; missing or null = empty list. Null (and an error) when it is not a list of strings. */
export function stringList(obj: JsonObject, key: string, path: string): string[] | null {
  const v = obj.get(key);
  if (v === null || v.type == JsonType.Null) return new Array<string>();
  const a = v.asArray();
  if (a === null) {
    fail(join(path, key), "expected a list of strings, got " + jsonTypeName(v.type));
    return null;
  }
  const out = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) {
    const s = a.items[i].asString();
    if (s === null) {
      fail(index(join(path, key), i), "expected a string, got " + jsonTypeName(a.items[i].type));
      return null;
    }
    out[i] = s;
  }
  return out;
}

/** An array field; missing or null = empty array. Null (and an error) when not an array. */
export function arrayField(obj: JsonObject, key: string, path: string): JsonArray | null {
  const v = obj.get(key);
  if (v === null || v.type == JsonType.Null) return new JsonArray();
  const a = v.asArray();
  if (a === null) fail(join(path, key), "expected a list, got " + jsonTypeName(v.type));
  return a;
}

/** An object element; null (and an error) when it is not an object. */
export function objectAt(v: JsonValue, path: string): JsonObject | null {
  const o = v.asObject();
  if (o === null) fail(path, "expected an object, got " + jsonTypeName(v.type));
  return o;
}

/** An optional object field; null when missing (no error), null and an error when not an object. */
export function optionalObject(obj: JsonObject, key: string, path: string): JsonObject | null {
  const v = obj.get(key);
  if (v === null || v.type == JsonType.Null) return null;
  return objectAt(v, join(path, key));
}

/** A string field; `def` when missing. Null (and an error) when present but not a string. */
export function stringField(obj: JsonObject, key: string, def: string, path: string): string | null {
  const v = obj.get(key);
  if (v === null || v.type == JsonType.Null) return def;
  const s = v.asString();
  if (s === null) fail(join(path, key), "expected a string, got " + jsonTypeName(v.type));
  return s;
}

/** A boolean field; `def` when missing; records an error when present but not a boolean. */
export function boolField(obj: JsonObject, key: string, def: bool, path: string): bool {
  const v = obj.get(key);
  if (v === null || v.type == JsonType.Null) return def;
  if (v.type != JsonType.Bool) {
    fail(join(path, key), "expected true or false, got " + jsonTypeName(v.type));
    return def;
  }
  return v.asBool(def);
}
