// One Wasm instance of one filter on one worker: the root context, the HTTP
// contexts of the streams it serves, and the guarded entry into guest code.
// Every call into the guest goes through invoke*(), which resets the execution
// budget first and turns any trap into a recorded failure: the VM is then
// dead, and the factory decides what the affected streams get.
import { WasmLoadError, WasmTrapError } from '../core/errors';
import type { CalloutResponse, VmEnv } from './env';
import { GuestMemory } from './guest-memory';
import { buildImports } from './host/imports';
import type { PluginSpec } from './plugin';
import type { WasmHttpFilter } from './http-filter';
import { FUEL_EXPORT, FUEL_SETTER_EXPORT, GROW_FAILED_EXPORT } from './binary/instrument';

type Fn = (...args: number[]) => number;

/** The guest exports the host calls; all optional except memory. */
export interface GuestExports {
  memory: WebAssembly.Memory;
  proxy_on_memory_allocate?: Fn;
  malloc?: Fn;
  _initialize?: Fn;
  _start?: Fn;
  main?: Fn;
  proxy_on_vm_start?: Fn;
  proxy_on_configure?: Fn;
  proxy_on_context_create?: Fn;
  proxy_on_request_headers?: Fn;
  proxy_on_request_body?: Fn;
  proxy_on_response_headers?: Fn;
  proxy_on_response_body?: Fn;
  proxy_on_log?: Fn;
  proxy_on_done?: Fn;
  proxy_on_delete?: Fn;
  proxy_on_tick?: Fn;
  proxy_on_http_call_response?: Fn;
  proxy_on_queue_ready?: Fn;
  proxy_on_foreign_function?: Fn;
}

export interface VmHooks {
  /** A callback trapped or ran out of budget; the VM is dead from now on. */
  onFailure(vm: PluginVm, err: WasmTrapError): void;
}

interface PendingCall {
  done: boolean;
}

export class PluginVm {
  readonly mem = new GuestMemory();
  readonly rootContextId = 1;
  /** Live HTTP contexts by id (the targets of proxy_set_effective_context). */
  readonly streams = new Map<number, WasmHttpFilter>();
  /** The HTTP context host calls act on; null means the root context. */
  effective: WasmHttpFilter | null = null;
  /** The response being delivered to proxy_on_http_call_response. */
  callout: CalloutResponse | null = null;
  /** Set once a callback trapped; nothing runs in this instance again. */
  failure: WasmTrapError | null = null;
  /** Set during on_vm_start / on_configure so the config buffers resolve. */
  configuring = 0;
  x!: GuestExports;
  private fuel: WebAssembly.Global | null = null;
  private fuelBudget: number | bigint = 0;
  /** The instrumented module's __wasmesh_set_fuel: much cheaper per callback than fuel.value = budget. */
  private setFuel: ((budget: number) => void) | null = null;
  /** The instrumented module's __wasmesh_grow_failed: 1 if the guest's last memory.grow returned -1. Read only after a trap. */
  private growFailed: WebAssembly.Global | null = null;
  /** trapped() saw the grow flag set; the next arm() clears it. */
  private growFlagSet = false;
  private nextContextId = 2;
  private nextCallId = 1;
  private readonly calls = new Map<number, PendingCall>();
  private tickTimer: unknown = null;
  private readonly queueOwner = (id: number): void => this.queueReady(id);
  readonly queues: number[] = [];
  private closing = false;
  private closed = false;

  constructor(
    readonly spec: PluginSpec,
    readonly env: VmEnv,
    private readonly hooks: VmHooks,
  ) {}

  /** Instantiates and configures the VM; throws WasmLoadError naming the filter. */
  start(): void {
    this.startupLog = [];
    try {
      this.startNow();
    } finally {
      this.startupLog = null;
    }
  }

