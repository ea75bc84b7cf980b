// Bodies and other host buffers (request/response body, HTTP-call response
// body, configuration, foreign-function arguments).

import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "./imports";
import { BufferType, Status } from "./enums";
import {
  RET_AUX, RET_PTR, RET_SIZE, activate, clearReturn, clearSizeHint, sizeHint, takeBuffer, takeString,
} from "./internal";

/** Past any buffer's end: `set_buffer_bytes` appends there, and drains up to it (Go SDK convention). */
const END: u32 = <u32>i32.MAX_VALUE;

/**
 * A body (or other host buffer) of the current stream. Every method is one
 * host call; inside `onRequestBody`/`onResponseBody` and HTTP-call responses
 * the size is already known, so `size` and `readAll()` need no extra call.
 *
 * What the buffer holds is the host's: in a body callback that returned
 * `Action.Pause`, the host keeps buffering and the next call sees everything
 * received so far.
 */
export class Body {
  /**
   * @param bufferType which buffer (`BufferType.HttpRequestBody`, ...)
   * @param contextId the stream it belongs to; 0 = whatever context is effective
   */
  constructor(readonly bufferType: BufferType, readonly contextId: u32 = 0) {}

  /** Current size in bytes (0 when the buffer does not exist). */
  get size(): u32 {
    const hint = sizeHint(this.bufferType, this.contextId);
    if (hint >= 0) return <u32>hint;
    activate(this.contextId);
    store<u32>(RET_SIZE, 0);
    if (proxy_get_buffer_status(this.bufferType, RET_SIZE, RET_AUX) != Status.Ok) return 0;
    return load<u32>(RET_SIZE);
  }

  /** Up to `length` bytes from `start`; empty when out of range or absent. */
  read(start: u32, length: u32): ArrayBuffer {
    activate(this.contextId);
    clearReturn();
    if (length == 0) return new ArrayBuffer(0);
    if (proxy_get_buffer_bytes(this.bufferType, start, length, RET_PTR, RET_SIZE) != Status.Ok) {
      return new ArrayBuffer(0);
    }
    return takeBuffer();
  }

  /** The whole buffer. */
  readAll(): ArrayBuffer {
    return this.read(0, this.size);
  }

  /** The whole buffer decoded as UTF-8. */
  readString(): string {
    const n = this.size;
    if (n == 0) return "";
    activate(this.contextId);
    clearReturn();
    if (proxy_get_buffer_bytes(this.bufferType, 0, n, RET_PTR, RET_SIZE) != Status.Ok) return "";
    return takeString();
  }

  /** Replaces the whole content with `data`. */
  replace(data: ArrayBuffer): Status {
    return this.setBytes(0, END, data);
  }

  /** Appends `data` at the end. */
  append(data: ArrayBuffer): Status {
    return this.setBytes(END, 0, data);
  }

  /** Inserts `data` at the start. */
  prepend(data: ArrayBuffer): Status {
    return this.setBytes(0, 0, data);
  }

  /** `replace` with a UTF-8 string. */
  replaceString(text: string): Status {
    return this.replace(String.UTF8.encode(text));
  }

  /** `append` with a UTF-8 string. */
  appendString(text: string): Status {
    return this.append(String.UTF8.encode(text));
  }

  /** `prepend` with a UTF-8 string. */
  prependString(text: string): Status {
    return this.prepend(String.UTF8.encode(text));
  }

  private setBytes(start: u32, size: u32, data: ArrayBuffer): Status {
    activate(this.contextId);
    if (sizeHint(this.bufferType, this.contextId) >= 0) clearSizeHint(); // the size changes
    return <Status>proxy_set_buffer_bytes(this.bufferType, start, size, changetype<usize>(data), data.byteLength);
  }
}

/** Reads `size` bytes of a buffer as UTF-8 (configuration buffers). Internal. */
export function readBufferString(bufferType: BufferType, size: u32): string {
  if (size == 0) return "";
  clearReturn();
  if (proxy_get_buffer_bytes(bufferType, 0, size, RET_PTR, RET_SIZE) != Status.Ok) return "";
  return takeString();
}

/** Reads `size` bytes of a buffer (foreign-function arguments). Internal. */
export function readBufferBytes(bufferType: BufferType, size: u32): ArrayBuffer {
  if (size == 0) return new ArrayBuffer(0);
  clearReturn();
  if (proxy_get_buffer_bytes(bufferType, 0, size, RET_PTR, RET_SIZE) != Status.Ok) return new ArrayBuffer(0);
  return takeBuffer();
}
