// `wasmesh control`: one process serving the REST API and the proxy stream on
// one port, with the store, bundles and registry in the data dir.
import * as path from 'node:path';
import { collectFiles } from '../cli/files';
import { prepareFiles } from '../cli/bundles';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { log, setLogPrefix } from '../../runtime/log/logger';
import { loadOrCreateToken } from '../store';
import { apiHandler } from './api';
import { ControlPlane } from './control-plane';
import { ControlError } from './errors';
import { mountStream } from './stream';
import type { MeshSource } from '../mesh';

export interface ControlMainOptions {
  /** Files or dirs for the initial mesh (used only while the store is empty). */
  config: string[];
  dataDir: string;
  host: string;
  port: number;
  heartbeatMs: number;
  graceMs: number;
}

export async function runControl(o: ControlMainOptions): Promise<void> {
  setLogPrefix('control');
  const cp = new ControlPlane({ dataDir: o.dataDir, heartbeatMs: o.heartbeatMs, graceMs: o.graceMs });
  try {
    await cp.open();
  } catch (e) {
    process.stderr.write(`wasmesh control: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const { token, created } = await loadOrCreateToken(o.dataDir);
  if (created) log('info', `new access token written to ${path.join(o.dataDir, 'token')}`);
  if (o.config.length > 0) {
    if (cp.configVersion > 0) {
      log('info', `the store has version ${cp.configVersion}; ${o.config.join(', ')} ignored (change the mesh with \`wasmesh apply\`)`);
    } else {
      try {
        const documents = await initialDocuments(cp, o.config);
        const r = await cp.apply({ documents, author: 'wasmesh control -c', message: `initial config from ${o.config.join(', ')}` });
        log('info', `initial config from ${o.config.join(', ')}: version ${r.version}`);
      } catch (e) {
        const problems = e instanceof ControlError ? e.problems : [];
        process.stderr.write(`wasmesh control: ${(e as Error).message}${problems.length > 0 ? `\n  ${problems.join('\n  ')}` : ''}\n`);
        await cp.close();
        process.exit(1);
      }
    }
  }
  const server = http.createServer(apiHandler(cp, token));
  server.keepAliveTimeout = 5_000;
  const wss = mountStream(server, cp, token);
  const port = await new Promise<number>((resolve) => {
    server.once('error', (e) => {
      process.stderr.write(`wasmesh control: cannot listen on ${o.host}:${o.port}: ${e.message}\n`);
      resolve(-1);
    });
    server.listen(o.port, o.host, () => resolve((server.address() as AddressInfo).port));
  });
  if (port < 0) {
    await cp.close();
    process.exit(1);
  }
  log('info', `control plane listening on ${o.host}:${port} (config version ${cp.configVersion}, data dir ${o.dataDir})`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of wss.clients) c.close(1001, 'control plane stopping');
    server.close();
    server.closeAllConnections();
    await cp.close();
    log('info', 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/** The -c files, their FilterBundle modules stored as bundles and replaced by their sha256 (what `wasmesh apply` does). */
async function initialDocuments(cp: ControlPlane, paths: string[]): Promise<MeshSource[]> {
  let files;
  try {
    files = collectFiles(paths);
  } catch (e) {
    throw new ControlError((e as Error).message, 'BAD_REQUEST', (e as { problems?: string[] }).problems ?? []);
  }
  const prepared = prepareFiles(files);
  if (prepared.problems.length > 0) throw new ControlError('filter bundle modules cannot be used', 'CONFIG_INVALID', prepared.problems);
  for (const m of prepared.uploads) await cp.bundles.put(m.sha256, m.bytes);
  return prepared.documents;
}
