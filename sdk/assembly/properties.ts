// Properties (Envoy "attributes"): request.*, response.*, source.*, plugin_*,
// node.*, and values other filters set. A path is a list of segments, sent to
// the host joined by NUL bytes (`["request", "headers", "x-id"]`).

import { proxy_get_property, proxy_set_property } from "./imports";
import { Status } from "./enums";
import { RET_PTR, RET_SIZE, clearReturn, dropReturned, encodeValue, nameSize, reserveName, takeBuffer, takeString, valueSize } from "./internal";

/** Bytes of a serialized path: the segments' UTF-8 and a NUL between each two. */
function pathSize(path: string[]): usize {
  const n = path.length;
  if (n == 0) return 0;
  let total = <usize>(n - 1);
  for (let i = 0; i < n; i++) total += <usize>String.UTF8.byteLength(unchecked(path[i]));
  return total;
}

/** Writes the segments at `at` (zero-filled memory of pathSize(path) bytes: the separators are already NUL). */
function writePath(path: string[], at: usize): void {
  for (let i = 0; i < path.length; i++) {
    const seg = unchecked(path[i]);
    at += String.UTF8.encodeUnsafe(changetype<usize>(seg), seg.length, at) + 1;
  }
}

/** Serializes a property path: the segments' UTF-8 joined by `\0`, no trailing NUL. */
export function encodePropertyPath(path: string[]): ArrayBuffer {
  const out = new ArrayBuffer(<i32>pathSize(path));
  writePath(path, changetype<usize>(out));
  return out;
}

/** The serialized path in the name slot (no allocation); returns the pointer, nameSize() the length. */
function pathInScratch(path: string[]): usize {
  const p = reserveName(pathSize(path));
  writePath(path, p);
  return p;
}

function fetch(path: string[]): bool {
  const p = pathInScratch(path);
  clearReturn();
  return proxy_get_property(p, nameSize(), RET_PTR, RET_SIZE) == Status.Ok;
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
  if (!fetch(path)) return defaultValue;
  const v = load<u32>(RET_SIZE) == 8 ? load<i64>(load<usize>(RET_PTR)) : defaultValue;
  dropReturned();
  return v;
}

/** A boolean property (1 byte), or `defaultValue` when absent or not 1 byte. */
export function getPropertyBool(path: string[], defaultValue: bool = false): bool {
  if (!fetch(path)) return defaultValue;
  const v = load<u32>(RET_SIZE) == 1 ? load<u8>(load<usize>(RET_PTR)) != 0 : defaultValue;
  dropReturned();
  return v;
}

/** Sets a property, readable by later filters of the same stream. */
export function setProperty(path: string[], value: ArrayBuffer): Status {
  const p = pathInScratch(path);
  return <Status>proxy_set_property(p, nameSize(), changetype<usize>(value), value.byteLength);
}

/** `setProperty` with a UTF-8 string value. */
export function setPropertyString(path: string[], value: string): Status {
  const p = pathInScratch(path);
  const v = encodeValue(value);
  return <Status>proxy_set_property(p, nameSize(), v, valueSize());
}
