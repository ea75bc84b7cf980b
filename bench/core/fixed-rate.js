#!/usr/bin/env node
'use strict';
// Open-loop constant-rate HTTP/1.1 load generator (no dependencies).
//
//   node bench/core/fixed-rate.js --url http://127.0.0.1:8080/ \
//        [--rate 1000] [--duration 10] [--connections 10] [--warmup 1] [--timeout 2000]
//
// Request i (i = 0, 1, 2, ...) is *intended* to be sent at t0 + i/rate. It is
// written on the first idle keep-alive connection of a fixed pool; when all
// connections are busy it waits in a FIFO for the next connection that frees
// up (no pipelining). Latency is measured from the intended send time, not from
// the actual write, so a stall anywhere (proxy, generator, connection pool) is
// charged to every request it delayed: coordinated omission is corrected.
//
// Timing: libuv timers have 1 ms resolution, which would add up to ~1 ms of
// generator-made lateness to every request. Instead a worker thread sleeps
// precisely with Atomics.wait (sub-ms timeouts) until each intended time and
// wakes the main thread with postMessage; the main thread does all socket I/O.
// Requests are pre-built bytes; the response parser understands only what the
// benchmark needs (status line, Content-Length or chunked bodies).
//
// Output (stdout): one JSON object with p50/p90/p99/p999/max in microseconds,
// counts and errors. Samples from the first --warmup seconds are dropped.

const net = require('net');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

if (!isMainThread) {
  // ---- alarm-clock thread -------------------------------------------------
  const { t0ns, intervalNs, total } = workerData;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const t0 = BigInt(t0ns);
  const iv = BigInt(intervalNs);
  const EARLY_NS = BigInt(Math.round(Number(process.env.FIXED_RATE_EARLY_US || 120) * 1000));
  for (let i = 0; i < total; i++) {
    const target = t0 + BigInt(i) * iv;
    for (;;) {
      const now = process.hrtime.bigint();
      const left = target - now;
      if (left <= 0n) break;
      // Atomics.wait takes fractional milliseconds but overshoots by ~100 us
      // (timer slack + wake-up); wake EARLY_NS before the target and spin the
      // rest (a few us on average).
      if (left > EARLY_NS) Atomics.wait(cell, 0, 0, Number(left - EARLY_NS) / 1e6);
    }
    parentPort.postMessage(i);
  }
  parentPort.postMessage(-1);
  return;
}

// ---- main thread ------------------------------------------------------------
function parseArgs(argv) {
  const o = { url: null, rate: 1000, duration: 10, connections: 10, warmup: 1, timeout: 2000, method: 'GET' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--url': o.url = v; i++; break;
      case '--rate': o.rate = Number(v); i++; break;
      case '--duration': o.duration = Number(v); i++; break;
      case '--connections': o.connections = Number(v); i++; break;
      case '--warmup': o.warmup = Number(v); i++; break;
      case '--timeout': o.timeout = Number(v); i++; break;
      case '-h': case '--help':
        console.log('usage: fixed-rate.js --url URL [--rate N] [--duration S] [--connections N] [--warmup S] [--timeout MS]');
        process.exit(0);
        break;
      default:
        if (!o.url && /^https?:\/\//.test(a)) o.url = a;
        else { console.error('unknown argument ' + a); process.exit(2); }
    }
  }
  if (!o.url) { console.error('--url is required'); process.exit(2); }
  return o;
}

const opt = parseArgs(process.argv);
const u = new URL(opt.url);
const HOST = u.hostname;
const PORT = Number(u.port || 80);
const REQ = Buffer.from(
  `${opt.method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: fixed-rate\r\nAccept: */*\r\n\r\n`,
  'latin1');

const intervalNs = Math.round(1e9 / opt.rate);
const warmupN = Math.round(opt.warmup * opt.rate);
const total = warmupN + Math.round(opt.duration * opt.rate);
const intended = new Float64Array(total); // ns relative to t0
const latUs = new Float64Array(total).fill(-1);
const sendLagUs = new Float64Array(total); // actual write time - intended time (diagnostic)

let t0 = 0n;
let nextToSend = 0; // first request index not yet handed to a connection
let dueUpTo = 0; // requests [0, dueUpTo) are due
let completed = 0;
let okCount = 0;
let errors = { connect: 0, read: 0, status: 0, timeout: 0, closed: 0 };
const idle = [];
const conns = [];
let finishedScheduling = false;
let done = false;

const CRLFCRLF = Buffer.from('\r\n\r\n');

