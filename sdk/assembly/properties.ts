// Properties (Envoy "attributes"): request.*, response.*, source.*, plugin_*,
// node.*, and values other filters set. A path is a list of segments, sent to
// the host joined by NUL bytes (`["request", "headers", "x-id"]`).

import { proxy_get_property, proxy_set_property } from "./imports";
import { Status } from "./enums";
import { RET_PTR, RET_SIZE, clearReturn, takeBuffer, takeString } from "./internal";

/** Serializes a property path: the segments' UTF-8 joined by `\0`, no trailing NUL. */
export function encodePropertyPath(path: string[]): ArrayBuffer {
  const n = path.length;
  if (n == 0) return new ArrayBuffer(0);
  let total = n - 1;
  for (let i = 0; i < n; i++) total += String.UTF8.byteLength(unchecked(path[i]));
  const out = new ArrayBuffer(total); // zero-filled: separators are already NUL
  let at = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const seg = unchecked(path[i]);
    at += String.UTF8.encodeUnsafe(changetype<usize>(seg), seg.length, at) + 1;
  }
  return out;
}

function fetch(path: string[]): bool {
  const p = encodePropertyPath(path);
  clearReturn();
  return proxy_get_property(changetype<usize>(p), p.byteLength, RET_PTR, RET_SIZE) == Status.Ok;
}

/** The raw bytes of a property, or null when the host has no such property. */
export function getProperty(path: string[]): ArrayBuffer | null {
  if (!fetch(path)) return null;
  return takeBuffer();
}

/** A string property (UTF-8), or null when absent. */
export function getPropertyString(path: string[]): string | null {
  if (!fetch(path)) return null;
  return takeString();
}

/**
 * An integer property (8 bytes little-endian, e.g. `response.code`,
 * `request.size`), or `defaultValue` when absent or not 8 bytes.
 */
export function getPropertyInt(path: string[], defaultValue: i64 = 0): i64 {
  const b = getProperty(path);
  if (b === null || b.byteLength != 8) return defaultValue;
  return load<i64>(changetype<usize>(b));
}

/** A boolean property (1 byte), or `defaultValue` when absent or not 1 byte. */
export function getPropertyBool(path: string[], defaultValue: bool = false): bool {
  const b = getProperty(path);
  if (b === null || b.byteLength != 1) return defaultValue;
  return load<u8>(changetype<usize>(b)) != 0;
}

/** Sets a property, readable by later filters of the same stream. */
export function setProperty(path: string[], value: ArrayBuffer): Status {
  const p = encodePropertyPath(path);
  return <Status>proxy_set_property(changetype<usize>(p), p.byteLength, changetype<usize>(value), value.byteLength);
}

/** `setProperty` with a UTF-8 string value. */
export function setPropertyString(path: string[], value: string): Status {
  return setProperty(path, String.UTF8.encode(value));
}
