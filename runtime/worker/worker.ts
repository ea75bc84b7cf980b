// A worker: owns uWS apps and upstream pools for its share of the traffic.
// Config generations arrive in two phases (prepare, then commit or abort) so
// that the proxy switches only when every worker could build it. The same
// code runs in a worker thread (worker-thread.ts) or, for the one-worker
// sidecar shape, in the main thread over a MessageChannel.
import type { MessagePort } from 'node:worker_threads';
import type { ListenerConfig } from '../config/types';
import { AccessLog } from '../log/access-log';
import { log, setLogLevel, setLogPrefix } from '../log/logger';
import { workerView } from '../stats/layout';
import { buildCluster } from './cluster-runtime';
import type { ListenerRuntime, WorkerCluster, WorkerState } from './context';
import { ListenerHost } from './listener-host';
import type { FromWorker, GenerationSpec, ToWorker, WorkerInit } from './messages';
import type { HttpFilterFactory } from '../filter/types';
import type { WasmFilterSlots } from '../stats/declared';
import { WasmFilterFactory } from '../wasm/factory';
import { attachWasmSharedState } from '../wasm/shared';
import { clusterCallouts, sharedStores, workerVmEnv } from './wasm-env';

interface Generation {
  gen: number;
  runtimes: Map<string, ListenerRuntime>;
  clusters: Map<string, WorkerCluster>;
  accessLog: AccessLog | null;
  /** Hosts created for this generation and not yet serving. */
  newHosts: Map<string, ListenerHost>;
  /** Every Wasm filter of this generation, closed when it is replaced. */
  factories: WasmFilterFactory[];
}

