// `wasmesh control`: the control plane process.
import { flag, parseArgs } from './args';
import { parseAddress } from '../config/address';
import { parseDuration } from '../config/duration';

export async function controlCommand(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const listen = parseAddress(flag(a, 'listen') ?? '127.0.0.1:15010', { allowPortZero: true });
  if (!listen.ok) fail(`--listen: ${listen.error}`);
  const hb = parseDuration(flag(a, 'heartbeat') ?? '1s');
  if (!hb.ok) fail(`--heartbeat: ${hb.error}`);
  if (hb.value < 50 || hb.value > 60_000) fail('--heartbeat must be between 50ms and 60s');
  const grace = parseDuration(flag(a, 'disconnect-grace') ?? '10s');
  if (!grace.ok) fail(`--disconnect-grace: ${grace.error}`);
  const { runControl } = await import('../../control/server/main');
  return runControl({
    config: [...(a.flags.get('c') ?? []), ...(a.flags.get('config') ?? []), ...(a.flags.get('f') ?? [])],
    dataDir: flag(a, 'data-dir') ?? process.env.WASMESH_DATA_DIR ?? './wasmesh-data',
    host: listen.value.host,
    port: listen.value.port,
    heartbeatMs: hb.value,
    graceMs: grace.value,
  });
}

function fail(msg: string): never {
  process.stderr.write(`wasmesh control: ${msg}\n`);
  process.exit(2);
}
