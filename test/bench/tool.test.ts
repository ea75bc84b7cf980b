// The load tool against real sockets on 127.0.0.1: request counts, the
// coordinated-omission correction, error kinds.
import { strict as assert } from 'assert';
import { describe, it } from 'node:test';
import { countAtOrAbove, decode } from '../../bench/tool/histogram';
import { runBench } from '../../bench/tool/run';
import type { BenchOptions } from '../../bench/tool/types';
import { countingServer, freePort, OK_CHUNKED, OK_CL, timeoutOrReset } from './helpers';

function opts(port: number, o: Partial<BenchOptions>): BenchOptions {
  return {
    url: `http://127.0.0.1:${port}/count?x=1`,
    mode: 'closed',
    rate: 0,
    connections: 4,
    duration: 0.6,
    warmup: 0.2,
    workers: 1,
    method: 'GET',
    headers: [],
    body: null,
    timeoutMs: 2000,
    ...o,
  };
}

describe('bench tool: counts', () => {
  it('closed loop, 2 workers: every request the server saw is counted once, content-length and chunked', async () => {
    const srv = await countingServer((n, sock) => sock.write(n % 2 ? OK_CL : OK_CHUNKED));
    try {
      const r = await runBench(opts(srv.port, { workers: 2, connections: 6 }));
      assert.equal(r.errorsTotal, 0, JSON.stringify(r.errors));
      assert.ok(r.requests.sentTotal > 100, `only ${r.requests.sentTotal} requests`);
      assert.equal(r.requests.sentTotal, srv.count());
      assert.equal(r.requests.completedTotal, srv.count());
      assert.equal(r.status['200'], r.requests.completed);
      assert.ok(r.requests.completed < r.requests.completedTotal, 'warm-up requests are not in the measured window');
      assert.equal(r.latency.count, r.requests.completed);
      assert.equal(srv.connections(), 6);
      assert.equal(r.connect.count, 6);
    } finally {
      await srv.close();
    }
  });

  it('open loop: sends exactly rate × time requests; "Connection: close" responses reconnect', async () => {
    const CLOSE = Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', 'latin1');
    const srv = await countingServer((n, sock) => {
      if (n % 25 === 0) sock.end(CLOSE);
      else sock.write(OK_CL);
    });
    try {
      const r = await runBench(opts(srv.port, { mode: 'open', rate: 500, workers: 2, connections: 4, duration: 1, warmup: 0.2 }));
      assert.equal(r.errorsTotal, 0, JSON.stringify(r.errors));
      assert.equal(r.requests.sentTotal, 600); // 500/s × 1.2 s
      assert.equal(r.requests.intended, 500);
      assert.equal(r.requests.completed, 500);
      assert.equal(srv.count(), 600);
      assert.equal(r.requests.unsent, 0);
      assert.equal(r.targetMet, true);
      assert.ok(r.connections.reconnects >= 20, `reconnects ${r.connections.reconnects}`);
      assert.ok(Math.abs(r.achievedRps - 500) < 1);
    } finally {
      await srv.close();
    }
  });
});

describe('bench tool: coordinated omission', () => {
  it('a 500 ms stall is charged to every request due during it (200 rps, 1 connection, 3 s)', async () => {
    let stalled = false;
    const srv = await countingServer((n, sock) => {
      if (n === 200 && !stalled) {
        stalled = true; // one stall of 500 ms, 1 s into the run
        setTimeout(() => sock.write(OK_CL), 500);
      } else sock.write(OK_CL);
    });
    try {
      const r = await runBench(opts(srv.port, { mode: 'open', rate: 200, connections: 1, duration: 3, warmup: 0 }));
      assert.equal(r.errorsTotal, 0);
      assert.equal(r.requests.completed, 600);
      const lat = decode(r.histograms.latency);
      const svc = decode(r.histograms.service);
      // 100 requests were due during the stall; the one in flight waited 500 ms,
      // the ones after it waited for the connection: latencies fall from 500 ms
      // to ~0 across the stall, so about 50 are >= 250 ms and about 100 >= 5 ms.
      const over250 = countAtOrAbove(lat, 250_000);
      const over5 = countAtOrAbove(lat, 5_000);
      assert.ok(over250 >= 40 && over250 <= 60, `requests >= 250 ms: ${over250}`);
      assert.ok(over5 >= 90, `requests >= 5 ms: ${over5}`);
      assert.ok(r.latency.p99 >= 400, `p99 ${r.latency.p99} ms`);
      assert.ok(r.latency.max >= 490, `max ${r.latency.max} ms`);
      // Measured from the actual write (what a closed-loop tool sees), the stall is one request.
      assert.equal(countAtOrAbove(svc, 250_000), 1);
      assert.ok(r.service.p99 < 100, `service p99 ${r.service.p99} ms`);
      assert.equal(r.targetMet, true);
    } finally {
      await srv.close();
    }
  });
});

