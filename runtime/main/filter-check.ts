// Offline filter check for `wasmesh validate`: each filter is compiled with
// the proxy's checks and started in a VM exactly as a worker would start it
// (on_vm_start, on_configure), against real but private shared stores and
// with no cluster to call. What the proxy would refuse, this reports.
import type { ProxyConfig } from '../config/types';
import { WasmResult } from '../wasm/abi';
import type { CalloutDispatcher } from '../wasm/env';
import { compileModule, readModule } from '../wasm/loader';
import { PluginVm } from '../wasm/vm';
import { createWasmSharedState } from '../wasm/shared';
import { sharedStores, workerVmEnv } from '../worker/wasm-env';
import { pluginSpec } from './filter-specs';

const NO_CLUSTERS: CalloutDispatcher = { dispatch: () => WasmResult.NotFound };

/** Every filter problem of the config, each prefixed with its path; empty when all load. */
export async function checkFilters(config: ProxyConfig): Promise<string[]> {
  const problems: string[] = [];
  const shared = createWasmSharedState({ kv: { slots: 256 } });
  const env = workerVmEnv(sharedStores(shared), NO_CLUSTERS, { id: 'validate', metadata: {} });
  for (const [li, l] of config.listeners.entries()) {
    for (const [fi, f] of l.filters.entries()) {
      const at = `listeners[${li}].filters[${fi}]`;
      try {
        const compiled = await compileModule(f.name, await readModule(f.name, f.module), f.maxMemoryBytes);
        const spec = pluginSpec(f, compiled);
        const vm = new PluginVm(spec, env, { onFailure: () => undefined });
        vm.start();
        vm.close();
      } catch (e) {
        problems.push(`${at}: ${(e as Error).message}`);
      }
    }
  }
  shared.queues.close();
  return problems;
}
