#!/usr/bin/env node
'use strict';
// Resource monitor for a process tree (a proxy and all its descendants).
//
//   node procmon.js --once PID
//       print {"cpu_ticks","rss_kb","pids"} for the tree right now
//   node procmon.js PID [INTERVAL_MS=200] [--own ROOTPID]
//       take a first sample, print "ready", then sample every INTERVAL_MS;
//       on SIGTERM/SIGINT take a last sample and print one JSON line:
//       {cpu_ticks, cpu_s, rss_max_kb, rss_last_kb, samples, wall_s, cpus:{cpuN: busy%},
//        steal:{cpuN: %}, other_cpu_pct}
//       (busy% excludes steal: time the hypervisor ran something else)
//   node procmon.js --other ROOTPID SECONDS
//       print {"other_cpu_pct"} measured over SECONDS
//   node procmon.js --disturbance FILE...
//       print "OTHER STEAL": the worst other_cpu_pct and per-CPU steal % in
//       the given monitor outputs
//
// other_cpu_pct (with --own ROOTPID, normally the benchmark script itself):
// user+nice+system time of the whole machine minus that of ROOTPID's process
// tree (which holds the proxy, upstream, wrk and fixed-rate.js), in % of one
// CPU: how much foreign work (someone's build or test) shared the machine.
//
// CPU = utime+stime of every live process in the tree (all threads included),
// in clock ticks (USER_HZ, 100/s on Linux). RSS = sum of VmRSS over the tree
// (nginx master+worker: shared pages are counted in both, like `ps` would).
// cpus = busy share of each CPU over the whole monitored interval, from
// /proc/stat, to tell whether the proxy core or the load-generator core saturated.
const fs = require('fs');

const HZ = 100;

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0]=state(3) f[1]=ppid(4) ... utime(14)=f[11] stime(15)=f[12]
    // cutime(16)=f[13] cstime(17)=f[14]: reaped children (e.g. a finished wrk)
    return {
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]),
      childTicks: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return null;
  }
}

function rssKb(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// The tree below root, from /proc/PID/task/TID/children (a child is listed
// under the thread that forked it); falls back to a full /proc scan where
// that file does not exist. Scanning all of /proc costs ~7 ms on this VM, too
// much to do every 200 ms next to the load generator.
let haveChildrenFiles = null;
function childrenOf(pid) {
  const out = [];
  let tids;
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tids) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'latin1').trim();
      haveChildrenFiles = true;
      if (s) for (const c of s.split(' ')) out.push(Number(c));
    } catch {
      if (haveChildrenFiles === null) haveChildrenFiles = false;
    }
  }
  return out;
}

function treeByScan(root) {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    const st = readStat(d);
    if (!st) continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(Number(d));
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const k of kids.get(p) || []) stack.push(k);
  }
  return out;
}

function tree(root) {
  if (haveChildrenFiles === false) return treeByScan(root);
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const k of childrenOf(p)) stack.push(k);
  }
  if (haveChildrenFiles === false) return treeByScan(root);
  return out;
}

// pids are re-discovered every REDISCOVER samples (new children are rare)
const REDISCOVER = 5;
let known = null;
let sinceDiscover = 0;
function sample(root) {
  if (!known || ++sinceDiscover >= REDISCOVER) { known = tree(root); sinceDiscover = 0; }
  let ticks = 0;
  let rss = 0;
  for (const p of known) {
    const st = readStat(p);
    if (!st) continue;
    ticks += st.ticks + st.childTicks;
    rss += rssKb(p);
  }
  return { cpu_ticks: ticks, rss_kb: rss, pids: known };
}

// CPU ticks of a whole tree including children it already reaped
function treeTicks(root) {
  let t = 0;
  for (const p of tree(root)) {
    const st = readStat(p);
    if (st) t += st.ticks + st.childTicks;
  }
  return t;
}

function workTicks(c) { // user+nice+system summed over all CPUs
  let t = 0;
  for (const k of Object.keys(c)) t += c[k].work;
  return t;
}

