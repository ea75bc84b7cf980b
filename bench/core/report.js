#!/usr/bin/env node
'use strict';
// Builds the Markdown report from the raw files run.sh leaves in RESULTS_DIR.
//   node bench/core/report.js RESULTS_DIR OUT.md
const fs = require('fs');
const path = require('path');

const [dir, outFile] = process.argv.slice(2);
if (!dir || !outFile) {
  console.error('usage: report.js RESULTS_DIR OUT.md');
  process.exit(2);
}
const rd = (f) => {
  try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return null; }
};
const rjson = (f) => {
  const s = rd(f);
  if (!s) return null;
  for (const line of s.split('\n').reverse()) {
    const t = line.trim();
    if (t.startsWith('{')) { try { return JSON.parse(t); } catch { /* next */ } }
  }
  return null;
};

const env = {};
for (const line of (rd('machine.env') || '').split('\n')) {
  const i = line.indexOf('=');
  if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
}
const CPU = (n) => `cpu${n}`;

const order = ['direct', 'nginx', 'haproxy', 'wasmesh'];
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.status')).map((f) => f.slice(0, -7));
names.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));

const S = {};
for (const n of names) {
  const wrkTxt = rd(`${n}.wrk.txt`);
  let wrk = null;
  if (wrkTxt) {
    const m = /WRKJSON (\{.*\})/.exec(wrkTxt);
    if (m) wrk = JSON.parse(m[1]);
  }
  S[n] = {
    status: (rd(`${n}.status`) || '').trim(),
    wrk,
    wrkTxt,
    fixed: rjson(`${n}.fixed.json`),
    monWrk: rjson(`${n}.mon-wrk.json`),
    monFixed: rjson(`${n}.mon-fixed.json`),
    idle: rjson(`${n}.idle.json`),
    notes: (rd(`${n}.notes`) || '').trim(),
  };
  const s = S[n];
  if (wrk) {
    s.rps = wrk.requests / (wrk.duration_us / 1e6);
    s.wrkErrors = Object.values(wrk.errors).reduce((a, b) => a + b, 0);
  }
}