export function runWorker(port: MessagePort, init: WorkerInit, inProcess: boolean): void {
  const stats = workerView(init.statsSab, init.index);
  const wasmShared = attachWasmSharedState(init.wasmShared);
  const stores = sharedStores(wasmShared);
  const worker: WorkerState = { draining: false, active: 0, onIdle: null };
  const hosts = new Map<string, ListenerHost>();
  /** Hosts a reload moved away from: no longer listening, but their keep-alive connections may live on. */
  const retired: ListenerHost[] = [];
  let current: Generation | null = null;
  let prepared: Generation | null = null;
  let faults = 0;
  if (!inProcess) setLogPrefix(`worker ${init.index}`);

  function send(m: FromWorker): void {
    port.postMessage(m);
  }

  /** Same name and address keeps the socket; anything else is a new host. */
  function hostKey(l: ListenerConfig): string {
    return `${l.name}@${l.address.host}:${l.address.port}`;
  }

  function prepare(spec: GenerationSpec): void {
    setLogLevel(spec.config.logLevel);
    if (prepared !== null) abort(prepared.gen);
    const clusters = new Map<string, WorkerCluster>();
    // Unchanged clusters keep their pools, so a reload does not drop warm connections.
    for (const c of spec.config.clusters) {
      const old = current?.clusters.get(c.name);
      if (old !== undefined && JSON.stringify(old.config) === JSON.stringify(c)) clusters.set(c.name, old);
      else clusters.set(c.name, buildCluster(c, spec.clusterSlots[c.name]!, spec.clusterState[c.name]!, stats));
    }
    let accessLog: AccessLog | null = null;
    const g: Generation = { gen: spec.gen, runtimes: new Map(), clusters, accessLog: null, newHosts: new Map(), factories: [] };
    const env = workerVmEnv(stores, clusterCallouts(clusters), init.node);
    try {
      if (spec.config.accessLog) accessLog = new AccessLog(spec.config.accessLog.path);
      g.accessLog = accessLog;
      for (const l of spec.config.listeners) {
        const filters: HttpFilterFactory[] = [];
        const filterStats = new Map<string, WasmFilterSlots>();
        for (const fs of spec.filters[l.name] ?? []) {
          const f = new WasmFilterFactory(fs.spec, env, stats, fs.slots);
          g.factories.push(f);
          f.start();
          filters.push(f);
          filterStats.set(fs.spec.name, fs.slots);
        }
        const rt: ListenerRuntime = {
          name: l.name,
          config: l,
          slots: spec.listenerSlots[l.name]!,
          filters,
          filterStats,
          clusters,
          accessLog,
          stats,
          worker,
        };
        g.runtimes.set(hostKey(l), rt);
      }
    } catch (e) {
      accessLog?.close();
      for (const f of g.factories) f.close();
      return send({ type: 'prepared', gen: spec.gen, error: (e as Error).message });
    }
    prepared = g;
    // Open sockets for new addresses now; they serve only after commit swaps runtimes in.
    const unopened = [...g.runtimes].filter(([k]) => !hosts.has(k));
    let left = unopened.length;
    let failed: string | null = null;
    if (left === 0) return send({ type: 'prepared', gen: spec.gen, error: null });
    for (const [k, rt] of unopened) {
      const h = new ListenerHost(rt);
      g.newHosts.set(k, h);
      h.listen((err) => {
        if (err) failed ??= `listener ${rt.name}: ${err}`;
        if (--left === 0) send({ type: 'prepared', gen: spec.gen, error: failed });
      });
    }
  }

  function commit(gen: number): void {
    const g = prepared;
    if (g === null || g.gen !== gen) return;
    prepared = null;
    const old = current;
    for (const [k, rt] of g.runtimes) {
      const h = hosts.get(k);
      if (h !== undefined) h.runtime = rt;
    }
    for (const [k, h] of g.newHosts) hosts.set(k, h);
    for (const [k, h] of hosts) {
      if (!g.runtimes.has(k)) {
        h.stopListening();
        hosts.delete(k);
        retired.push(h);
      }
    }
    current = g;
    if (old !== null) {
      for (const [name, c] of old.clusters) if (g.clusters.get(name) !== c) c.retire();
      if (old.accessLog !== null && old.accessLog !== g.accessLog) old.accessLog.close();
      // In-flight streams keep their filters; each VM finishes closing when its last stream ends.
      for (const f of old.factories) f.close();
    }
    send({ type: 'committed', gen });
  }

  function abort(gen: number): void {
    const g = prepared;
    if (g === null || g.gen !== gen) return;
    prepared = null;
    for (const h of g.newHosts.values()) h.close();
    for (const f of g.factories) f.close();
    for (const [name, c] of g.clusters) if (current?.clusters.get(name) !== c) c.retire();
    g.accessLog?.close();
  }

  function drain(): void {
    worker.draining = true;
    for (const h of hosts.values()) h.stopListening();
    const done = () => {
      worker.onIdle = null;
      send({ type: 'drained' });
    };
    if (worker.active === 0) done();
    else worker.onIdle = done;
  }

  /** Close every socket this worker holds before it may exit: a worker that exits holding uWS sockets aborts the process. */
  let closed = false;
  function shutdown(): void {
    if (closed) return send({ type: 'closed' });
    closed = true;
    // Every uWS socket must be closed before the thread may end.
    for (const h of hosts.values()) h.close();
    for (const h of retired.splice(0)) h.close();
    hosts.clear();
    if (current !== null) {
      for (const c of current.clusters.values()) c.retire();
      current.accessLog?.close();
      for (const f of current.factories) f.close();
    }
    wasmShared.queues.close();
    send({ type: 'closed' });
  }

  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'prepare':
          return prepare(m.spec);
        case 'commit':
          return commit(m.gen);
        case 'abort':
          return abort(m.gen);
        case 'drain':
          return drain();
        case 'shutdown':
          return shutdown();
      }
    } catch (e) {
      log('error', `control message ${m.type} failed: ${(e as Error).stack}`);
      if (m.type === 'prepare') send({ type: 'prepared', gen: m.spec.gen, error: (e as Error).message });
    }
  });

  // Last line of defence: an exception escaping a socket callback must not kill
  // the thread. Report it; after repeated faults, shut down in order so the main
  // thread can replace this worker cleanly.
  process.on('uncaughtException', (e) => {
    faults++;
    log('error', `uncaught exception (${faults}): ${e.stack ?? e}`);
    send({ type: 'fault', message: String(e.message ?? e) });
    if (faults >= 100 && !inProcess) shutdown();
  });
}
