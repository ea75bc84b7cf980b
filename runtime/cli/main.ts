// `wasmesh` command dispatcher.
import { flag, parseArgs } from './args';
import { BIN, VERSION } from '../core/paths';

const USAGE = `usage: wasmesh <command> [options]

commands:
  proxy -c FILE [--workers N] [--no-supervisor]
                      run the proxy (gateway or sidecar) from a YAML config
  validate -c FILE    check a proxy config and list every error (filters are compiled and configured too)
  filter new|build|test
                      create, compile and test a proxy-wasm filter
  demo                run the loopback demo (what \`npm start\` does)
  version             print the version

See docs/ for the config reference and operations guide.
`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'proxy':
      return proxy(rest);
    case 'validate':
      return validate(rest);
    case 'filter':
      return (await import('./filter-command')).filterCommand(rest);
    case 'demo':
      return (await import('../../examples/quickstart/demo')).runDemo();
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

async function proxy(argv: string[]): Promise<void> {
  const a = parseArgs(argv, ['no-supervisor']);
  const configPath = flag(a, 'c', 'config');
  if (!configPath) {
    process.stderr.write('wasmesh proxy: -c FILE is required\n');
    process.exit(2);
  }
  const workersFlag = flag(a, 'workers');
  const workers = workersFlag === undefined ? undefined : Number(workersFlag);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    process.stderr.write(`wasmesh proxy: --workers must be a positive integer, got "${workersFlag}"\n`);
    process.exit(2);
  }
  if (process.env.WASMESH_SUPERVISED !== '1' && flag(a, 'no-supervisor') === undefined) {
    const { supervise } = await import('../main/supervisor');
    return supervise(BIN, ['proxy', ...argv]);
  }
  const { runProxy } = await import('../main/proxy-main');
  return runProxy({ configPath, ...(workers !== undefined ? { workers } : {}) });
}

async function validate(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const file = flag(a, 'c', 'config', 'f') ?? a.positional[0];
  if (!file) {
    process.stderr.write('wasmesh validate: -c FILE is required\n');
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
