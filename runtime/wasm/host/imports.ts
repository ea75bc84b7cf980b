// The import object of one VM: every host function group, composed here.
import type { PluginVm } from '../vm';
import { bufferImports } from './buffers';
import { calloutImports } from './callouts';
import { foreignImports } from './foreign';
import { headerImports } from './headers';
import { logImports } from './log';
import { metricImports } from './metrics';
import { propertyImports } from './properties';
import { sharedImports } from './shared';
import { streamImports } from './stream';
import { wasiImports } from './wasi';

export function buildImports(vm: PluginVm): WebAssembly.Imports {
  const env = {
    ...logImports(vm, vm.spec.abi === '0.2.1'),
    ...streamImports(vm),
    ...bufferImports(vm),
    ...headerImports(vm),
    ...calloutImports(vm),
    ...sharedImports(vm),
    ...metricImports(vm),
    ...propertyImports(vm),
    ...foreignImports(vm),
  } as WebAssembly.ModuleImports;
  const wasi = wasiImports(vm) as WebAssembly.ModuleImports;
  return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
}
