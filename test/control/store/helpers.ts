import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export function tempDataDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The compiled store module, for scripts run in a child process. */
export const STORE_MODULE = path.join(__dirname, '..', '..', '..', 'control', 'store', 'index.js');

/** A pid that belonged to a process which has exited and been reaped. */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (r.pid === undefined) throw new Error('spawn failed');
  return r.pid;
}

export function doc(name: string, weight: number): string {
  return [
    'apiVersion: networking.istio.io/v1alpha3',
    'kind: VirtualService',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  hosts: [reviews]',
    '  http:',
    '  - route:',
    '    - destination: {host: reviews, subset: v1}',
    `      weight: ${weight}`,
    '    - destination: {host: reviews, subset: v3}',
    `      weight: ${100 - weight}`,
    '',
  ].join('\n');
}
