// The Wasm binary toolkit used by the filter loader: read a module's
// interface, and rewrite an untrusted module so it runs under an execution
// budget and a memory cap, and tells the host when a memory.grow failed.
export { inspectModule } from './inspect';
export type { ExportInfo, ExternKind, ImportInfo, MemoryInfo, MemoryLimits, ModuleInfo, ValType } from './inspect';
export { instrumentModule } from './instrument';
export type { InstrumentOptions } from './instrument';
export { DEFAULT_INITIAL_FUEL, FUEL_EXPORT, FUEL_SETTER_EXPORT, FUEL_TYPE, isFuelExhausted, MAX_FUEL } from './fuel';
export { GROW_FAILED_EXPORT } from './grow';
