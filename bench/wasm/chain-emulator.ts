// What each built-in filter, and the five-filter chain, costs per stream in
// CPU alone: the host emulator drives the same VM, host functions and filter
// chain as the proxy, with no sockets. One stream = request headers, response
// headers, a 64-byte body, then log/done/delete.
//
// Two regimes, measured alternately in one process:
// - warm: streams back to back, so code and data stay in the CPU caches;
// - cold: 8 MiB are touched between streams, evicting them, as the kernel's
//   TCP path and the rest of the proxy do between two requests of a real run.
//
//   npm run build && node dist/bench/wasm/chain-emulator.js [--rounds N]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../runtime/core/paths';
import { modulePath } from '../../runtime/wasm/loader';
import type { HttpFilterFactory } from '../../runtime/filter/types';
import { Emulator } from '../../sdk/testing';
import { EmulatedStream } from '../../sdk/testing/emulated-stream';

interface FilterEntry {
  name: string;
  module: string;
  config?: unknown;
}

const CHAINS = path.join(PACKAGE_ROOT, 'bench', 'wasm', 'chains');
const SCENARIOS = ['fault', 'retry', 'authz', 'router', 'ratelimit', 'chain'];
const REQUEST = { ':method': 'GET', ':path': '/api/items?x=1', ':authority': 'bench.local', 'user-agent': 'wrk', accept: '*/*' };
const RESPONSE = { ':status': '200', 'content-type': 'text/plain', 'content-length': '64' };
const BODY = Buffer.alloc(64, 97);
const EVICT_BYTES = 8 * 1024 * 1024;

const trash = new Uint32Array(EVICT_BYTES / 4);
let sink = 0;
function evictCaches(): void {
  for (let i = 0; i < trash.length; i += 16) sink += trash[i]!++; // one write per 64-byte line
}

async function loadChain(file: string): Promise<HttpFilterFactory[]> {
  const filters = (parse(fs.readFileSync(path.join(CHAINS, `${file}.yaml`), 'utf8')) as { filters: FilterEntry[] }).filters;
  const out: HttpFilterFactory[] = [];
  for (const f of filters) {
    const e = await Emulator.load(modulePath(f.module), { name: f.name, config: f.config, logLevel: 'warn', clusters: ['upstream'] });
    out.push(e.factory);
  }
  return out;
}

const clock = { now: (): number => Date.now(), after: (): void => {} };
let nextId = 1;

/** Mean µs per stream over `n` streams, timing only the streams (not the eviction). */
function run(factories: HttpFilterFactory[], n: number, cold: boolean): number {
  let total = 0n;
  for (let i = 0; i < n; i++) {
    if (cold) evictCaches();
    const t0 = process.hrtime.bigint();
    const s = new EmulatedStream(factories, null, clock, nextId++);
    s.sendRequestHeaders(REQUEST, true);
    s.sendResponseHeaders(RESPONSE, false);
    s.sendResponseBody(BODY, true);
    s.complete();
    total += process.hrtime.bigint() - t0;
  }
  return Number(total) / n / 1000;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Math.max(1, Number(process.argv[i + 1])) : 15;
  const sets = new Map<string, HttpFilterFactory[]>([['empty', []]]);
  for (const s of SCENARIOS) sets.set(s, await loadChain(s));
  const results = new Map<string, { warm: number[]; cold: number[] }>();
  for (const name of sets.keys()) results.set(name, { warm: [], cold: [] });
  for (let r = 0; r < rounds; r++) {
    for (const [name, factories] of sets) {
      results.get(name)!.warm.push(run(factories, 2000, false));
      results.get(name)!.cold.push(run(factories, 500, true));
    }
  }
  const empty = results.get('empty')!;
  const ew = median(empty.warm);
  const ec = median(empty.cold);
  console.log(`host emulator, node ${process.version}, median of ${rounds} rounds; "added" is over the empty chain\n`);
  console.log('| filters | warm, µs per stream | added | cold, µs per stream | added |');
  console.log('|---|--:|--:|--:|--:|');
  console.log(`| none (emulator bookkeeping) | ${ew.toFixed(1)} | | ${ec.toFixed(1)} | |`);
  for (const name of SCENARIOS) {
    const w = median(results.get(name)!.warm);
    const c = median(results.get(name)!.cold);
    const label = name === 'chain' ? 'all five' : name;
    console.log(`| ${label} | ${w.toFixed(1)} | +${(w - ew).toFixed(1)} | ${c.toFixed(1)} | +${(c - ec).toFixed(1)} |`);
  }
  if (sink === -1) console.log(''); // keeps the eviction loop from being optimized away
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
