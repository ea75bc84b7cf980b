// The host emulator: loads any proxy-wasm module into the real wasmesh host
// (same loader, VM and host functions as the proxy) with an in-memory
// environment: a virtual clock, HTTP calls the test answers, and the real
// shared-data, queue and metric stores. A filter is unit-tested without a proxy.
import { readFileSync } from 'node:fs';
import { WasmLoadError } from '../../runtime/core/errors';
import { configurationBytes } from '../../runtime/main/filter-specs';
import { WasmResult } from '../../runtime/wasm/abi';
import type { CalloutResponse, VmEnv } from '../../runtime/wasm/env';
import { WasmFilterFactory } from '../../runtime/wasm/factory';
import { compileModule } from '../../runtime/wasm/loader';
import { LOG_LEVELS, type FailurePolicy, type PluginSpec } from '../../runtime/wasm/plugin';
import { createWasmSharedState, type MetricSnapshot } from '../../runtime/wasm/shared';
import { wasmFilterSlots, type WasmFilterSlots } from '../../runtime/stats/declared';
import { StatsLayout } from '../../runtime/stats/layout';
import { sharedStores } from '../../runtime/worker/wasm-env';
import { EmulatedStream } from './emulated-stream';

export interface EmulatorOptions {
  /** Filter name (plugin_name); default "filter". */
  name?: string;
  /** proxy-wasm root_id; default the name. */
  rootId?: string;
  vmId?: string;
  /** PLUGIN_CONFIGURATION: a string verbatim, anything else as JSON. */
  config?: unknown;
  failurePolicy?: FailurePolicy;
  executionBudget?: number;
  maxMemoryBytes?: number;
  maxBufferedBody?: number;
  logLevel?: keyof typeof LOG_LEVELS;
  /** Cluster names the filter may route to or call; any name when omitted. */
  clusters?: string[];
  node?: { id?: string; metadata?: Record<string, string> };
}

export interface LogEntry {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';
  message: string;
}

/** An HTTP call the filter made; the test answers it. */
export interface EmulatedCall {
  cluster: string;
  headers: [string, string][];
  body: Buffer;
  timeoutMs: number;
  respond(status: number, headers?: Record<string, string>, body?: string | Buffer): void;
  /** The call fails (no response), as on a timeout or reset. */
  fail(): void;
}

const LEVEL_NAMES: LogEntry['level'][] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

export class Emulator {
  readonly logs: LogEntry[] = [];
  readonly calls: EmulatedCall[] = [];
  private clock = Date.now();
  private readonly timers: { at: number; every: number; cb: () => void; live: boolean }[] = [];
  private readonly shared = createWasmSharedState({ kv: { slots: 1024 } });
  private readonly stats: Float64Array;
  private readonly slots: WasmFilterSlots;
  private readonly layout = new StatsLayout();
  private nextStream = 1;
  readonly factory: WasmFilterFactory;

  private constructor(spec: PluginSpec, private readonly clusters: ReadonlySet<string> | null, node: { id: string; metadata: Record<string, string> }) {
    this.slots = wasmFilterSlots(this.layout, 'emulator', spec.name);
    this.stats = new Float64Array(4096);
    const env: VmEnv = {
      ...sharedStores(this.shared),
      node,
      callouts: {
        dispatch: (cluster, headers, body, timeoutMs, done) => {
          if (this.clusters !== null && !this.clusters.has(cluster)) return WasmResult.NotFound;
          let answered = false;
          const answer = (r: CalloutResponse): void => {
            if (answered) return;
            answered = true;
            done(r);
          };
          this.calls.push({
            cluster,
            headers,
            body,
            timeoutMs,
            respond: (status, h = {}, b = '') => answer({ status, headers: Object.entries(h), body: Buffer.from(b) }),
            fail: () => answer({ status: 0, headers: [], body: Buffer.alloc(0) }),
          });
          return WasmResult.Ok;
        },
      },
      log: (level, _plugin, message) => void this.logs.push({ level: LEVEL_NAMES[level] ?? 'info', message }),
      setTimer: (ms, cb) => {
        const t = { at: this.clock + ms, every: ms, cb, live: true };
        this.timers.push(t);
        return t;
      },
      clearTimer: (h) => void ((h as { live: boolean }).live = false),
      now: () => this.clock,
    };
    this.factory = new WasmFilterFactory(spec, env, this.stats, this.slots);
  }

