// One Wasm filter on one worker for one config generation (Envoy's filter
// factory): owns the VM, hands out pooled per-stream contexts, and applies the
// failure policy. A VM that trapped is replaced on the next stream; a filter
// that keeps failing is quarantined for a while instead of being restarted in
// a loop.
import type { WasmTrapError } from '../core/errors';
import { Flag } from '../core/flags';
import { DataStatus, HeadersStatus, type FilterStream, type HttpFilter, type HttpFilterFactory } from '../filter/types';
import { log } from '../log/logger';
import type { WasmFilterSlots } from '../stats/declared';
import type { VmEnv } from './env';
import { Phase, WasmHttpFilter, type FailureHandler } from './http-filter';
import type { PluginSpec } from './plugin';
import { PluginVm, type VmHooks } from './vm';

/** Failures within the window that trigger quarantine. */
const QUARANTINE_FAILURES = 5;
const QUARANTINE_WINDOW_MS = 60_000;
const QUARANTINE_BASE_MS = 30_000;
const QUARANTINE_MAX_MS = 10 * 60_000;

/** Stands in for the filter while it is quarantined: the policy decides, no guest code runs. */
class QuarantinedFilter implements HttpFilter {
  constructor(private readonly owner: WasmFilterFactory) {}
  stream: FilterStream | null = null;
  onRequestHeaders(): HeadersStatus {
    return this.owner.quarantineVerdict(this.stream!);
  }
}

export class WasmFilterFactory implements HttpFilterFactory, VmHooks, FailureHandler {
  readonly name: string;
  readonly maxBufferedBody: number;
  private vm: PluginVm;
  private readonly pool: WasmHttpFilter[] = [];
  private readonly releaseB = (f: WasmHttpFilter): void => {
    if (this.pool.length < 1024) this.pool.push(f);
  };
  private readonly failures: number[] = [];
  private quarantinedUntil = 0;
  private quarantineMs = QUARANTINE_BASE_MS;
  private closed = false;

  constructor(
    readonly spec: PluginSpec,
    private readonly env: VmEnv,
    private readonly stats: Float64Array,
    private readonly slots: WasmFilterSlots,
  ) {
    this.name = spec.name;
    this.maxBufferedBody = spec.maxBufferedBody;
    this.vm = new PluginVm(spec, env, this);
  }

  /** Starts the first VM; throws WasmLoadError when the filter refuses its config. */
  start(): void {
    this.stats[this.slots.vmStarts]!++;
    this.vm.start();
  }

  get quarantined(): boolean {
    return this.quarantinedUntil > 0;
  }

  create(stream: FilterStream): HttpFilter {
    if (this.quarantinedUntil > 0) {
      if (this.env.now() < this.quarantinedUntil) {
        const q = new QuarantinedFilter(this);
        q.stream = stream;
        return q;
      }
      this.quarantinedUntil = 0;
      this.stats[this.slots.quarantined]!--;
      log('info', `filter "${this.name}": quarantine over, starting a fresh VM`);
    }
    if (this.vm.dead) this.restart();
    const f = this.pool.pop() ?? new WasmHttpFilter(this.vm, this, this.releaseB);
    f.attach(this.vm, stream);
    return f;
  }

  /** Replaces a dead VM. If the new one cannot start either, that counts as another failure. */
  private restart(): boolean {
    const vm = new PluginVm(this.spec, this.env, this);
    this.vm = vm;
    this.stats[this.slots.vmStarts]!++;
    try {
      vm.start();
      return true;
    } catch (e) {
      log('error', `filter "${this.name}": restarting the VM failed: ${(e as Error).message}`);
      if (vm.failure === null) this.quarantine();
      return false;
    }
  }

  // --- VmHooks: a callback of the VM trapped ---

  onFailure(vm: PluginVm, err: WasmTrapError): void {
    const s = this.stats;
    s[this.slots.traps]!++;
    if (err.code === 'WASM_BUDGET_EXHAUSTED') s[this.slots.budgetExhausted]!++;
    if (err.code === 'WASM_OUT_OF_MEMORY') s[this.slots.outOfMemory]!++;
    log('error', `${err.message} [${err.code}]; policy ${this.spec.failurePolicy}, VM will be recreated`);
    // Streams still bound to the dead VM learn it at their next callback.
    if (vm !== this.vm) return;
    const now = this.env.now();
    const f = this.failures;
    f.push(now);
    while (f.length > 0 && now - f[0]! > QUARANTINE_WINDOW_MS) f.shift();
    if (f.length >= QUARANTINE_FAILURES) this.quarantine();
  }

  private quarantine(): void {
    if (this.quarantinedUntil > 0) return;
    this.quarantinedUntil = this.env.now() + this.quarantineMs;
    this.stats[this.slots.quarantined]!++;
    log('error', `filter "${this.name}": quarantined for ${this.quarantineMs / 1000} s after ${this.failures.length} failures in ${QUARANTINE_WINDOW_MS / 1000} s`);
    this.quarantineMs = Math.min(this.quarantineMs * 2, QUARANTINE_MAX_MS);
    this.failures.length = 0;
  }

  // --- FailureHandler: what a stream gets when its filter failed ---

  onStreamFailure(f: WasmHttpFilter, phase: Phase): number {
    const policy = this.spec.failurePolicy;
    if (policy === 'failOpen') {
      this.stats[this.slots.failedOpen]!++;
      f.bypass = true;
      return phase === Phase.RequestHeaders || phase === Phase.ResponseHeaders ? HeadersStatus.Continue : DataStatus.Continue;
    }
    // reload: a fresh VM gets one more try at the request headers before the stream fails closed.
    if (policy === 'reload' && phase === Phase.RequestHeaders && !f.reloaded && this.quarantinedUntil === 0) {
      f.reloaded = true;
      if (!this.vm.dead || this.restart()) {
        f.attach(this.vm, f.stream, false);
        return f.onRequestHeaders(f.requestEnd);
      }
    }
    this.stats[this.slots.failedClosed]!++;
    const why = f.vm.failure?.code ?? 'WASM_TRAP';
    f.stream.sendLocalReply(503, '', null, Flag.WasmFailure, `filter "${this.name}" failed: ${why}`);
    return phase === Phase.RequestHeaders || phase === Phase.ResponseHeaders ? HeadersStatus.StopIteration : DataStatus.StopIterationNoBuffer;
  }

  quarantineVerdict(stream: FilterStream): HeadersStatus {
    if (this.spec.failurePolicy === 'failOpen') {
      this.stats[this.slots.failedOpen]!++;
      return HeadersStatus.Continue;
    }
    this.stats[this.slots.failedClosed]!++;
    stream.sendLocalReply(503, '', null, Flag.WasmFailure, `filter "${this.name}" is quarantined after repeated failures`);
    return HeadersStatus.StopIteration;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.quarantinedUntil > 0) this.stats[this.slots.quarantined]!--;
    this.vm.close();
  }
}