  private startNow(): void {
    const name = this.spec.name;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.spec.module, buildImports(this));
    } catch (e) {
      throw new WasmLoadError(`filter "${name}": cannot instantiate: ${(e as Error).message}`, 'WASM_START_TRAP');
    }
    const x = instance.exports as unknown as GuestExports;
    if (!(x.memory instanceof WebAssembly.Memory)) throw new WasmLoadError(`filter "${name}": the module exports no memory`, 'WASM_INVALID_MODULE');
    const alloc = x.proxy_on_memory_allocate ?? x.malloc;
    if (typeof alloc !== 'function') throw new WasmLoadError(`filter "${name}": the module exports neither proxy_on_memory_allocate nor malloc`, 'WASM_INVALID_MODULE');
    this.x = x;
    this.mem.bind(x.memory, alloc as (n: number) => number);
    const fuel = (instance.exports as Record<string, unknown>)[FUEL_EXPORT];
    if (fuel instanceof WebAssembly.Global) {
      this.fuel = fuel;
      this.fuelBudget = typeof fuel.value === 'bigint' ? BigInt(this.spec.budget) : this.spec.budget;
      const setFuel = (instance.exports as Record<string, unknown>)[FUEL_SETTER_EXPORT];
      if (typeof setFuel === 'function' && typeof this.fuelBudget === 'number') this.setFuel = setFuel as (budget: number) => void;
    }
    const growFailed = (instance.exports as Record<string, unknown>)[GROW_FAILED_EXPORT];
    if (growFailed instanceof WebAssembly.Global) this.growFailed = growFailed;
    const init = x._initialize ?? x._start;
    if (init !== undefined && !this.run0(init)) throw this.loadError('the start function trapped', 'WASM_START_TRAP');
    if (x._initialize !== undefined && typeof x.main === 'function' && !this.run2(x.main, 0, 0)) throw this.loadError('main() trapped', 'WASM_START_TRAP');
    if (x.proxy_on_context_create !== undefined && !this.run2(x.proxy_on_context_create, this.rootContextId, 0)) {
      throw this.loadError('creating the root context trapped', 'WASM_START_TRAP');
    }
    this.configuring = 1;
    try {
      if (x.proxy_on_vm_start !== undefined) {
        const ok = this.invoke2(x.proxy_on_vm_start, this.rootContextId, 0);
        if (this.failure !== null) throw this.loadError('proxy_on_vm_start trapped', 'WASM_VM_START_FAILED');
        if (ok === 0) throw this.loadError('proxy_on_vm_start returned false', 'WASM_VM_START_FAILED');
      }
      this.configuring = 2;
      if (x.proxy_on_configure !== undefined) {
        const ok = this.invoke2(x.proxy_on_configure, this.rootContextId, this.spec.configuration.byteLength);
        if (this.failure !== null) throw this.loadError('proxy_on_configure trapped', 'WASM_CONFIGURE_FAILED');
        if (ok === 0) throw this.loadError('proxy_on_configure returned false (the filter rejected its config; see its log)', 'WASM_CONFIGURE_FAILED');
      }
    } finally {
      this.configuring = 0;
    }
  }

  private loadError(what: string, code: ConstructorParameters<typeof WasmLoadError>[1]): WasmLoadError {
    const why = this.failure !== null ? `: ${this.failure.message}` : '';
    // What the filter itself logged while starting is usually the real reason: carry it to the operator (and the control plane).
    const said = this.startupLog !== null && this.startupLog.length > 0 ? `; the filter logged: ${this.startupLog.join(' | ')}` : '';
    return new WasmLoadError(`filter "${this.spec.name}": ${what}${why}${said}`, code);
  }

  /** Warnings and errors the guest logs during start(); null afterwards. */
  startupLog: string[] | null = null;

  get dead(): boolean {
    return this.failure !== null;
  }

  newContextId(): number {
    return this.nextContextId++;
  }

  // --- guarded calls into the guest (fixed arities: no rest arrays on the hot path) ---

  private arm(): void {
    if (this.setFuel !== null) this.setFuel(this.fuelBudget as number);
    else if (this.fuel !== null) this.fuel.value = this.fuelBudget;
    if (this.growFlagSet) {
      this.growFailed!.value = 0;
      this.growFlagSet = false;
    }
  }

  invoke1(fn: Fn, a: number): number {
    if (this.failure !== null) return -1;
    this.arm();
    try {
      return fn(a);
    } catch (e) {
      return this.trapped(e);
    }
  }

  invoke2(fn: Fn, a: number, b: number): number {
    if (this.failure !== null) return -1;
    this.arm();
    try {
      return fn(a, b);
    } catch (e) {
      return this.trapped(e);
    }
  }

  invoke3(fn: Fn, a: number, b: number, c: number): number {
    if (this.failure !== null) return -1;
    this.arm();
    try {
      return fn(a, b, c);
    } catch (e) {
      return this.trapped(e);
    }
  }

  invoke5(fn: Fn, a: number, b: number, c: number, d: number, e5: number): number {
    if (this.failure !== null) return -1;
    this.arm();
    try {
      return fn(a, b, c, d, e5);
    } catch (e) {
      return this.trapped(e);
    }
  }

  private run0(fn: Fn): boolean {
    this.arm();
    try {
      fn();
      return true;
    } catch (e) {
      this.trapped(e);
      return false;
    }
  }

  private run2(fn: Fn, a: number, b: number): boolean {
    this.invoke2(fn, a, b);
    return this.failure === null;
  }

  private trapped(e: unknown): number {
    const fuel = this.fuel?.value;
    const exhausted = fuel !== undefined && fuel < 0;
    // Allocators trap right after a failed memory.grow; the flag says the guest's last one failed.
    this.growFlagSet = this.growFailed !== null && this.growFailed.value === 1;
    const msg = (e as Error)?.message ?? String(e);
    let err: WasmTrapError;
    if (exhausted) err = new WasmTrapError(`filter "${this.spec.name}" exceeded its execution budget (${this.spec.budget} units)`, 'WASM_BUDGET_EXHAUSTED');
    else if (this.growFlagSet) err = new WasmTrapError(`filter "${this.spec.name}" ran out of memory (cap ${this.spec.maxMemoryBytes} bytes): ${msg}`, 'WASM_OUT_OF_MEMORY');
    else err = new WasmTrapError(`filter "${this.spec.name}" trapped: ${msg}`, 'WASM_TRAP');
    this.failure = err;
    this.stopTimers();
    this.hooks.onFailure(this, err);
    return -1;
  }

  // --- root-context services ---

  setTickPeriod(ms: number): void {
    if (this.tickTimer !== null) this.env.clearTimer(this.tickTimer);
    this.tickTimer = null;
    if (ms > 0 && !this.closed) this.tickTimer = this.env.setTimer(ms, this.tickB);
  }

  private readonly tickB = (): void => {
    const fn = this.x.proxy_on_tick;
    if (fn === undefined || this.failure !== null) return;
    this.effective = null;
    this.invoke1(fn, this.rootContextId);
  };

  /** Starts an HTTP call; returns the token, or a negative WasmResult. */
  httpCall(cluster: string, headers: [string, string][], body: Buffer, timeoutMs: number): number {
    const token = this.nextCallId++;
    const pending: PendingCall = { done: false };
    const status = this.env.callouts.dispatch(cluster, headers, body, timeoutMs, (r) => {
      if (pending.done) return;
      pending.done = true;
      this.calls.delete(token);
      this.deliverCallout(token, r);
    });
    if (status !== 0) return -status;
    this.calls.set(token, pending);
    return token;
  }

  private deliverCallout(token: number, r: CalloutResponse): void {
    const fn = this.x.proxy_on_http_call_response;
    if (fn === undefined || this.failure !== null || this.closed) return this.maybeClose();
    this.callout = r;
    this.effective = null;
    const nHeaders = r.status === 0 ? 0 : r.headers.length + 1;
    this.invoke5(fn, this.rootContextId, token, nHeaders, r.body.byteLength, 0);
    this.callout = null;
    this.effective = null;
    this.maybeClose();
  }

  registerQueue(name: string): number {
    const id = this.env.queues.register(this.spec.vmId, name, this.queueOwner);
    if (id >= 0 && !this.queues.includes(id)) this.queues.push(id);
    return id;
  }

  private queueReady(id: number): void {
    const fn = this.x.proxy_on_queue_ready;
    if (fn === undefined || this.failure !== null || this.closed) return;
    this.effective = null;
    this.invoke2(fn, this.rootContextId, id);
  }

  private stopTimers(): void {
    if (this.tickTimer !== null) this.env.clearTimer(this.tickTimer);
    this.tickTimer = null;
    for (const q of this.queues) this.env.queues.unregister(q, this.queueOwner);
    this.queues.length = 0;
  }

  /**
   * The config that owns this VM is retired. The root context is told
   * (on_done, on_delete) and its ticks and queues stop once the last stream
   * and HTTP call of this VM are finished, as Envoy defers it.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.maybeClose();
  }

  /**
   * Called when a stream or call of this VM ends. Ticks and queues keep
   * running until then: a filter may need its tick to finish a stream it
   * holds (the fault filter's delay-then-abort does).
   */
  maybeClose(): void {
    if (!this.closing || this.closed || this.streams.size > 0 || this.calls.size > 0) return;
    this.closed = true;
    this.stopTimers();
    const x = this.x;
    if (this.failure === null && x !== undefined) {
      this.effective = null;
      if (x.proxy_on_done !== undefined) this.invoke1(x.proxy_on_done, this.rootContextId);
      if (x.proxy_on_delete !== undefined && this.failure === null) this.invoke1(x.proxy_on_delete, this.rootContextId);
    }
  }
}
