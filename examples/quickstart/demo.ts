// `npm start` (wasmesh demo): two small HTTP services behind a wasmesh proxy,
// all on loopback. A stand-in until the Bookinfo mesh demo lands; it shows
// load balancing, health checks, outlier detection and the admin API.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN } from '../../runtime/core/paths';

const LISTEN = 8080;
const ADMIN = 15000;
const SERVICES = [9101, 9102];

function service(port: number, name: string): http.Server {
  let failing = false;
  const s = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(failing ? 503 : 200).end(failing ? 'unhealthy\n' : 'ok\n');
      return;
    }
    if (req.url === '/fail') failing = true;
    if (req.url === '/recover') failing = false;
    res.writeHead(failing && req.url !== '/recover' ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: name, port, path: req.url, requestId: req.headers['x-request-id'], forwardedFor: req.headers['x-forwarded-for'] }) + '\n');
  });
  s.listen(port, '127.0.0.1');
  return s;
}

export async function runDemo(): Promise<void> {
  const servers = SERVICES.map((p, i) => service(p, `web-${i + 1}`));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-demo-'));
  const config = path.join(dir, 'proxy.yaml');
  fs.writeFileSync(
    config,
    `admin: { address: 127.0.0.1:${ADMIN} }
accessLog: { path: ${path.join(dir, 'access.log')} }
listeners:
  - name: edge
    address: 127.0.0.1:${LISTEN}
    defaultCluster: web
clusters:
  - name: web
    endpoints: [${SERVICES.map((p) => `127.0.0.1:${p}`).join(', ')}]
    lb: round_robin
    healthCheck: { path: /healthz, interval: 1s, unhealthyThreshold: 2, healthyThreshold: 1 }
    outlierDetection: { consecutive5xx: 3, interval: 1s, baseEjectionTime: 10s, maxEjectionPercent: 50 }
`,
  );
  const proxy: ChildProcess = spawn(process.execPath, [BIN, 'proxy', '-c', config, '--workers', '2'], { stdio: ['ignore', 'inherit', 'inherit'] });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping...\n');
    proxy.kill('SIGTERM');
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  proxy.on('exit', (code) => {
    for (const s of servers) s.close();
    process.exit(stopping ? 0 : code ?? 1);
  });
  await waitReady();
  process.stdout.write(`
wasmesh demo is up (config: ${config})

  proxy    http://127.0.0.1:${LISTEN}/        -> services web-1 :${SERVICES[0]}, web-2 :${SERVICES[1]}
  admin    http://127.0.0.1:${ADMIN}/help

Try:
  curl -s localhost:${LISTEN}/hello                       # spread over web-1 and web-2 (round robin per worker)
  curl -s localhost:${ADMIN}/clusters                     # endpoint health, ejections, active requests
  curl -s localhost:${ADMIN}/stats/prometheus | grep rq_total
  curl -s localhost:${SERVICES[0]}/fail; for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' localhost:${LISTEN}/; done
                                                          # web-1 fails: outlier detection ejects it
  curl -s localhost:${SERVICES[0]}/recover                # it comes back after the ejection time
  tail -f ${path.join(dir, 'access.log')}

Ctrl-C stops everything.
`);
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      http.get({ host: '127.0.0.1', port: ADMIN, path: '/ready', agent: false }, (res) => {
        res.resume();
        r(res.statusCode === 200);
      }).on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('proxy did not become ready');
}