describe('bench tool: errors', () => {
  it('refuses to start when nothing listens (connect refused)', async () => {
    const port = await freePort();
    await assert.rejects(runBench(opts(port, {})), /cannot connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('counts timeouts, resets and non-2xx statuses by kind', async () => {
    const srv = await countingServer((n, sock) => {
      if (timeoutOrReset(n, sock)) return;
      if (n === 15) {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal');
        sock.destroy(); // closed mid-body
        return;
      }
      sock.write(n % 3 === 0 ? 'HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n' : OK_CL);
    });
    try {
      const r = await runBench(opts(srv.port, { connections: 1, duration: 0.8, warmup: 0, timeoutMs: 200 }));
      assert.equal(r.errors.timeout, 1, JSON.stringify(r.errors));
      assert.equal(r.errors.reset, 2, JSON.stringify(r.errors));
      assert.ok(r.status['503']! > 0 && r.status['200']! > 0, JSON.stringify(r.status));
      assert.equal(r.connections.reconnects, 3);
      assert.equal(r.requests.sentTotal, srv.count());
      assert.ok(r.warnings.some((w) => /errors/.test(w)));
    } finally {
      await srv.close();
    }
  });
});

describe('bench tool: open loop with the pacer thread', () => {
  it('timeouts (from the write time), resets, extra bytes, HEAD; every request the server saw is counted once', async () => {
    const HEAD_OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'latin1'); // no body: HEAD
    const srv = await countingServer((n, sock) => {
      if (timeoutOrReset(n, sock)) return;
      if (n === 15) {
        sock.write('HTTP/1.1 200 O');
        sock.destroy(); // closed mid-head
        return;
      }
      if (n === 20) {
        sock.write(Buffer.concat([HEAD_OK, Buffer.from('junk')])); // more than one response
        return;
      }
      sock.write(HEAD_OK);
    });
    try {
      const t = Date.now();
      const r = await runBench(opts(srv.port, { mode: 'open', rate: 200, connections: 2, duration: 1, warmup: 0, timeoutMs: 200, method: 'HEAD' }));
      assert.ok(Date.now() - t < 3000, `took ${Date.now() - t} ms`);
      assert.deepEqual(r.errors, { timeout: 1, reset: 2, parse: 1 });
      assert.equal(r.connections.reconnects, 4);
      assert.equal(r.requests.intended, 200);
      assert.equal(r.requests.sentTotal, 200);
      assert.equal(srv.count(), 200);
      assert.equal(r.requests.unsent, 0);
      assert.equal(r.requests.completed, 196);
      assert.equal(r.status['200'], 196);
      // the timed-out request is not in the latency histogram; nothing waited long
      assert.ok(r.latency.max < 190, `max ${r.latency.max} ms`);
    } finally {
      await srv.close();
    }
  });

  it('the tool does not spin while requests are in flight (CPU use at 1000 req/s)', async () => {
    // Every request is in flight when the next one is due (3 ms answers):
    // a tool that polls its event loop to keep time burns a core here.
    const srv = await countingServer((_n, sock) => setTimeout(() => sock.write(OK_CL), 3));
    try {
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const r = await runBench(opts(srv.port, { mode: 'open', rate: 1000, connections: 10, duration: 2, warmup: 0 }));
      const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      assert.equal(r.errorsTotal, 0);
      assert.equal(r.requests.completed, 2000);
      // This process: the tool's threads and the test server. Mostly the
      // pacer's last 150 µs of spinning before each request (~15 %).
      const share = (cpu.user + cpu.system) / wallUs;
      assert.ok(share < 0.6, `CPU ${(100 * share).toFixed(0)} % of one core`);
    } finally {
      await srv.close();
    }
  });
});
