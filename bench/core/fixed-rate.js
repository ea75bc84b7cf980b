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
// generator-made lateness to every request, and waking the event loop from
// another thread adds a long tail. So a worker thread keeps time with
// Atomics.wait (sub-ms timeouts; it wakes EARLY_US before the intended time and
// spins the rest) and *writes the request itself* with a synchronous write(2)
// on the socket's file descriptor. The main thread only reads and parses
// responses (event loop), and when a response frees a connection while
// requests are overdue it writes the next one itself. Connections and request
// indices are claimed with Atomics.compareExchange on shared memory, so exactly
// one thread writes to a socket at a time. Requests are pre-built bytes; the
// response parser understands only what the benchmark needs (status line,
// Content-Length or chunked bodies).
//
// Output (stdout): one JSON object with p50/p90/p99/p999/max in microseconds,
// counts and errors. Samples from the first --warmup seconds are dropped.

const fs = require('fs');
const net = require('net');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

// ---- shared state layout ----------------------------------------------------
// ctl[0] next request index to send, ctl[1] requests [0, due) are due
// busy[c] 0 idle, 1 claimed/in flight, 2 not connected
// fds[c] file descriptor of connection c, creq[c] request in flight on c
// sendNs[i] actual write time of request i (ns after t0)
function views(sab, nconn, total) {
  let o = 0;
  const ctl = new Int32Array(sab, o, 2); o += 8;
  const busy = new Int32Array(sab, o, nconn); o += 4 * nconn;
  const fds = new Int32Array(sab, o, nconn); o += 4 * nconn;
  const creq = new Int32Array(sab, o, nconn); o += 4 * nconn;
  o = Math.ceil(o / 8) * 8;
  const sendNs = new Float64Array(sab, o, total);
  return { ctl, busy, fds, creq, sendNs };
}
function sabSize(nconn, total) {
  return Math.ceil((8 + 12 * nconn) / 8) * 8 + 8 * total;
}

// Claim (idle connection, due request) pairs and write the requests; run by
// both threads. Returns how many were sent.
function makeDispatch(sh, REQ, t0, rrStart) {
  const { ctl, busy, fds, creq, sendNs } = sh;
  const n = busy.length;
  let rr = rrStart;
  return function dispatch() {
    let sent = 0;
    for (;;) {
      const next = Atomics.load(ctl, 0);
      if (next >= Atomics.load(ctl, 1)) return sent;
      let c = -1;
      for (let k = 0; k < n; k++) {
        const j = (rr + k) % n;
        if (Atomics.compareExchange(busy, j, 0, 1) === 0) { c = j; break; }
      }
      if (c < 0) return sent;
      rr = (c + 1) % n;
      if (Atomics.compareExchange(ctl, 0, next, next + 1) !== next) {
        Atomics.store(busy, c, 0); // lost the request to the other thread
        continue;
      }
      Atomics.store(creq, c, next);
      sendNs[next] = Number(process.hrtime.bigint() - t0);
      const fd = Atomics.load(fds, c);
      let off = 0;
      while (off < REQ.length) {
        try {
          off += fs.writeSync(fd, REQ, off, REQ.length - off);
        } catch (e) {
          if (e.code !== 'EAGAIN') break; // broken connection: the reader sees the close
        }
      }
      sent++;
    }
  };
}

if (!isMainThread) {
  // ---- clock + sender thread ----------------------------------------------
  const { sab, nconn, total, t0ns, intervalNs, earlyNs, req } = workerData;
  const sh = views(sab, nconn, total);
  const REQ = Buffer.from(req);
  const t0 = BigInt(t0ns);
  const iv = BigInt(intervalNs);
  const EARLY = BigInt(earlyNs);
  const dispatch = makeDispatch(sh, REQ, t0, 0);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < total; i++) {
    const target = t0 + BigInt(i) * iv;
    for (;;) {
      const left = target - process.hrtime.bigint();
      if (left <= 0n) break;
      // Atomics.wait overshoots by ~100 us (timer slack + wake-up): wake EARLY
      // before the target and spin the rest (a few tens of us on average).
      if (left > EARLY) Atomics.wait(cell, 0, 0, Number(left - EARLY) / 1e6);
    }
    // every request whose time has come (after a stall there may be several)
    const now = process.hrtime.bigint() - t0;
    let due = Number(now / iv) + 1;
    if (due > total) due = total;
    if (due < i + 1) due = i + 1;
    if (due > Atomics.load(sh.ctl, 1)) Atomics.store(sh.ctl, 1, due);
    dispatch();
    if (due - 1 > i) i = due - 1;
  }
  // keep handing out overdue requests until the main thread has sent them all
  parentPort.postMessage('scheduled');
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
  if (!(o.rate > 0) || !(o.duration > 0) || !(o.connections >= 1)) { console.error('bad --rate/--duration/--connections'); process.exit(2); }
  return o;
}

const opt = parseArgs(process.argv);
const u = new URL(opt.url);
const HOST = u.hostname;
const PORT = Number(u.port || 80);
const REQ = Buffer.from(
  `${opt.method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: fixed-rate\r\nAccept: */*\r\n\r\n`,
  'latin1');
const EARLY_NS = Math.round(Number(process.env.FIXED_RATE_EARLY_US || 150) * 1000);

