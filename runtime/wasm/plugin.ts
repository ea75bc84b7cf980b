// What one configured filter is, once its module is compiled: immutable, and
// shared by every VM of that filter (Envoy's "plugin config").
import type { AbiVersion } from './abi';
import { LogLevel } from './abi';

export type FailurePolicy = 'failClosed' | 'failOpen' | 'reload';

export interface PluginSpec {
  /** The filter's name (proxy-wasm plugin_name). */
  readonly name: string;
  readonly rootId: string;
  /** Scope of shared data and queues. */
  readonly vmId: string;
  readonly abi: AbiVersion;
  /** The instrumented module, compiled once and shared across workers. */
  readonly module: WebAssembly.Module;
  readonly sha256: string;
  /** PLUGIN_CONFIGURATION bytes. */
  readonly configuration: Uint8Array;
  readonly failurePolicy: FailurePolicy;
  /** Metering units per callback before it is stopped. */
  readonly budget: number;
  readonly maxBufferedBody: number;
  /** The cap written into the module's memory limits. */
  readonly maxMemoryBytes: number;
  readonly logLevel: LogLevel;
}

export const LOG_LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warn,
  error: LogLevel.Error,
  critical: LogLevel.Critical,
};
