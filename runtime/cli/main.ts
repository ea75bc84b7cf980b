// `wasmesh` command dispatcher.
import { flag, parseArgs } from './args';
import { VERSION } from '../core/paths';

const USAGE = `usage: wasmesh <command> [options]

commands:
  proxy -c FILE [--workers N] [--no-supervisor]
                      run the proxy (gateway or sidecar) from a YAML config
  proxy --control URL --node-id ID [--service NAME --app ADDR] [--labels K=V,...]
        [--outbound ADDR] [--inbound ADDR] [--admin ADDR] [--namespace NS]
                      run a sidecar whose config comes from the control plane
  proxy --control URL --node-id ID --gateway [--listen ADDR] [--labels K=V,...]
                      run a gateway whose config comes from the control plane
  control [-c FILE|DIR] [--data-dir DIR] [--listen ADDR] [--heartbeat DURATION]
                      run the control plane (docs/control-plane.md)
  validate -c FILE    check a proxy config and list every error (filters are compiled and configured too)
  validate -f FILE|DIR [-f ...]
                      check mesh resources offline, as one mesh (FilterBundle modules are compiled too)

control plane (--control URL, default $WASMESH_CONTROL or http://127.0.0.1:15010;
               --token T, default $WASMESH_TOKEN):
  apply -f FILE|DIR [-f ...] [-m MESSAGE] [--dry-run]
                      check, upload filter bundles, and apply mesh resources
  delete -f FILE|DIR [-f ...] [-m MESSAGE]
                      delete the resources the files name
  get services|routes|filters|proxies [-o table|json|yaml]
                      list what the control plane serves
  status              proxy sync status (SYNCED, STALE, NACKED, DISCONNECTED)
  history [VERSION] [--limit N]
                      config versions, newest first (VERSION: print its content)
  rollback [VERSION]  make the content of VERSION (default: the previous one) a new version
  filter new|build|test
                      create, compile and test a proxy-wasm filter
  bench URL (--rate R | --max) [-c C] [-d D] [-w W] [-t N] [--json FILE] [--plot FILE.svg]
                      HTTP/1.1 load generator (open loop corrects coordinated omission;
                      \`wasmesh bench --help\`, bench/tool/README.md)
  bench plot A.json [B.json ...] -o OUT.svg
                      latency-by-percentile chart of saved runs
  demo [--port-offset N]
                      run the Bookinfo demo on loopback (what \`npm start\` does; README.md, Walkthrough)
  version             print the version

See docs/ for the config reference and operations guide.
`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'proxy':
      return (await import('./proxy-command')).proxyCommand(rest);
    case 'control':
      return (await import('./control-command')).controlCommand(rest);
    case 'validate':
      return validate(rest);
    case 'apply':
    case 'delete':
    case 'get':
    case 'status':
    case 'history':
    case 'rollback':
      return (await import('../../control/cli')).operatorCommand(cmd, rest);
    case 'filter':
      return (await import('./filter-command')).filterCommand(rest);
    case 'bench':
      return (await import('../../bench/tool/cli')).benchCommand(rest);
    case 'demo':
      return (await import('../../examples/bookinfo/demo')).runDemo(rest);
    case 'version':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`wasmesh: unknown command "${cmd}"\n\n${USAGE}`);
      process.exit(2);
  }
}

async function validate(argv: string[]): Promise<void> {
  let a;
  try {
    a = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`wasmesh validate: ${(e as Error).message}\n`);
    process.exit(2);
  }
  // -f: mesh resources (the control plane's); -c or a lone FILE: a proxy config.
  if (a.flags.has('f') || a.flags.has('filename')) {
    if (a.flags.has('c') || a.flags.has('config') || a.positional.length > 0) {
      process.stderr.write('wasmesh validate: -f checks mesh resources, -c FILE a proxy config; give one or the other\n');
      process.exit(2);
    }
    return (await import('../../control/cli')).operatorCommand('validate', argv);
  }
  const file = flag(a, 'c', 'config') ?? a.positional[0];
  if (!file) {
    process.stderr.write('wasmesh validate: -c FILE (proxy config) or -f FILE|DIR (mesh resources) is required\n');
    process.exit(2);
  }
  const { loadProxyConfigFile } = await import('../config/load');
  let config;
  try {
    config = loadProxyConfigFile(file);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  // The filters are compiled and configured as the proxy would, so a filter that refuses its config fails here too.
  const { checkFilters } = await import('../main/filter-check');
  const problems = await checkFilters(config);
  if (problems.length > 0) {
    process.stderr.write(`${file}: ${problems.length} filter${problems.length === 1 ? '' : 's'} cannot load:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  const n = config.listeners.reduce((a, l) => a + l.filters.length, 0);
  process.stdout.write(`${file}: ok${n > 0 ? ` (${n} filter${n === 1 ? '' : 's'} compiled and configured)` : ''}\n`);
}
