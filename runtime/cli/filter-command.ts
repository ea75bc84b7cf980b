// `wasmesh filter new|build|test`: scaffold, compile and test AssemblyScript filters.
import * as path from 'node:path';
import { flag, parseArgs } from './args';

const USAGE = `usage: wasmesh filter <command> [options]

commands:
  new NAME [--dir D]          create a filter project in D (default ./NAME)
  build [DIR] [--out FILE] [--debug] [--wat]
                              compile DIR/assembly/index.ts (default DIR .)
                              to DIR/build/NAME.wasm + NAME.json (manifest)
  test [DIR]                  build, then run DIR/test/*.test.{js,mjs,cjs}
                              with node --test
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`wasmesh filter: ${message}\n`);
  process.exit(code);
}

export async function filterCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'new':
      return newFilter(rest);
    case 'build':
      return build(rest);
    case 'test':
      return test(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`wasmesh filter: unknown command "${sub}"\n\n${USAGE}`);
      process.exit(2);
  }
}

function parse(argv: string[], booleans: string[] = []): ReturnType<typeof parseArgs> {
  try {
    return parseArgs(argv, booleans);
  } catch (e) {
    return fail((e as Error).message, 2);
  }
}

async function newFilter(argv: string[]): Promise<void> {
  const a = parse(argv);
  const name = a.positional[0];
  if (!name || a.positional.length > 1) fail('usage: wasmesh filter new NAME [--dir D]', 2);
  const { scaffoldFilter } = await import('../../sdk/build/scaffold');
  let result;
  try {
    result = scaffoldFilter({ name, dir: flag(a, 'dir') });
  } catch (e) {
    return fail((e as Error).message);
  }
  const rel = path.relative(process.cwd(), result.dir) || '.';
  process.stdout.write(`created ${rel}/\n${result.files.map((f) => `  ${f}\n`).join('')}\n`);
  process.stdout.write(`next:\n  cd ${rel}\n  wasmesh filter build\n  wasmesh filter test\n`);
}

async function buildAndReport(argv: string[], booleans: string[]) {
  const a = parse(argv, booleans);
  if (a.positional.length > 1) fail(`expected at most one directory, got ${a.positional.join(' ')}`, 2);
  const dir = path.resolve(a.positional[0] ?? '.');
  const { buildFilter } = await import('../../sdk/build/build-filter');
  try {
    const r = await buildFilter({
      dir,
      outFile: flag(a, 'out', 'o'),
      optimize: flag(a, 'debug') === undefined,
      wat: flag(a, 'wat') !== undefined,
    });
    if (r.warnings) process.stderr.write(`${r.warnings}\n`);
    const rel = path.relative(process.cwd(), r.wasmPath) || r.wasmPath;
    process.stdout.write(`${rel}  ${r.size} bytes  sha256 ${r.sha256}\n`);
    return { dir, result: r };
  } catch (e) {
    return fail((e as Error).message);
  }
}

async function build(argv: string[]): Promise<void> {
  await buildAndReport(argv, ['debug', 'wat']);
}

async function test(argv: string[]): Promise<void> {
  const { dir } = await buildAndReport(argv, ['debug']);
  const { runFilterTests } = await import('../../sdk/build/run-tests');
  const r = await runFilterTests(dir);
  if (r.files.length === 0) {
    process.stdout.write(`no test files in ${path.join(dir, 'test')} (*.test.js, *.test.mjs, *.test.cjs)\n`);
    return;
  }
  if (r.exitCode !== 0) process.exit(r.exitCode);
}