function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'latin1').split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    const idle = v[3] + (v[4] || 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // without guest fields
    out[m[1]] = { idle, total, work: v[0] + v[1] + v[2], steal: v[7] || 0 };
  }
  return out;
}

const args = process.argv.slice(2);
if (args[0] === '--once') {
  const pid = Number(args[1]);
  process.stdout.write(JSON.stringify(sample(pid)) + '\n');
  process.exit(0);
}

function otherPct(c0, c1, own0, own1, wallS) {
  const other = workTicks(c1) - workTicks(c0) - (own1 - own0);
  return Math.max(0, Math.round((1000 * other) / HZ / wallS) / 10);
}

// --disturbance FILE...: worst foreign load and worst steal over monitor outputs
if (args[0] === '--disturbance') {
  let other = 0;
  let steal = 0;
  for (const f of args.slice(1)) {
    let j = null;
    try {
      const lines = fs.readFileSync(f, 'utf8').trim().split('\n');
      j = JSON.parse(lines[lines.length - 1]);
    } catch { continue; }
    if (j.other_cpu_pct > other) other = j.other_cpu_pct;
    for (const v of Object.values(j.steal || {})) if (v > steal) steal = v;
  }
  process.stdout.write(`${other} ${steal}\n`);
  process.exit(0);
}

if (args[0] === '--other') {
  const root = Number(args[1]);
  const secs = Number(args[2] || 1);
  const c0 = cpuTimes();
  const o0 = treeTicks(root);
  setTimeout(() => {
    const c1 = cpuTimes();
    const o1 = treeTicks(root);
    process.stdout.write(JSON.stringify({ other_cpu_pct: otherPct(c0, c1, o0, o1, secs) }) + '\n');
  }, secs * 1000);
  return;
}

const ownIx = args.indexOf('--own');
const ownRoot = ownIx >= 0 ? Number(args[ownIx + 1]) : 0;
if (ownIx >= 0) args.splice(ownIx, 2);
const pid = Number(args[0]);
const interval = Number(args[1] || 200);
if (!pid) {
  console.error('usage: procmon.js [--once] PID [INTERVAL_MS]');
  process.exit(2);
}
const t0 = process.hrtime.bigint();
const c0 = cpuTimes();
const own0 = ownRoot ? treeTicks(ownRoot) : 0;
const first = sample(pid);
let rssMax = first.rss_kb;
let last = first;
let n = 1;
process.stdout.write('ready\n');
const timer = setInterval(() => {
  last = sample(pid);
  n++;
  if (last.rss_kb > rssMax) rssMax = last.rss_kb;
}, interval);

function finish() {
  clearInterval(timer);
  known = null;
  last = sample(pid);
  n++;
  if (last.rss_kb > rssMax) rssMax = last.rss_kb;
  const c1 = cpuTimes();
  const own1 = ownRoot ? treeTicks(ownRoot) : 0;
  const cpus = {};
  const steal = {};
  for (const k of Object.keys(c1)) {
    if (!c0[k]) continue;
    const dt = c1[k].total - c0[k].total;
    const di = c1[k].idle - c0[k].idle;
    cpus[k] = dt > 0 ? Math.round((1000 * (dt - di - (c1[k].steal - c0[k].steal))) / dt) / 10 : null;
    steal[k] = dt > 0 ? Math.round((1000 * (c1[k].steal - c0[k].steal)) / dt) / 10 : null;
  }
  const ticks = last.cpu_ticks - first.cpu_ticks;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({
    cpu_ticks: ticks,
    cpu_s: ticks / HZ,
    rss_max_kb: rssMax,
    rss_first_kb: first.rss_kb,
    rss_last_kb: last.rss_kb,
    pids: last.pids,
    samples: n,
    wall_s: wallS,
    cpus,
    steal,
    other_cpu_pct: ownRoot ? otherPct(c0, c1, own0, own1, wallS) : null,
  }) + '\n');
  process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