class Conn {
  constructor(id) {
    this.id = id;
    this.sock = null;
    this.buf = null; // pending unparsed bytes
    this.cur = -1; // request index in flight, -1 if idle
    this.ready = false;
    this.connect();
  }
  connect() {
    this.ready = false;
    this.buf = null;
    const s = net.connect({ host: HOST, port: PORT });
    this.sock = s;
    s.setNoDelay(true);
    s.on('connect', () => { this.ready = true; this.becomeIdle(); });
    s.on('data', (d) => this.onData(d));
    s.on('error', () => { if (!this.ready) errors.connect++; });
    s.on('close', () => {
      if (done) return;
      if (this.cur >= 0) { errors.closed++; this.finish(this.cur, false); this.cur = -1; }
      const ix = idle.indexOf(this);
      if (ix >= 0) idle.splice(ix, 1);
      if (!done) setTimeout(() => this.connect(), 10);
    });
  }
  send(i) {
    this.cur = i;
    sendLagUs[i] = (Number(process.hrtime.bigint() - t0) - intended[i]) / 1000;
    this.sock.write(REQ);
  }
  becomeIdle() {
    this.cur = -1;
    if (nextToSend < dueUpTo) { this.send(nextToSend++); return; }
    idle.push(this);
  }
  finish(i, ok) {
    const now = Number(process.hrtime.bigint() - t0);
    latUs[i] = (now - intended[i]) / 1000;
    completed++;
    if (ok) okCount++;
    checkDone();
  }
  onData(d) {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = null;
    for (;;) {
      if (this.cur < 0) { if (b.length) errors.read++; return; } // unsolicited bytes
      const he = b.indexOf(CRLFCRLF);
      if (he < 0) { this.buf = b; return; }
      const head = b.toString('latin1', 0, he);
      const status = Number(head.slice(9, 12));
      const lower = head.toLowerCase();
      let end;
      const cl = lower.indexOf('\r\ncontent-length:');
      if (cl >= 0) {
        let le = lower.indexOf('\r\n', cl + 17);
        if (le < 0) le = lower.length;
        const len = parseInt(lower.slice(cl + 17, le), 10);
        end = he + 4 + len;
        if (b.length < end) { this.buf = b; return; }
      } else if (lower.includes('\r\ntransfer-encoding:') && lower.includes('chunked')) {
        // walk chunks: SIZE\r\n DATA \r\n ... 0\r\n\r\n (no trailers expected)
        let p = he + 4;
        let complete = false;
        for (;;) {
          const le = b.indexOf('\r\n', p, 'latin1');
          if (le < 0) break;
          const size = parseInt(b.toString('latin1', p, le), 16);
          if (size === 0) {
            if (b.length >= le + 4) { end = le + 4; complete = true; }
            break;
          }
          if (b.length < le + 2 + size + 2) break;
          p = le + 2 + size + 2;
        }
        if (!complete) { this.buf = b; return; }
      } else {
        end = he + 4; // e.g. 204/304 without body
      }
      const i = this.cur;
      const ok = status >= 200 && status < 400;
      if (!ok) errors.status++;
      this.finish(i, ok);
      const closeConn = /\r\nconnection:\s*close/.test(lower);
      b = b.subarray(end);
      if (closeConn) { this.cur = -1; this.sock.destroy(); return; }
      this.becomeIdle();
      if (!b.length) return;
    }
  }
}

function dispatch() {
  while (nextToSend < dueUpTo && idle.length) idle.shift().send(nextToSend++);
}

function checkDone() {
  if (!done && finishedScheduling && completed >= total) report();
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

function report() {
  done = true;
  const s = [];
  for (let i = warmupN; i < total; i++) if (latUs[i] >= 0) s.push(latUs[i]);
  s.sort((a, b) => a - b);
  const lag = Array.from(sendLagUs.subarray(warmupN)).sort((a, b) => a - b);
  const measured = total - warmupN;
  const r = (x) => (x == null ? null : Math.round(x * 10) / 10);
  const out = {
    tool: 'fixed-rate.js',
    url: opt.url,
    rate: opt.rate,
    duration_s: opt.duration,
    warmup_s: opt.warmup,
    connections: opt.connections,
    intended: measured,
    completed: s.length,
    ok_total: okCount,
    errors,
    unit: 'us',
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    p999: r(percentile(s, 99.9)),
    max: r(s.length ? s[s.length - 1] : null),
    mean: r(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null),
    // how late requests were actually written vs. their intended time
    // (generator timing error + waiting for a free connection)
    send_lag: { p50: r(percentile(lag, 50)), p99: r(percentile(lag, 99)), max: r(lag[lag.length - 1]) },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  for (const c of conns) c.sock.destroy();
  process.exit(0);
}

function start() {
  t0 = process.hrtime.bigint() + 20_000_000n; // start 20 ms from now
  for (let i = 0; i < total; i++) intended[i] = i * intervalNs;
  const w = new Worker(__filename, { workerData: { t0ns: t0.toString(), intervalNs, total } });
  w.on('message', (i) => {
    if (i < 0) { finishedScheduling = true; checkDone(); return; }
    // Send everything whose intended time has passed (messages may coalesce).
    const now = Number(process.hrtime.bigint() - t0);
    let upto = Math.min(total, Math.floor(now / intervalNs) + 1);
    if (upto < i + 1) upto = i + 1;
    if (upto > dueUpTo) dueUpTo = upto;
    dispatch();
  });
  w.on('error', (e) => { console.error(e); process.exit(1); });
  // hard stop: timeout after the last intended send
  const hardMs = (total * intervalNs) / 1e6 + 20 + opt.timeout;
  setTimeout(() => {
    if (done) return;
    // unanswered requests count with (at least) their age so far
    const now = Number(process.hrtime.bigint() - t0);
    for (let i = 0; i < total; i++) {
      if (latUs[i] < 0) { errors.timeout++; latUs[i] = (now - intended[i]) / 1000; }
    }
    report();
  }, hardMs).unref();
}

// open the pool, then start the clock once every connection is up (or 2 s)
let upCount = 0;
for (let c = 0; c < opt.connections; c++) {
  const conn = new Conn(c);
  conns.push(conn);
  conn.sock.once('connect', () => { if (++upCount === opt.connections) { clearTimeout(fallback); start(); } });
}
const fallback = setTimeout(() => {
  if (upCount === 0) { console.error(`fixed-rate: cannot connect to ${HOST}:${PORT}`); process.exit(1); }
  start();
}, 2000);
