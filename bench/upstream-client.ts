// Micro-benchmark of the upstream HTTP/1.1 client: requests/s against a
// local keep-alive server (a child process, so it does not share our event
// loop) that answers every request with the same 64-byte response.
//
//   node dist/bench/upstream-client.js [--concurrency 50] [--seconds 5] [--node-http]
//
// --node-http also measures node:http with a keep-alive Agent, for scale.
import { fork, type ChildProcess } from 'child_process';
import * as http from 'http';
import * as net from 'net';
import type { UpstreamError } from '../runtime/core/errors';
import { ClusterBudget, EndpointPool } from '../runtime/upstream/endpoint-pool';
import type { PoolWaiter, UpstreamHandler, UpstreamRequestSink } from '../runtime/upstream/types';

// 17 + 20 + 2 + 25 = 64 bytes.
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n' + 'x'.repeat(25), 'latin1');
if (RESPONSE.length !== 64) throw new Error(`response is ${RESPONSE.length} bytes`);

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function runServer(): void {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    // Count "\r\n\r\n" across reads; requests have no body.
    let state = 0;
    sock.on('data', (d: Buffer) => {
      let n = 0;
      for (let i = 0; i < d.length; i++) {
        const c = d[i];
        if (c === 13) state = state === 2 ? 3 : 1;
        else if (c === 10) {
          if (state === 3) {
            n++;
            state = 0;
          } else state = state === 1 ? 2 : 0;
        } else state = 0;
      }
      if (n === 1) sock.write(RESPONSE);
      else if (n > 1) {
        const out = Buffer.allocUnsafe(64 * n);
        for (let k = 0; k < n; k++) RESPONSE.copy(out, k * 64);
        sock.write(out);
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as net.AddressInfo).port));
  process.on('disconnect', () => process.exit(0));
}

interface Stats {
  done: number;
  errors: number;
  running: boolean;
}

const HEAD = 'GET /bench HTTP/1.1\r\nhost: 127.0.0.1\r\nuser-agent: wasmesh-bench';

/** One closed loop: a request is issued as soon as the previous one ends. */
class Loop implements PoolWaiter, UpstreamHandler {
  constructor(
    private readonly pool: EndpointPool,
    private readonly stats: Stats,
  ) {}
  go(): void {
    this.pool.acquire(this);
  }
  onPoolReady(conn: UpstreamRequestSink): void {
    conn.start(HEAD, 0, false, this);
  }
  onPoolFailure(err: UpstreamError): void {
    this.stats.errors++;
    if (this.stats.errors < 5) console.error(err.message);
    if (this.stats.running) setTimeout(() => this.go(), 10);
  }
  onResponseHeaders(): void {}
  onResponseData(): boolean {
    return true;
  }
  onResponseEnd(): void {
    this.stats.done++;
    if (this.stats.running) this.go();
  }
  onResponseError(err: UpstreamError): void {
    this.stats.errors++;
    if (this.stats.errors < 5) console.error(err.message);
    if (this.stats.running) this.go();
  }
  onRequestDrain(): void {}
}

async function measure(name: string, seconds: number, startAll: (stats: Stats) => void): Promise<number> {
  const stats: Stats = { done: 0, errors: 0, running: true };
  startAll(stats);
  await new Promise((r) => setTimeout(r, 500)); // warm-up
  const d0 = stats.done;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const d1 = stats.done;
  const t1 = process.hrtime.bigint();
  stats.running = false;
  const rps = ((d1 - d0) * 1e9) / Number(t1 - t0);
  console.log(`${name}: ${Math.round(rps)} req/s (${d1 - d0} requests in ${seconds}s, ${stats.errors} errors)`);
  await new Promise((r) => setTimeout(r, 100));
  return rps;
}

async function main(): Promise<void> {
  const concurrency = arg('--concurrency', 50);
  const seconds = arg('--seconds', 5);
  const child: ChildProcess = fork(__filename, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));

  const pool = new EndpointPool({
    host: '127.0.0.1',
    port,
    budget: new ClusterBudget(concurrency, 1024),
    connectTimeoutMs: 1000,
    idleTimeoutMs: 60_000,
  });
  await measure(`wasmesh upstream client, ${concurrency} concurrent`, seconds, (stats) => {
    for (let i = 0; i < concurrency; i++) new Loop(pool, stats).go();
  });
  pool.close();

  if (process.argv.includes('--node-http')) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    await measure(`node:http Agent, ${concurrency} concurrent`, seconds, (stats) => {
      const one = (): void => {
        const req = http.request({ host: '127.0.0.1', port, path: '/bench', agent }, (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            stats.done++;
            if (stats.running) one();
          });
        });
        req.on('error', () => {
          stats.errors++;
        });
        req.end();
      };
      for (let i = 0; i < concurrency; i++) one();
    });
    agent.destroy();
  }
  child.kill();
}

if (process.argv.includes('--server')) runServer();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
