// `-f FILE|DIR|-` arguments → the YAML files they name, read. A directory
// means its *.yaml / *.yml files, sorted by name, not recursive; `-` is
// stdin. Every argument that cannot be read is reported, not just the first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliError } from './errors';

export interface InputFile {
  /** How messages name the file: the path as given (DIR/NAME for a directory's files), or `<stdin>`. */
  source: string;
  /** What relative paths in the file (a FilterBundle's `module`) are relative to. */
  dir: string;
  text: string;
}

export const STDIN = '<stdin>';
const YAML_FILE = /\.ya?ml$/i;

export interface CollectOptions {
  /** Reads stdin; default fs.readFileSync(0). */
  readStdin?: () => string;
  cwd?: string;
}

/** @throws CliError CLI_FILES listing every argument that cannot be read; CLI_USAGE without arguments. */
export function collectFiles(args: readonly string[], opts: CollectOptions = {}): InputFile[] {
  if (args.length === 0) throw new CliError('-f FILE|DIR is required (a YAML file, a directory of them, or - for stdin)', 'CLI_USAGE');
  const cwd = opts.cwd ?? process.cwd();
  const out: InputFile[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let stdinUsed = false;
  const add = (source: string, file: string): void => {
    const abs = path.resolve(cwd, file);
    if (seen.has(abs)) return; // the same file twice (`-f a.yaml -f .`) would only be a duplicate of itself
    seen.add(abs);
    try {
      out.push({ source, dir: path.dirname(abs), text: fs.readFileSync(abs, 'utf8') });
    } catch (e) {
      problems.push(`${source}: ${reason(e)}`);
    }
  };
  for (const arg of args) {
    if (arg === '-') {
      if (stdinUsed) {
        problems.push('-: stdin can be given only once');
        continue;
      }
      stdinUsed = true;
      try {
        out.push({ source: STDIN, dir: cwd, text: (opts.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() });
      } catch (e) {
        problems.push(`${STDIN}: ${reason(e)}`);
      }
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path.resolve(cwd, arg));
    } catch (e) {
      problems.push(`${arg}: ${reason(e)}`);
      continue;
    }
    if (!stat.isDirectory()) {
      add(arg, arg);
      continue;
    }
    let names: string[];
    try {
      names = fs.readdirSync(path.resolve(cwd, arg), { withFileTypes: true })
        .filter((e) => YAML_FILE.test(e.name) && (e.isFile() || e.isSymbolicLink()))
        .map((e) => e.name)
        .sort();
    } catch (e) {
      problems.push(`${arg}: ${reason(e)}`);
      continue;
    }
    if (names.length === 0) problems.push(`${arg}: no *.yaml or *.yml files in this directory`);
    for (const n of names) add(path.join(arg, n), path.join(arg, n));
  }
  if (problems.length > 0) throw new CliError(`cannot read ${problems.length === 1 ? 'a file' : `${problems.length} files`}`, 'CLI_FILES', problems);
  return out;
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}
