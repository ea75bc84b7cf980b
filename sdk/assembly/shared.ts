// Shared data (a key-value store shared by every VM with the same vm_id, with
// compare-and-swap) and shared queues (`onQueueReady` on the consumer's root).

import {
  proxy_dequeue_shared_queue, proxy_enqueue_shared_queue, proxy_get_shared_data,
  proxy_register_shared_queue, proxy_resolve_shared_queue, proxy_set_shared_data,
} from "./imports";
import { Status } from "./enums";
import { RET_AUX, RET_PTR, RET_SIZE, clearReturn, encodeName, nameSize, takeBuffer, takeString } from "./internal";

/** A shared-data value and its CAS token. */
export class SharedValue {
  constructor(public data: ArrayBuffer, public cas: u32) {}

  /** The value decoded as UTF-8. */
  toString(): string {
    return String.UTF8.decode(this.data);
  }
}

/** The VM-wide key-value store. */
export class SharedData {
  /** The value of `key` and its CAS token, or null when absent. */
  static get(key: string): SharedValue | null {
    const k = encodeName(key);
    clearReturn();
    store<u32>(RET_AUX, 0);
    const st = proxy_get_shared_data(k, nameSize(), RET_PTR, RET_SIZE, RET_AUX);
    if (st != Status.Ok) return null;
    const cas = load<u32>(RET_AUX);
    return new SharedValue(takeBuffer(), cas);
  }

  /** The value of `key` as a UTF-8 string, or null when absent. */
  static getString(key: string): string | null {
    const k = encodeName(key);
    clearReturn();
    const st = proxy_get_shared_data(k, nameSize(), RET_PTR, RET_SIZE, RET_AUX);
    if (st != Status.Ok) return null;
    return takeString();
  }

  /**
   * Stores `value` under `key`. With `cas` 0 the write is unconditional;
   * otherwise it succeeds only if the stored CAS still equals `cas`, else
   * returns `Status.CasMismatch` (read again and retry).
   */
  static set(key: string, value: ArrayBuffer, cas: u32 = 0): Status {
    const k = encodeName(key);
    return <Status>proxy_set_shared_data(k, nameSize(), changetype<usize>(value), value.byteLength, cas);
  }

  /** `set` with a UTF-8 string value. */
  static setString(key: string, value: string, cas: u32 = 0): Status {
    return SharedData.set(key, String.UTF8.encode(value), cas);
  }
}

/** A shared queue, by id. Register it in the consumer, resolve it in producers. */
export class SharedQueue {
  constructor(readonly id: u32) {}

  /**
   * Creates (or returns) the queue `name` owned by this VM; the current root
   * context's `onQueueReady(id)` runs when items arrive. Null on failure.
   */
  static register(name: string): SharedQueue | null {
    const n = String.UTF8.encode(name);
    store<u32>(RET_SIZE, 0);
    if (proxy_register_shared_queue(changetype<usize>(n), n.byteLength, RET_SIZE) != Status.Ok) return null;
    return new SharedQueue(load<u32>(RET_SIZE));
  }

  /** Finds the queue `name` registered by the VM `vmId`, or null. */
  static resolve(vmId: string, name: string): SharedQueue | null {
    const v = String.UTF8.encode(vmId);
    const n = String.UTF8.encode(name);
    store<u32>(RET_SIZE, 0);
    const st = proxy_resolve_shared_queue(changetype<usize>(v), v.byteLength, changetype<usize>(n), n.byteLength, RET_SIZE);
    if (st != Status.Ok) return null;
    return new SharedQueue(load<u32>(RET_SIZE));
  }

  /** Adds an item. */
  enqueue(data: ArrayBuffer): Status {
    return <Status>proxy_enqueue_shared_queue(this.id, changetype<usize>(data), data.byteLength);
  }

  /** Adds a UTF-8 string item. */
  enqueueString(data: string): Status {
    return this.enqueue(String.UTF8.encode(data));
  }

  /** Takes the oldest item, or null when the queue is empty (or gone). */
  dequeue(): ArrayBuffer | null {
    clearReturn();
    if (proxy_dequeue_shared_queue(this.id, RET_PTR, RET_SIZE) != Status.Ok) return null;
    return takeBuffer();
  }

  /** `dequeue` decoded as UTF-8. */
  dequeueString(): string | null {
    clearReturn();
    if (proxy_dequeue_shared_queue(this.id, RET_PTR, RET_SIZE) != Status.Ok) return null;
    return takeString();
  }
}
