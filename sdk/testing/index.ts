// wasmesh's proxy-wasm host emulator: `import { Emulator } from 'wasmesh/sdk/testing'`.
export { Emulator, type EmulatorOptions, type EmulatedCall, type LogEntry } from './emulator';
export { EmulatedStream, type Action, type HeaderInput, type LocalReply } from './emulated-stream';
