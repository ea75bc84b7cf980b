// Builds the built-in filters: every filters/NAME/assembly/index.ts becomes
// dist/filters/NAME.wasm + dist/filters/NAME.json. Two compiles at a time
// (each asc is single-threaded and takes 1-3 s). Exits non-zero with the
// compiler's message if any filter fails.
//
//   node dist/sdk/build/build-builtins.js   (the build runs it after tsc)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildFilter, type BuildResult } from './build-filter';
import { PACKAGE_ROOT } from './paths';

export interface BuiltinsOptions {
  /** Directory holding NAME/assembly/index.ts (default: <package>/filters). */
  filtersDir?: string;
  /** Output directory (default: <package>/dist/filters). */
  outDir?: string;
  /** Parallel compiles (default 2). */
  concurrency?: number;
  optimize?: boolean;
  /** Progress lines (default: stdout). */
  log?: (line: string) => void;
}

export interface BuiltinsReport {
  built: BuildResult[];
  failed: { name: string; error: Error }[];
}

/** Names of the built-in filters (directories with assembly/index.ts), sorted. */
export function listBuiltinFilters(filtersDir: string): string[] {
  if (!fs.existsSync(filtersDir)) return [];
  return fs
    .readdirSync(filtersDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(filtersDir, e.name, 'assembly', 'index.ts')))
    .map((e) => e.name)
    .sort();
}

export async function buildBuiltins(opts: BuiltinsOptions = {}): Promise<BuiltinsReport> {
  const filtersDir = opts.filtersDir ?? path.join(PACKAGE_ROOT, 'filters');
  const outDir = opts.outDir ?? path.join(PACKAGE_ROOT, 'dist', 'filters');
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const names = listBuiltinFilters(filtersDir);
  const report: BuiltinsReport = { built: [], failed: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++]!;
      try {
        const r = await buildFilter({
          dir: path.join(filtersDir, name),
          name,
          outFile: path.join(outDir, `${name}.wasm`),
          optimize: opts.optimize ?? true,
        });
        report.built.push(r);
        log(`  ${name}.wasm  ${r.size} bytes  sha256 ${r.sha256.slice(0, 16)}…  (${(r.durationMs / 1000).toFixed(1)} s)`);
      } catch (e) {
        report.failed.push({ name, error: e as Error });
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 2, names.length));
  await Promise.all(Array.from({ length: n }, worker));
  report.built.sort((a, b) => a.name.localeCompare(b.name));
  return report;
}

async function main(): Promise<void> {
  const report = await buildBuiltins();
  if (report.built.length === 0 && report.failed.length === 0) {
    process.stdout.write('build-builtins: no built-in filters (filters/*/assembly/index.ts)\n');
    return;
  }
  for (const f of report.failed) process.stderr.write(`build-builtins: ${f.name}: ${f.error.message}\n`);
  if (report.failed.length > 0) process.exit(1);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`build-builtins: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
