// Shared shapes of the load tool (`wasmesh bench`): options, what the main
// thread hands a worker, and what a worker hands back.

export type Mode = 'open' | 'closed';

/** Everything one run needs (parsed from the command line by cli.ts). */
export interface BenchOptions {
  url: string;
  mode: Mode;
  /** Open loop: target requests per second over all workers. */
  rate: number;
  connections: number;
  /** Seconds measured (after the warm-up). */
  duration: number;
  /** Seconds run before measuring; their requests are not recorded. */
  warmup: number;
  workers: number;
  method: string;
  /** [name, value] in the order given. */
  headers: Array<[string, string]>;
  body: Buffer | null;
  /** Per request (from its write to the end of its response) and per connect, ms. */
  timeoutMs: number;
  /** Free-form name shown in reports and plot legends. */
  label?: string;
  /** Progress line on stderr: true, false, or undefined = only when stderr is a TTY. */
  progress?: boolean;
}

/** Error kinds, in report order. */
export const ERROR_KINDS = [
  'connect_refused',
  'connect_timeout',
  'connect_other',
  'timeout',
  'reset',
  'closed',
  'parse',
  'other',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface WorkerConfig {
  index: number;
  host: string;
  port: number;
  mode: Mode;
  /** Pre-encoded request (head + body). */
  request: Uint8Array;
  headRequest: boolean;
  connections: number;
  /** Open loop: ms between this worker's intended send times, and its first one's offset from t0. */
  intervalMs: number;
  phaseMs: number;
  warmupMs: number;
  durationMs: number;
  timeoutMs: number;
  /** Live counters (Float64Array view): per worker LIVE_SLOTS doubles at index * LIVE_SLOTS. */
  live: SharedArrayBuffer;
}

/** Live counter slots per worker: completed responses, errors, requests sent. */
export const LIVE_SLOTS = 3;

/** Main → worker: start the clock at this process.hrtime.bigint() value (ns, as a string). */
export interface StartMessage {
  type: 'start';
  t0ns: string;
}

export type WorkerMessage =
  | { type: 'ready'; connected: number; failed: number; firstError: string }
  | { type: 'done'; result: WorkerResult }
  | { type: 'fatal'; message: string };

/** What one worker measured. Histograms are HdrHistogram compressed base64 (values in µs). */
export interface WorkerResult {
  /** Latency from the intended send time (closed loop: from the write). */
  latency: string;
  /** Latency from the actual write (open loop: without the wait for a connection). */
  service: string;
  /** TCP connect time of every connection made (also outside the measured window). */
  connect: string;
  /** Requests written / answered over the whole run, warm-up included. */
  sentTotal: number;
  completedTotal: number;
  /** Measured window (intended time, closed loop: write time, at or after the warm-up). */
  sent: number;
  completed: number;
  /** Open loop: requests due before the end that never found a free connection. */
  unsent: number;
  /** Open loop: requests intended in the measured window. */
  intended: number;
  status: Record<string, number>;
  errors: Partial<Record<ErrorKind, number>>;
  /** Response bytes (head + body) of measured responses; request bytes of measured requests. */
  rxBytes: number;
  txBytes: number;
  connects: number;
  reconnects: number;
  /** Actual measured window of this worker, ms (warm-up end → last response or end). */
  windowMs: number;
}