const NC = opt.connections;
const intervalNs = Math.round(1e9 / opt.rate);
const warmupN = Math.round(opt.warmup * opt.rate);
const total = warmupN + Math.round(opt.duration * opt.rate);
const sab = new SharedArrayBuffer(sabSize(NC, total));
const sh = views(sab, NC, total);
const latUs = new Float64Array(total).fill(-1);
sh.busy.fill(2);
sh.fds.fill(-1);

let t0 = 0n;
let dispatch = null;
let completed = 0;
let okCount = 0;
const errors = { connect: 0, read: 0, status: 0, timeout: 0, closed: 0, reconnects: 0 };
const conns = [];
let started = false;
let done = false;

const CRLFCRLF = Buffer.from('\r\n\r\n');

function nowNs() {
  return Number(process.hrtime.bigint() - t0);
}
function intendedNs(i) {
  return i * intervalNs;
}

class Conn {
  constructor(id) {
    this.id = id;
    this.sock = null;
    this.buf = null;
    this.ever = false;
    this.connect();
  }
  connect() {
    this.buf = null;
    const s = net.connect({ host: HOST, port: PORT });
    this.sock = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      const fd = s._handle && s._handle.fd;
      if (!(fd >= 0)) { console.error('fixed-rate: no socket fd (unsupported platform)'); process.exit(1); }
      Atomics.store(sh.fds, this.id, fd);
      if (this.ever) errors.reconnects++;
      this.ever = true;
      onConnected();
      this.release();
    });
    s.on('data', (d) => this.onData(d));
    s.on('error', () => { if (!this.ever) errors.connect++; });
    s.on('close', () => {
      if (done) return;
      // Mark unusable first; if a request was in flight, it failed.
      const prev = Atomics.exchange(sh.busy, this.id, 2);
      if (prev === 1) {
        errors.closed++;
        this.complete(Atomics.load(sh.creq, this.id), false);
      }
      Atomics.store(sh.fds, this.id, -1);
      setTimeout(() => this.connect(), 10);
    });
  }
  // Connection is free: hand it out (and, if requests are overdue, use it now).
  release() {
    Atomics.store(sh.busy, this.id, 0);
    if (dispatch) dispatch();
  }
  complete(i, ok) {
    if (latUs[i] >= 0) return;
    latUs[i] = (nowNs() - intendedNs(i)) / 1000;
    completed++;
    if (ok) okCount++;
  }
  onData(d) {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = null;
    for (;;) {
      if (Atomics.load(sh.busy, this.id) !== 1) { if (b.length) errors.read++; return; } // unsolicited
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
        end = he + 4 + parseInt(lower.slice(cl + 17, le), 10);
        if (b.length < end) { this.buf = b; return; }
      } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
        // SIZE\r\n DATA \r\n ... 0\r\n\r\n (no trailers expected)
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
      const ok = status >= 200 && status < 400;
      if (!ok) errors.status++;
      this.complete(Atomics.load(sh.creq, this.id), ok);
      b = b.subarray(end);
      if (/\r\nconnection:\s*close/.test(lower)) {
        // server will close: do not reuse (close handler reconnects)
        Atomics.store(sh.busy, this.id, 2);
        this.sock.destroy();
        checkDone();
        return;
      }
      this.release();
      checkDone();
      if (!b.length) return;
    }
  }
}

function checkDone() {
  if (!done && started && completed >= total) report();
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

function report() {
  done = true;
  const s = [];
  const lag = [];
  for (let i = warmupN; i < total; i++) {
    if (latUs[i] >= 0) s.push(latUs[i]);
    if (sh.sendNs[i] > 0 || i === 0) lag.push((sh.sendNs[i] - intendedNs(i)) / 1000);
  }
  s.sort((a, b) => a - b);
  lag.sort((a, b) => a - b);
  const r = (x) => (x == null ? null : Math.round(x * 10) / 10);
  const out = {
    tool: 'fixed-rate.js',
    url: opt.url,
    rate: opt.rate,
    duration_s: opt.duration,
    warmup_s: opt.warmup,
    connections: NC,
    intended: total - warmupN,
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
  started = true;
  t0 = process.hrtime.bigint() + 20_000_000n; // start 20 ms from now
  dispatch = makeDispatch(sh, REQ, t0, 0);
  const w = new Worker(__filename, {
    workerData: { sab, nconn: NC, total, t0ns: t0.toString(), intervalNs, earlyNs: EARLY_NS, req: new Uint8Array(REQ) },
  });
  w.on('error', (e) => { console.error(e); process.exit(1); });
  // hard stop: --timeout ms after the last intended send
  const hardMs = (total * intervalNs) / 1e6 + 20 + opt.timeout;
  setTimeout(() => {
    if (done) return;
    // unanswered requests count with (at least) their age so far
    const now = nowNs();
    for (let i = 0; i < total; i++) {
      if (latUs[i] < 0) { errors.timeout++; latUs[i] = (now - intendedNs(i)) / 1000; }
    }
    report();
  }, hardMs).unref();
}

// open the pool, then start the clock once every connection is up (or 2 s)
let upCount = 0;
let fallback = null;
function onConnected() {
  if (started) return;
  if (++upCount === NC) { clearTimeout(fallback); start(); }
}
for (let c = 0; c < NC; c++) conns.push(new Conn(c));
fallback = setTimeout(() => {
  if (upCount === 0) { console.error(`fixed-rate: cannot connect to ${HOST}:${PORT}`); process.exit(1); }
  start();
}, 2000);
