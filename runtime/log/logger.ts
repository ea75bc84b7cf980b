// Operational log: one line per event, level-filtered, to stderr.
export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

let threshold = RANK.info;
let prefix = 'wasmesh';

export function setLogLevel(l: Level): void {
  threshold = RANK[l];
}

export function setLogPrefix(p: string): void {
  prefix = p;
}

export function log(level: Level, msg: string): void {
  if (RANK[level] < threshold) return;
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${prefix}] ${msg}\n`);
}
