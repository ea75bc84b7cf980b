// `wasmesh filter new`: writes a filter project from sdk/templates/filter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT, SDK_TEMPLATES_DIR } from './paths';

export interface ScaffoldOptions {
  /** Filter name: lowercase letters, digits, '-' and '_', starting with a letter. */
  name: string;
  /** Target directory (default `./<name>`); must not exist or be empty. */
  dir?: string;
}

export interface ScaffoldResult {
  dir: string;
  /** Written files, relative to `dir`. */
  files: string[];
}

export const FILTER_NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * Copies the template: `__NAME__` is replaced by the name in every file, a
 * `.tmpl` suffix is dropped, `gitignore` becomes `.gitignore` (npm would drop
 * a real .gitignore from the published template).
 */
export function scaffoldFilter(opts: ScaffoldOptions): ScaffoldResult {
  if (!FILTER_NAME_RE.test(opts.name)) {
    throw new Error(`invalid filter name "${opts.name}": use lowercase letters, digits, '-' and '_', starting with a letter`);
  }
  const dir = path.resolve(opts.dir ?? opts.name);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new Error(`${dir} exists and is not empty`);
  }
  const templateDir = path.join(SDK_TEMPLATES_DIR, 'filter');
  // A private package: the project depends on this copy of wasmesh by path.
  const rel = path.relative(dir, PACKAGE_ROOT).split(path.sep).join('/');
  const vars: Record<string, string> = { __NAME__: opts.name, __WASMESH_SPEC__: `file:${rel || '.'}` };
  const files: string[] = [];
  const walk = (from: string, to: string): void => {
    fs.mkdirSync(to, { recursive: true });
    for (const e of fs.readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const src = path.join(from, e.name);
      let outName = e.name.replace(/\.tmpl$/, '');
      if (outName === 'gitignore') outName = '.gitignore';
      const dst = path.join(to, outName);
      if (e.isDirectory()) {
        walk(src, dst);
        continue;
      }
      let text = fs.readFileSync(src, 'utf8');
      for (const [k, v] of Object.entries(vars)) text = text.split(k).join(v);
      fs.writeFileSync(dst, text);
      files.push(path.relative(dir, dst).split(path.sep).join('/'));
    }
  };
  walk(templateDir, dir);
  return { dir, files };
}
