// The VmEnv of a worker: shared data, queues and metrics in the process-wide
// SharedArrayBuffers, HTTP calls through this generation's clusters, timers
// on the event loop, and logs through the proxy's logger.
import { log } from '../log/logger';
import { WasmResult } from '../wasm/abi';
import type { CalloutDispatcher, MetricStore, NodeInfo, SharedDataStore, SharedQueueStore, VmEnv } from '../wasm/env';
import type { WasmSharedState } from '../wasm/shared';
import { Callout } from './callout';
import type { WorkerCluster } from './context';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'error'] as const;

export function sharedStores(shared: WasmSharedState): { sharedData: SharedDataStore; queues: SharedQueueStore; metrics: MetricStore } {
  const qOut = shared.queues.createResult();
  const idOut = { id: 0 };
  const sharedData: SharedDataStore = {
    createResult: () => shared.kv.createResult(),
    get: (key, keyLen, out) => shared.kv.get(key, out, 0, keyLen),
    set: (key, keyLen, value, cas) => shared.kv.set(key, value, cas, 0, keyLen),
  };
  const owners = new Map<number, (id: number) => void>();
  const queues: SharedQueueStore = {
    register(vmId, name, owner) {
      const r = shared.queues.register(vmId, name, idOut);
      if (r !== WasmResult.Ok) return -r;
      owners.set(idOut.id, owner);
      shared.queues.watch(idOut.id, owner);
      return idOut.id;
    },
    resolve(vmId, name) {
      const r = shared.queues.resolve(vmId, name, idOut);
      return r === WasmResult.Ok ? idOut.id : -r;
    },
    enqueue(id, value) {
      return shared.queues.enqueue(id, value);
    },
    dequeue(id, out) {
      const r = shared.queues.dequeue(id, qOut);
      out.status = r;
      return r === WasmResult.Ok ? Buffer.from(qOut.value.subarray(0, qOut.length)) : null;
    },
    unregister(id, owner) {
      if (owners.get(id) !== owner) return;
      owners.delete(id);
      shared.queues.unwatch(id);
    },
  };
  const metrics: MetricStore = {
    define(type, name) {
      const r = shared.metrics.define(type, name, idOut);
      return r === WasmResult.Ok ? idOut.id : -r;
    },
    increment: (id, delta) => shared.metrics.increment(id, delta),
    record: (id, value) => shared.metrics.record(id, value),
    get: (id, out) => shared.metrics.get(id, out),
  };
  return { sharedData, queues, metrics };
}

/** HTTP calls through the clusters of one config generation. */
export function clusterCallouts(clusters: ReadonlyMap<string, WorkerCluster>): CalloutDispatcher {
  return {
    dispatch(cluster, headers, body, timeoutMs, done) {
      const c = clusters.get(cluster);
      if (c === undefined) return WasmResult.NotFound;
      return new Callout(c, headers, body, timeoutMs, done).start();
    },
  };
}

export function workerVmEnv(
  stores: { sharedData: SharedDataStore; queues: SharedQueueStore; metrics: MetricStore },
  callouts: CalloutDispatcher,
  node: NodeInfo,
): VmEnv {
  return {
    ...stores,
    callouts,
    node,
    log(level, plugin, message) {
      log(LEVELS[level] ?? 'info', `[filter ${plugin}] ${message}`);
    },
    setTimer: (ms, cb) => setInterval(cb, ms),
    clearTimer: (h) => clearInterval(h as NodeJS.Timeout),
    now: () => performance.timeOrigin + performance.now(),
  };
}