  /** Compiles (with the proxy's checks and instrumentation) and starts the filter; throws WasmLoadError like the proxy would. */
  static async load(wasm: string | Uint8Array, opts: EmulatorOptions = {}): Promise<Emulator> {
    const name = opts.name ?? 'filter';
    const bytes = typeof wasm === 'string' ? readFileSync(wasm) : wasm;
    const compiled = await compileModule(name, bytes, opts.maxMemoryBytes ?? 64 * 1024 * 1024);
    const spec: PluginSpec = {
      name,
      rootId: opts.rootId ?? name,
      vmId: opts.vmId ?? name,
      abi: compiled.abi,
      module: compiled.module,
      sha256: compiled.sha256,
      configuration: configurationBytes(opts.config),
      failurePolicy: opts.failurePolicy ?? 'failClosed',
      budget: opts.executionBudget ?? 10_000_000,
      maxBufferedBody: opts.maxBufferedBody ?? 1024 * 1024,
      maxMemoryBytes: opts.maxMemoryBytes ?? 64 * 1024 * 1024,
      logLevel: LOG_LEVELS[opts.logLevel ?? 'trace']!,
    };
    const e = new Emulator(spec, opts.clusters ? new Set(opts.clusters) : null, { id: opts.node?.id ?? 'emulator', metadata: opts.node?.metadata ?? {} });
    try {
      e.factory.start();
    } catch (err) {
      // The filter's own log usually says why it refused: keep it with the error.
      if (err instanceof Error) Object.assign(err, { logs: e.logs });
      throw err;
    }
    return e;
  }

  /**
   * Loads a filter that must refuse to start (a bad config, say) and returns
   * why: the WasmLoadError the proxy would report and everything the filter
   * logged while starting. Throws if the filter starts.
   */
  static async refusal(wasm: string | Uint8Array, opts: EmulatorOptions = {}): Promise<{ error: WasmLoadError; logs: LogEntry[] }> {
    let vm: Emulator;
    try {
      vm = await Emulator.load(wasm, opts);
    } catch (e) {
      if (!(e instanceof WasmLoadError)) throw e;
      return { error: e, logs: (e as WasmLoadError & { logs?: LogEntry[] }).logs ?? [] };
    }
    vm.close();
    throw new Error(`filter "${opts.name ?? 'filter'}" started, but it was expected to refuse its config`);
  }

  /** A new HTTP stream through the filter. */
  newStream(opts: { sourceAddress?: string } = {}): EmulatedStream {
    const s = new EmulatedStream([this.factory], this.clusters, { now: () => this.clock, after: (ms, cb) => this.after(ms, cb) }, this.nextStream++);
    if (opts.sourceAddress) s.sourceAddress = opts.sourceAddress;
    return s;
  }

  private after(ms: number, cb: () => void): void {
    this.timers.push({ at: this.clock + ms, every: 0, cb, live: true });
  }

  /** Moves the virtual clock, running ticks and stream delays that fall due, in order. */
  advance(ms: number): void {
    const end = this.clock + ms;
    for (;;) {
      let next: (typeof this.timers)[number] | null = null;
      for (const t of this.timers) if (t.live && t.at <= end && (next === null || t.at < next.at)) next = t;
      if (next === null) break;
      this.clock = next.at;
      if (next.every > 0) next.at += next.every;
      else next.live = false;
      next.cb();
    }
    this.clock = end;
    for (let i = this.timers.length - 1; i >= 0; i--) if (!this.timers[i]!.live) this.timers.splice(i, 1);
  }

  /** The virtual clock, in ms since the epoch. */
  get now(): number {
    return this.clock;
  }

  /** Runs one tick now (if the filter set a tick period). */
  tick(): void {
    const t = this.timers.find((x) => x.live && x.every > 0);
    if (t) t.cb();
  }

  /** A filter metric by the name the filter defined it with, or undefined. */
  metric(name: string): MetricSnapshot | undefined {
    return this.shared.metrics.snapshot().find((m) => m.name === `${this.factory.name}.${name}`);
  }

  /** The filter's failure counters (traps, budget exhaustion, ...) and whether it is quarantined. */
  get failures(): { traps: number; budgetExhausted: number; outOfMemory: number; vmStarts: number; failedClosed: number; failedOpen: number; quarantined: boolean } {
    const s = this.stats;
    const k = this.slots;
    return {
      traps: s[k.traps]!,
      budgetExhausted: s[k.budgetExhausted]!,
      outOfMemory: s[k.outOfMemory]!,
      vmStarts: s[k.vmStarts]!,
      failedClosed: s[k.failedClosed]!,
      failedOpen: s[k.failedOpen]!,
      quarantined: this.factory.quarantined,
    };
  }

  close(): void {
    this.factory.close();
    this.shared.queues.close();
  }
}