const us = (v) => {
  if (v == null || Number.isNaN(v)) return '–';
  if (v < 1000) return `${Math.round(v)} µs`;
  return `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} ms`;
};
const num = (v, d = 0) => (v == null || Number.isNaN(v) ? '–' : Number(v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const mib = (kb) => (kb == null ? '–' : `${(kb / 1024).toFixed(1)} MiB`);
const cpuPer1k = (mon, requests) => (mon && requests ? (mon.cpu_ticks * 10) / (requests / 1000) : null);

const nginxRps = S.nginx && S.nginx.rps;
const directP99 = S.direct && S.direct.fixed && S.direct.fixed.p99;
const pin = env.pin === '1';

const lines = [];
const p = (s = '') => lines.push(s);

p('# wasmesh core benchmark: wrk → proxy → upstream');
p();
p(`Run ${env.date || ''} on \`${env.cpu || '?'}\`, ${env.nproc || '?'} CPUs. ` +
  `Upstream: ${env.upstream === 'nginx' ? 'nginx `return 200` (1 worker)' : '`bench/core/upstream.js` (uWebSockets.js)'}, 64-byte body, identical for every scenario. ` +
  (pin
    ? `Pinning: proxy under test on CPU ${env.proxy_cpu}; upstream, wrk and the monitor on CPU ${env.loadgen_cpu}; ` +
      `fixed-rate.js ${env.fixed_cpu ? `on CPU ${env.fixed_cpu}` : 'unpinned'}.`
    : 'No CPU pinning.') +
  (env.lowlat === '1' ? ' Idle CPUs poll instead of halting (`LOWLAT=1`, /dev/cpu_dma_latency = 0).' : ''));
p();
p(`Max load: wrk ${env.wrk_threads} thread(s), ${env.conns} connections, ${env.duration} s after a ${env.warmup} s warm-up run. ` +
  `Fixed rate: \`fixed-rate.js\` open loop at ${env.fixed_rate} rps for ${env.fixed_duration} s (+${env.fixed_warmup} s discarded), ` +
  `${env.fixed_conns} keep-alive connections, latency measured from the intended send time (coordinated omission corrected).`);
p();
p(`| scenario | rps (max load) | vs nginx | p50 @max | p99 @max | p50 @${env.fixed_rate} | p90 @${env.fixed_rate} | p99 @${env.fixed_rate} | +p99 vs direct @${env.fixed_rate} | CPU ms / 1k req @max | req per proxy CPU-second @max | CPU ms / 1k req @${env.fixed_rate} | RSS idle → max | ${pin ? 'CPU busy proxy / loadgen @max' : 'CPU busy per CPU @max'} |`);
p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const n of names) {
  const s = S[n];
  if (s.status !== 'ok') {
    p(`| ${n} | ${s.status.replace(/\|/g, '\\|')} | | | | | | | | | | | | |`);
    continue;
  }
  const w = s.wrk;
  const f = s.fixed;
  const direct = n === 'direct';
  const ratio = nginxRps && s.rps ? `${(s.rps / nginxRps).toFixed(2)}×` : '–';
  const emptyRps = S.wasmesh && S.wasmesh.rps;
  const vsEmpty = n.startsWith('wasmesh-') && emptyRps && s.rps ? ` (${(s.rps / emptyRps).toFixed(2)}× empty chain)` : '';
  const added = !direct && f && directP99 != null ? (f.p99 - directP99 >= 0 ? '+' : '−') + us(Math.abs(f.p99 - directP99)) : '–';
  const cpuMaxV = direct ? null : cpuPer1k(s.monWrk, w && w.requests);
  const cpuMax = num(cpuMaxV, 1);
  const perCpuS = cpuMaxV ? num(1e6 / cpuMaxV) : '–';
  const fixedReq = f ? f.completed + Math.round((f.warmup_s || 0) * f.rate) : null; // monitor also saw the warm-up second
  const cpuFixed = direct ? '–' : num(cpuPer1k(s.monFixed, fixedReq), 1);
  const rssMax = Math.max((s.monWrk && s.monWrk.rss_max_kb) || 0, (s.monFixed && s.monFixed.rss_max_kb) || 0) || null;
  const rss = direct ? '–' : `${mib(s.idle && s.idle.rss_kb)} → ${mib(rssMax)}`;
  let busy = '–';
  if (s.monWrk && s.monWrk.cpus) {
    const c = s.monWrk.cpus;
    busy = pin ? `${num(c[CPU(env.proxy_cpu)])}% / ${num(c[CPU(env.loadgen_cpu)])}%` : Object.values(c).map((x) => `${num(x)}%`).join(' / ');
    if (direct && pin) busy = `– / ${num(c[CPU(env.loadgen_cpu)])}%`;
  }
  p(`| ${n} | ${num(s.rps)} | ${ratio}${vsEmpty} | ${us(w && w.latency_us.p50)} | ${us(w && w.latency_us.p99)} | ` +
    `${us(f && f.p50)} | ${us(f && f.p90)} | ${us(f && f.p99)} | ${added} | ${cpuMax} | ${perCpuS} | ${cpuFixed} | ${rss} | ${busy} |`);
}
p();

// --- automatic caveats ---
const notes = [];
for (const n of names) {
  const s = S[n];
  if (s.status !== 'ok') continue;
  if (s.wrkErrors) notes.push(`${n}: wrk reported errors ${JSON.stringify(s.wrk.errors)}.`);
  if (s.fixed) {
    const e = Object.entries(s.fixed.errors).filter(([, v]) => v);
    if (e.length) notes.push(`${n}: fixed-rate errors ${JSON.stringify(Object.fromEntries(e))}.`);
    if (s.fixed.completed < s.fixed.intended) notes.push(`${n}: fixed-rate completed ${s.fixed.completed}/${s.fixed.intended}.`);
  } else {
    notes.push(`${n}: fixed-rate produced no result.`);
  }
  if (pin && s.monWrk && s.monWrk.cpus) {
    const pc = s.monWrk.cpus[CPU(env.proxy_cpu)];
    const lc = s.monWrk.cpus[CPU(env.loadgen_cpu)];
    if (n !== 'direct' && lc >= 95) {
      notes.push(pc < 90
        ? `${n}: the load-generator CPU (wrk+upstream) was ${lc}% busy while the proxy CPU was ${pc}%: the rps is bounded by the load side, not the proxy.`
        : `${n}: both CPUs were saturated (proxy ${pc}%, wrk+upstream ${lc}%): the rps may be partly bounded by the load side; "req per proxy CPU-second" compares efficiency independently of that.`);
    }
  }
  for (const [ph, m] of [['max-load', s.monWrk], ['fixed-rate', s.monFixed]]) {
    if (m && m.other_cpu_pct != null && m.other_cpu_pct >= 10) {
      notes.push(`${n}: **foreign CPU load of ${m.other_cpu_pct}% of one CPU during the ${ph} run** (processes this script did not start): the numbers are disturbed.`);
    }
  }
  for (const [ph, m] of [['max-load', s.monWrk], ['fixed-rate', s.monFixed]]) {
    if (m && m.steal) {
      const st = Math.max(...Object.values(m.steal).map((x) => x || 0));
      if (st >= 2) notes.push(`${n}: hypervisor steal up to ${st}% of a CPU during the ${ph} run (the VM host was busy).`);
    }
  }
  if (s.notes) notes.push(`${n}: ${s.notes.replace(/\n/g, '; ')}`);
}
if (pin && S.direct && S.direct.status === 'ok') {
  notes.push('direct: wrk and the upstream share one CPU, so its rps is the load side\'s own ceiling; a proxy scenario whose rps comes close to it is limited by the load side.');
}
notes.push('req per proxy CPU-second = requests served ÷ CPU seconds the proxy tree used during the wrk run (= 1e6 ÷ CPU ms per 1k req): what one fully used core would serve at that efficiency.');
notes.push('CPU ms / 1k req = utime+stime of the proxy process tree (nginx master+worker, HAProxy, wasmesh and any children) ÷ requests; USER_HZ tick resolution (10 ms). RSS = sum of VmRSS over the tree, sampled every 200 ms (shared pages of nginx master/worker counted twice).');
notes.push('"CPU busy" = share of each CPU that was not idle during the measured wrk run (from /proc/stat); for the "direct" row CPU/RSS columns are not applicable.');
p('Notes:');
for (const n of notes) p(`- ${n}`);
p();

// --- fixed-rate diagnostics ---
p('<details><summary>fixed-rate details (µs)</summary>');
p();
p('| scenario | intended | completed | p50 | p90 | p99 | p99.9 | max | mean | send lag p50 / p99 / max | foreign CPU % (max-load / fixed) |');
p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const n of names) {
  const f = S[n].fixed;
  if (!f) continue;
  const oth = (m) => (m && m.other_cpu_pct != null ? m.other_cpu_pct : '–');
  p(`| ${n} | ${f.intended} | ${f.completed} | ${f.p50} | ${f.p90} | ${f.p99} | ${f.p999} | ${f.max} | ${f.mean} | ${f.send_lag ? `${f.send_lag.p50} / ${f.send_lag.p99} / ${f.send_lag.max}` : '–'} | ${oth(S[n].monWrk)} / ${oth(S[n].monFixed)} |`);
}
p();
p('"send lag" = actual write time − intended time inside fixed-rate.js (generator timing error plus waiting for a free connection); it is part of the reported latency.');
p();
p('</details>');
p();

