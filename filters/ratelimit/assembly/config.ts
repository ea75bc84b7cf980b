// The ratelimit configuration: descriptors (what a bucket is keyed by and how
// fast it refills) and the failure mode. Documented in ../README.md.

import { JsonObject, JsonType, jsonTypeName, parseConfig } from "wasmesh-sdk";

export const enum KeyKind {
  Header = 0,
  Path = 1,
  SourceIp = 2,
  Const = 3,
}

export class Descriptor {
  kind: KeyKind = KeyKind.Const;
  /** The key as configured ("header:x-api-key"), for logs and the shared-data key. */
  keyText: string = "";
  /** The header name (lowercase) or the constant value. */
  arg: string = "";
  requestsPerUnit: i64 = 0;
  unit: string = "second";
  unitMs: f64 = 1000;
  burst: i64 = 0;
  /** requestsPerUnit as f64: tokens added per `unitMs`. */
  rate: f64 = 0;
  /** Identifies this bucket family in shared data: key, rate and burst. */
  id: string = "";
  /** The shared-data key of a Const descriptor (set after parsing). */
  constKey: string = "";
}

export class RateLimitConfig {
  descriptors: Descriptor[] = [];
  failOpen: bool = false;
}

let error: string = "";

/** The error of the last failed `parseRateLimitConfig`. */
export function lastConfigError(): string {
  return error;
}

function fail(path: string, message: string): RateLimitConfig | null {
  error = path + ": " + message;
  return null;
}

function unknownKey(o: JsonObject, allowed: string[], path: string): string | null {
  for (let i = 0; i < o.keys.length; i++) {
    if (!allowed.includes(o.keys[i])) {
      const prefix: string = path.length > 0 ? path + "." : "";
      return prefix + o.keys[i];
    }
  }
  return null;
}

const TOP_FIELDS: string[] = ["descriptors", "failOpen"];
const DESCRIPTOR_FIELDS: string[] = ["key", "requestsPerUnit", "unit", "burst"];

/** A positive integer field: the value, 0 when missing (use the default), -1 when invalid. */
function positiveInt(o: JsonObject, key: string): i64 {
  const v = o.get(key);
  if (v === null || v.type == JsonType.Null) return 0;
  const n = v.asInt(-1);
  return n >= 1 && n <= 1_000_000_000 ? n : -1;
}

export function parseRateLimitConfig(text: string): RateLimitConfig | null {
  error = "";
  const root = parseConfig(text);
  if (root === null) return fail("config", "not a JSON object");
  const unknown = unknownKey(root, TOP_FIELDS, "");
  if (unknown !== null) return fail(unknown, "unknown field (expected descriptors, failOpen)");
  const cfg = new RateLimitConfig();
  const fo = root.get("failOpen");
  if (fo !== null && fo.type != JsonType.Null) {
    if (fo.type != JsonType.Bool) return fail("failOpen", "expected true or false, got " + jsonTypeName(fo.type));
    cfg.failOpen = fo.asBool(false);
  }
  const list = root.getArray("descriptors");
  if (list === null) {
    return fail("descriptors", root.has("descriptors") ? "expected a list" : "required (a list of {key, requestsPerUnit, unit, burst})");
  }
  if (list.length == 0) return fail("descriptors", "must not be empty");
  for (let i = 0; i < list.length; i++) {
    const path = "descriptors[" + i.toString() + "]";
    const o = list.items[i].asObject();
    if (o === null) return fail(path, "expected an object");
    const bad = unknownKey(o, DESCRIPTOR_FIELDS, path);
    if (bad !== null) return fail(bad, "unknown field (expected key, requestsPerUnit, unit, burst)");
    const d = new Descriptor();

    const key = o.getString("key", "");
    if (key.length == 0) return fail(path + ".key", "required: header:NAME, path, source_ip or const:VALUE");
    d.keyText = key;
    if (key.startsWith("header:")) {
      d.kind = KeyKind.Header;
      d.arg = key.substring(7).toLowerCase();
      if (d.arg.length == 0) return fail(path + ".key", "header: needs a header name");
    } else if (key.startsWith("const:")) {
      d.kind = KeyKind.Const;
      d.arg = key.substring(6);
      if (d.arg.length == 0) return fail(path + ".key", "const: needs a value");
    } else if (key == "path") {
      d.kind = KeyKind.Path;
    } else if (key == "source_ip") {
      d.kind = KeyKind.SourceIp;
    } else {
      return fail(path + ".key", "unknown key \"" + key + "\" (expected header:NAME, path, source_ip or const:VALUE)");
    }

    const rpu = positiveInt(o, "requestsPerUnit");
    if (rpu <= 0) return fail(path + ".requestsPerUnit", rpu == 0 ? "required" : "expected an integer from 1 to 1000000000");
    d.requestsPerUnit = rpu;

    const unitValue = o.get("unit");
    if (unitValue !== null && unitValue.type != JsonType.Null) {
      const u = unitValue.asString();
      if (u === null) return fail(path + ".unit", "expected second, minute, hour or day");
      d.unit = u;
    }
    if (d.unit == "second") d.unitMs = 1000;
    else if (d.unit == "minute") d.unitMs = 60_000;
    else if (d.unit == "hour") d.unitMs = 3_600_000;
    else if (d.unit == "day") d.unitMs = 86_400_000;
    else return fail(path + ".unit", "unknown unit \"" + d.unit + "\" (expected second, minute, hour or day)");

    const burst = positiveInt(o, "burst");
    if (burst < 0) return fail(path + ".burst", "expected an integer from 1 to 1000000000");
    d.burst = burst == 0 ? rpu : burst;

    d.rate = <f64>rpu;
    d.id = key + "|" + rpu.toString() + "/" + d.unit + "/" + d.burst.toString();
    cfg.descriptors.push(d);
  }
  return cfg;
}
