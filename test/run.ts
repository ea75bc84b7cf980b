// Runs every compiled test file (test/, sdk/, filters/) with node's test runner. Files under
// test/proxy start real proxy processes, so at most two run at once (2 cores).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function find(dir: string, out: string[]): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) find(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const root = path.join(__dirname, '..');
const dirs = ['test', 'sdk', 'filters'].map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
const files = dirs.flatMap((d) => find(d, [])).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