p('## Machine');
p();
p('| | |');
p('|---|---|');
for (const [k, label] of [['nproc', 'nproc'], ['cpu', 'CPU'], ['mem', 'memory'], ['kernel', 'kernel'], ['os', 'OS'], ['node', 'node'], ['nginx', 'nginx'], ['haproxy', 'HAProxy'], ['wrk', 'wrk'], ['loadavg_at_start', 'load average at start'], ['elapsed', 'benchmark wall time (s)']]) {
  p(`| ${label} | ${(env[k] || '?').replace(/\|/g, '\\|')} |`);
}
p();

p('## Commands run');
p();
p('Ports are picked free at run time; paths under /tmp/wasmesh-bench.* are the run\'s temp dir.');
p();
p('```sh');
p((rd('commands.txt') || '').trim());
p('```');
p();
const chainConfigs = names.filter((n) => n.startsWith('wasmesh-')).map((n) => [`${n}.yaml`, 'yaml', `${n} config`]);
for (const [f, lang, title] of [['nginx.conf', 'nginx', 'nginx proxy config'], ['haproxy.cfg', '', 'HAProxy config'], ['wasmesh.yaml', 'yaml', 'wasmesh config'], ...chainConfigs]) {
  const c = rd(f);
  if (!c) continue;
  p(`<details><summary>${title}</summary>`);
  p();
  p('```' + lang);
  p(c.trim());
  p('```');
  p();
  p('</details>');
  p();
}

const md = lines.join('\n');
fs.writeFileSync(outFile, md);
process.stdout.write(md + '\n');
