// Host-call micro-benchmark: the cost of one proxy-wasm host call made from
// a filter, through the real host (the emulator drives the same VM and host
// functions as the proxy). Prints the median over rounds, per call kind.
//
//   npm run build && node dist/bench/wasm/host-call.js
import * as path from 'node:path';
import { buildFilter } from '../../sdk/build';
import { Emulator } from '../../sdk/testing';
import * as os from 'node:os';
import * as fs from 'node:fs';
import { ModuleBuilder, T, i32c, op as O, str } from '../../test/support/wasm-builder';

type Op = 'header' | 'property' | 'shared';
const IMPORTS: Record<Op, { name: string; args: number[] }> = {
  header: { name: 'proxy_get_header_map_value', args: [0, 16, 7, 64, 68] },
  property: { name: 'proxy_get_property', args: [32, 12, 64, 68] },
  shared: { name: 'proxy_get_shared_data', args: [48, 1, 64, 68, 72] },
};

/**
 * A hand-assembled proxy-wasm module whose request-headers callback makes
 * `calls` host calls of one kind, with a bump allocator: it measures the host
 * and the boundary alone, with no SDK code on the guest side.
 */
export function rawModule(kind: Op, calls: number): Uint8Array {
  const b = new ModuleBuilder();
  const imp = IMPORTS[kind];
  const fn = b.importFunction('env', imp.name, imp.args.map(() => T.i32), [T.i32]);
  b.memory(1, undefined, false, 'memory');
  const bump = b.global(T.i32, true, i32c(4096));
  b.data(16, [...Buffer.from('x-bench')]);
  b.data(32, [...Buffer.from('request\0path')]);
  b.data(48, [...Buffer.from('k')]);
  b.func([T.i32], [T.i32], [O.global_get, bump, O.global_get, bump, O.local_get, 0, O.i32_add, O.global_set, bump], { export: 'malloc' });
  b.func([], [], [], { export: 'proxy_abi_version_0_2_1' });
  b.func([T.i32, T.i32], [], [], { export: 'proxy_on_context_create' });
  const call = imp.args.flatMap((a) => i32c(a));
  b.func(
    [T.i32, T.i32, T.i32],
    [T.i32],
    [
      ...i32c(4096), O.global_set, bump,
      O.block, 0x40, O.loop, 0x40,
      O.local_get, 3, ...i32c(calls), O.i32_ge_s, O.br_if, 1,
      ...call, O.call, fn, O.drop,
      O.local_get, 3, ...i32c(1), O.i32_add, O.local_set, 3,
      O.br, 0, O.end, O.end,
      ...i32c(0),
    ],
    { export: 'proxy_on_request_headers', locals: [T.i32] },
  );
  void str;
  return b.build();
}

const ROOT = path.join(__dirname, '../../..');
const STREAMS = 1000;
const CALLS = 1000;
const ROUNDS = 9;

async function timePerStream(wasm: string | Uint8Array, op: string, calls: number): Promise<number> {
  const vm = await Emulator.load(wasm, { name: 'hostcall', config: typeof wasm === 'string' ? { calls, op } : null, rootId: '' });
  const headers = { ':method': 'GET', ':path': '/bench', ':authority': 'bench', 'x-bench': '1' };
  for (let i = 0; i < 200; i++) vm.newStream().sendRequestHeaders(headers, true);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < STREAMS; i++) {
    const s = vm.newStream();
    s.sendRequestHeaders(headers, true);
    s.complete();
  }
  const ns = Number(process.hrtime.bigint() - t0) / STREAMS;
  vm.close();
  return ns;
}

async function main(): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-hostcall-'));
  const built = await buildFilter({ dir: path.join(ROOT, 'bench/wasm/hostcall'), outFile: path.join(out, 'hostcall.wasm'), name: 'hostcall' });
  const rows: string[] = [];
  for (const op of ['header', 'property', 'shared'] as Op[]) {
    const perCall: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const base = await timePerStream(rawModule(op, 0), op, 0);
      const loaded = await timePerStream(rawModule(op, CALLS), op, CALLS);
      perCall.push((loaded - base) / CALLS);
    }
    perCall.sort((a, b) => a - b);
    rows.push(`| ${op}, raw module (host + boundary only) | ${perCall[ROUNDS >> 1]!.toFixed(0)} ns | ${perCall[0]!.toFixed(0)}–${perCall[ROUNDS - 1]!.toFixed(0)} ns |`);
  }
  for (const op of ['header', 'property', 'shared']) {
    const perCall: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const base = await timePerStream(built.wasmPath, op, 0);
      const loaded = await timePerStream(built.wasmPath, op, CALLS);
      perCall.push((loaded - base) / CALLS);
    }
    perCall.sort((a, b) => a - b);
    const median = perCall[ROUNDS >> 1]!;
    rows.push(`| ${op}, through the AssemblyScript SDK | ${median.toFixed(0)} ns | ${perCall[0]!.toFixed(0)}–${perCall[ROUNDS - 1]!.toFixed(0)} ns |`);
  }
  console.log(`Host call cost, ${CALLS} calls per callback, ${STREAMS} streams, median of ${ROUNDS} rounds (node ${process.version})\n`);
  console.log('| host call (guest → host → guest) | median per call | range over rounds |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\nheader = proxy_get_header_map_value (+ the guest allocator for the result); property = proxy_get_property("request.path"); shared = proxy_get_shared_data (a miss).');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
