// Compiles every listener's Wasm filters on the main thread, off the request
// path, into specs the workers instantiate. A module that cannot load makes
// the whole config fail with a message naming the filter; nothing is applied.
import type { FilterConfig, ProxyConfig } from '../config/types';
import type { StatsLayout } from '../stats/layout';
import { wasmFilterSlots } from '../stats/declared';
import { compileModule, readModule, type CompiledModule } from '../wasm/loader';
import { LOG_LEVELS, type PluginSpec } from '../wasm/plugin';
import type { WorkerFilterSpec } from '../worker/messages';

/** PLUGIN_CONFIGURATION: a string verbatim (as Envoy passes it), anything else as JSON. */
export function configurationBytes(config: unknown): Buffer {
  if (config === null || config === undefined) return Buffer.alloc(0);
  return Buffer.from(typeof config === 'string' ? config : JSON.stringify(config));
}

/** The worker-side description of one configured filter, from its config and compiled module. */
export function pluginSpec(f: FilterConfig, compiled: CompiledModule): PluginSpec {
  return {
    name: f.name,
    rootId: f.rootId,
    vmId: f.vmId,
    abi: compiled.abi,
    module: compiled.module,
    sha256: compiled.sha256,
    configuration: configurationBytes(f.config),
    failurePolicy: f.failurePolicy,
    budget: f.executionBudget,
    maxBufferedBody: f.maxBufferedBody,
    maxMemoryBytes: f.maxMemoryBytes,
    logLevel: LOG_LEVELS[f.logLevel]!,
  };
}

/** What /config_dump shows of a loaded filter. */
export interface LoadedFilter {
  info: { listener: string; name: string; module: string; sha256: string; abi: string; size: number };
  slots: WorkerFilterSpec['slots'];
}

export async function compileFilters(config: ProxyConfig, layout: StatsLayout, loaded: LoadedFilter[] = []): Promise<Record<string, WorkerFilterSpec[]>> {
  const out: Record<string, WorkerFilterSpec[]> = {};
  for (const [li, l] of config.listeners.entries()) {
    const list: WorkerFilterSpec[] = [];
    for (const [fi, f] of l.filters.entries()) {
      try {
        const compiled = await compileModule(f.name, await readModule(f.name, f.module), f.maxMemoryBytes);
        const spec = pluginSpec(f, compiled);
        const slots = wasmFilterSlots(layout, l.name, f.name);
        list.push({ spec, slots });
        loaded.push({ info: { listener: l.name, name: f.name, module: f.module, sha256: compiled.sha256, abi: compiled.abi, size: compiled.size }, slots });
      } catch (e) {
        throw new Error(`listeners[${li}].filters[${fi}]: ${(e as Error).message}`);
      }
    }
    out[l.name] = list;
  }
  return out;
}
