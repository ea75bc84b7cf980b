#!/usr/bin/env node
'use strict';
// Builds the Markdown report from the raw files run.sh leaves in RESULTS_DIR.
//   node bench/core/report.js RESULTS_DIR OUT.md
// LOADGEN=wrk (wrk + fixed-rate.js) and LOADGEN=wasmesh (`wasmesh bench` JSON)
// are read into the same fields; the wasmesh one gets the suite's table.
// Plot links are relative to REPORT_DIR (default: OUT.md's directory).
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

const rwhole = (f) => { // a whole-file JSON (wasmesh bench --json is pretty-printed)
  try { return JSON.parse(rd(f)); } catch { return null; }
};

const env = {};
for (const line of (rd('machine.env') || '').split('\n')) {
  const i = line.indexOf('=');
  if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
}
const CPU = (n) => `cpu${n}`;

// run order (from run.sh); older result dirs: a fixed order
const order = env.scenarios ? env.scenarios.split(/\s+/) : ['direct', 'nginx', 'haproxy', 'wasmesh'];
const names = fs.readdirSync(dir).filter((f) => f.endsWith('.status')).map((f) => f.slice(0, -7));
names.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
const WB = env.loadgen === 'wasmesh';

const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
const non2xx = (status) => sum(Object.fromEntries(Object.entries(status || {}).filter(([k]) => !/^2/.test(k))));
const nonZero = (o) => Object.fromEntries(Object.entries(o || {}).filter(([, v]) => v));
// `wasmesh bench` JSON (ms) -> the fixed-rate.js shape (µs) plus its extras
const fromWb = (r) => {
  if (!r || !r.latency) return null;
  const l = r.latency, ms = (v) => (v == null ? null : Math.round(v * 1000));
  return {
    p50: ms(l.p50), p90: ms(l.p90), p99: ms(l.p99), p999: ms(l.p999), max: ms(l.max), mean: ms(l.mean),
    intended: r.requests.intended, completed: r.requests.completed, unsent: r.requests.unsent,
    rate: r.targetRps, achieved: r.achievedRps, targetMet: r.targetMet,
    errors: r.errors || {}, non2xx: non2xx(r.status), serviceP99: r.service ? ms(r.service.p99) : null,
    allRequests: r.requests.completedTotal, // warm-up included, like the monitor window
  };
};

const S = {};
for (const n of names) {
  const s = S[n] = {
    status: (rd(`${n}.status`) || '').trim(),
    monWrk: rjson(`${n}.mon-wrk.json`), // the max-load run's monitor (either load generator)
    monFixed: rjson(`${n}.mon-fixed.json`),
    idle: rjson(`${n}.idle.json`),
    notes: (rd(`${n}.notes`) || '').trim(),
  };
  if (WB) {
    const m = fromWb(rwhole(`${n}.bench-max.json`));
    s.fixed = fromWb(rwhole(`${n}.bench-fixed.json`));
    if (m) {
      s.rps = m.achieved;
      s.maxLat = m;
      s.maxReq = m.allRequests;
      s.maxErrors = m.errors;
      s.maxNon2xx = m.non2xx;
    }
  } else {
    const wrkTxt = rd(`${n}.wrk.txt`);
    const mm = wrkTxt && /WRKJSON (\{.*\})/.exec(wrkTxt);
    const wrk = mm ? JSON.parse(mm[1]) : null;
    s.wrk = wrk;
    s.fixed = rjson(`${n}.fixed.json`);
    if (s.fixed) {
      s.fixed.non2xx = s.fixed.errors.status;
      s.fixed.allRequests = s.fixed.completed + Math.round((s.fixed.warmup_s || 0) * s.fixed.rate); // monitor also saw the warm-up second
    }
    if (wrk) {
      s.rps = wrk.requests / (wrk.duration_us / 1e6);
      s.maxLat = wrk.latency_us;
      s.maxReq = wrk.requests;
      const { status, ...rest } = wrk.errors;
      s.maxErrors = rest;
      s.maxNon2xx = status;
    }
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
const D = S.direct && S.direct.status === 'ok' ? S.direct.fixed : null; // the baseline at the fixed rate
const pin = env.pin === '1';
const R = env.fixed_rate;
const tool = WB ? '`wasmesh bench`' : 'wrk';
const emptyOf = S['wasmesh-empty'] || S.wasmesh; // "empty chain" reference for wasmesh-LABEL rows
const diff = (v, base) => (v == null || base == null ? '–' : (v - base >= 0 ? '+' : '−') + us(Math.abs(v - base)));
const rssMaxOf = (s) => Math.max((s.monWrk && s.monWrk.rss_max_kb) || 0, (s.monFixed && s.monFixed.rss_max_kb) || 0) || null;
const rssOf = (s) => `${mib(s.idle && s.idle.rss_kb)} → ${mib(rssMaxOf(s))}`;
const busyOf = (n, s) => {
  if (!s.monWrk || !s.monWrk.cpus) return '–';
  const c = s.monWrk.cpus;
  if (!pin) return Object.values(c).map((x) => `${num(x)}%`).join(' / ');
  return `${n === 'direct' ? '–' : `${num(c[CPU(env.proxy_cpu)])}%`} / ${num(c[CPU(env.loadgen_cpu)])}%`;
};
const esc = (t) => t.replace(/\|/g, '\\|');

const lines = [];
const p = (s = '') => lines.push(s);

p(`# wasmesh core benchmark: ${WB ? 'wasmesh bench' : 'wrk'} → proxy → upstream`);
p();
p(`Run ${env.date || ''} on \`${env.cpu || '?'}\`, ${env.nproc || '?'} CPUs. ` +
  `Upstream: ${env.upstream === 'nginx' ? 'nginx `return 200` (1 worker)' : '`bench/core/upstream.js` (uWebSockets.js)'}, 64-byte body, identical for every scenario. ` +
  (pin
    ? `Pinning: proxy under test on CPU ${env.proxy_cpu}; upstream, ${tool} and the monitor on CPU ${env.loadgen_cpu}; ` +
      `the fixed-rate generator ${env.fixed_cpu ? `on CPU ${env.fixed_cpu}` : 'unpinned'}.`
    : 'No CPU pinning.') +
  (env.lowlat === '1' ? ' Idle CPUs poll instead of halting (`LOWLAT=1`, /dev/cpu_dma_latency = 0).' : ''));
p();
if (WB) {
  p(`Max load: \`wasmesh bench --max\`, ${env.wrk_threads} worker(s), ${env.conns} connections, ${env.duration} s measured after ${env.warmup} s of warm-up. ` +
    `Fixed rate: \`wasmesh bench --rate ${R}\` (open loop) for ${env.fixed_duration} s after ${env.fixed_warmup} s of warm-up, ` +
    `${env.fixed_conns} keep-alive connections, latency from each request's intended send time (coordinated omission corrected).`);
} else {
  p(`Max load: wrk ${env.wrk_threads} thread(s), ${env.conns} connections, ${env.duration} s after a ${env.warmup} s warm-up run. ` +
    `Fixed rate: \`fixed-rate.js\` open loop at ${R} rps for ${env.fixed_duration} s (+${env.fixed_warmup} s discarded), ` +
    `${env.fixed_conns} keep-alive connections, latency measured from the intended send time (coordinated omission corrected).`);
}
p();

if (WB) {
  // The suite's table (issue 5): one row per scenario, one proxy = one hop.
  const sec = (ms) => (ms == null ? '–' : (ms / 1000).toPrecision(2));
  p(`| scenario | rps (max) | vs nginx | added p50 per hop @${R} rps | added p90 | added p99 | proxy CPU s per 1000 req @max | vCPU per 1000 rps (CPU s per 1000 req @${R} rps) | RSS idle → max |`);
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of names) {
    const s = S[n];
    if (s.status !== 'ok') { p(`| ${n} | ${esc(s.status)} | | | | | | | |`); continue; }
    const f = s.fixed;
    const direct = n === 'direct';
    const ratio = nginxRps && s.rps ? `${(s.rps / nginxRps).toFixed(2)}×` : '–';
    const vsEmpty = n.startsWith('wasmesh-') && emptyOf !== s && emptyOf && emptyOf.rps && s.rps ? ` (${(s.rps / emptyOf.rps).toFixed(2)}× empty chain)` : '';
    const add = (k) => (direct ? `(${us(f && f[k])})` : diff(f && f[k], D && D[k])); // direct: the baseline itself
    const cpuMax = direct ? '–' : sec(cpuPer1k(s.monWrk, s.maxReq));
    const cpuFixed = direct ? '–' : sec(cpuPer1k(s.monFixed, f && f.allRequests));
    p(`| ${n} | ${num(s.rps)} | ${ratio}${vsEmpty} | ${add('p50')} | ${add('p90')} | ${add('p99')} | ${cpuMax} | ${cpuFixed} | ${direct ? '–' : rssOf(s)} |`);
  }
} else {
  p(`| scenario | rps (max load) | vs nginx | p50 @max | p99 @max | p50 @${R} | p90 @${R} | p99 @${R} | +p99 vs direct @${R} | CPU ms / 1k req @max | req per proxy CPU-second @max | CPU ms / 1k req @${R} | RSS idle → max | ${pin ? 'CPU busy proxy / loadgen @max' : 'CPU busy per CPU @max'} |`);
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of names) {
    const s = S[n];
    if (s.status !== 'ok') { p(`| ${n} | ${esc(s.status)} | | | | | | | | | | | | |`); continue; }
    const f = s.fixed;
    const l = s.maxLat;
    const direct = n === 'direct';
    const ratio = nginxRps && s.rps ? `${(s.rps / nginxRps).toFixed(2)}×` : '–';
    const vsEmpty = n.startsWith('wasmesh-') && emptyOf !== s && emptyOf && emptyOf.rps && s.rps ? ` (${(s.rps / emptyOf.rps).toFixed(2)}× empty chain)` : '';
    const cpuMaxV = direct ? null : cpuPer1k(s.monWrk, s.maxReq);
    const perCpuS = cpuMaxV ? num(1e6 / cpuMaxV) : '–';
    const cpuFixed = direct ? '–' : num(cpuPer1k(s.monFixed, f && f.allRequests), 1);
    p(`| ${n} | ${num(s.rps)} | ${ratio}${vsEmpty} | ${us(l && l.p50)} | ${us(l && l.p99)} | ` +
      `${us(f && f.p50)} | ${us(f && f.p90)} | ${us(f && f.p99)} | ${direct ? '–' : diff(f && f.p99, D && D.p99)} | ${num(cpuMaxV, 1)} | ${perCpuS} | ${cpuFixed} | ${direct ? '–' : rssOf(s)} | ${busyOf(n, s)} |`);
  }
}
p();
if (WB && (env.plot_fixed || env.plot_max)) {
  const base = process.env.REPORT_DIR || path.dirname(outFile);
  const link = (f) => path.relative(base, f).split(path.sep).join('/');
  const plots = [[env.plot_fixed, `at ${R} rps`], [env.plot_max, 'at max throughput']].filter(([f]) => f);
  p(`Latency by percentile, all scenarios: ${plots.map(([f, t]) => `[${t}](${link(f)})`).join(', ')} (\`wasmesh bench plot\`).`);
  p();
  for (const [f, t] of plots) p(`![latency by percentile ${t}](${link(f)})`);
  p();
}

// --- automatic caveats ---
const notes = [];
const lg = WB ? 'wasmesh bench' : 'wrk';
for (const n of names) {
  const s = S[n];
  if (s.status !== 'ok') continue;
  if (s.maxLat) {
    if (sum(s.maxErrors)) notes.push(`${n}: ${lg} (max load) reported errors ${JSON.stringify(nonZero(s.maxErrors))}.`);
    if (s.maxNon2xx) notes.push(`${n}: ${lg} (max load) got ${s.maxNon2xx} non-2xx responses.`);
  } else if (env.maxload !== '0') {
    notes.push(`${n}: the max-load run produced no result.`);
  }
  const f = s.fixed;
  if (f) {
    const e = nonZero(WB ? f.errors : { ...f.errors, status: 0 });
    if (Object.keys(e).length) notes.push(`${n}: fixed-rate errors ${JSON.stringify(e)}.`);
    if (f.non2xx) notes.push(`${n}: fixed-rate got ${f.non2xx} non-2xx responses.`);
    if (f.completed < f.intended) notes.push(`${n}: fixed-rate completed ${f.completed}/${f.intended}.`);
    if (WB && (f.targetMet === false || f.unsent)) notes.push(`${n}: **missed the ${R} rps target**: ${num(f.achieved)} rps achieved, ${f.unsent} requests never sent.`);
  } else {
    notes.push(`${n}: fixed-rate produced no result.`);
  }
  if (pin && s.monWrk && s.monWrk.cpus) {
    const pc = s.monWrk.cpus[CPU(env.proxy_cpu)];
    const lc = s.monWrk.cpus[CPU(env.loadgen_cpu)];
    if (n !== 'direct' && lc >= 95) {
      notes.push(pc < 90
        ? `${n}: the load-generator CPU (${lg}+upstream) was ${lc}% busy while the proxy CPU was ${pc}%: the rps is bounded by the load side, not the proxy.`
        : `${n}: both CPUs were saturated (proxy ${pc}%, ${lg}+upstream ${lc}%): the rps may be partly bounded by the load side; the CPU-per-request column compares efficiency independently of that.`);
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
if (!nginxRps) notes.push('nginx did not run: no "vs nginx" ratio.');
if (pin && S.direct && S.direct.status === 'ok') {
  notes.push(`direct: ${lg} and the upstream share one CPU, so its rps is the load side's own ceiling; a proxy scenario whose rps comes close to it is limited by the load side.`);
}
if (WB) {
  notes.push(`added latency per hop = the scenario's percentile at ${R} rps minus direct's, shown in parentheses on the direct row (each proxy scenario adds exactly one hop); percentiles do not subtract exactly, so a small negative value is noise.`);
  notes.push(`CPU s per 1000 req = utime+stime of the proxy process tree during the run (warm-up included) ÷ requests completed in it (warm-up included) × 1000. At ${R} rps that equals the vCPUs the proxy keeps busy per 1000 rps (Istio's "vCPU per 1000 rps"); at max it is the pure per-request cost. USER_HZ ticks (10 ms resolution).`);
  notes.push('RSS = sum of VmRSS over the proxy process tree, idle (before the first request) → max (sampled every 200 ms); nginx: master + worker, wasmesh: supervisor + worker (shared pages counted twice).');
} else {
  notes.push('req per proxy CPU-second = requests served ÷ CPU seconds the proxy tree used during the wrk run (= 1e6 ÷ CPU ms per 1k req): what one fully used core would serve at that efficiency.');
  notes.push('CPU ms / 1k req = utime+stime of the proxy process tree (nginx master+worker, HAProxy, wasmesh and any children) ÷ requests; USER_HZ tick resolution (10 ms). RSS = sum of VmRSS over the tree, sampled every 200 ms (shared pages of nginx master/worker counted twice).');
  notes.push('"CPU busy" = share of each CPU that was not idle during the measured wrk run (from /proc/stat); for the "direct" row CPU/RSS columns are not applicable.');
}
p('Notes:');
for (const n of notes) p(`- ${n}`);
p();

// --- details ---
const oth = (m) => (m && m.other_cpu_pct != null ? m.other_cpu_pct : '–');
if (WB) {
  p('<details><summary>all numbers</summary>');
  p();
  p(`| scenario | p50 / p99 @max | achieved @${R} | p50 @${R} | p90 | p99 | p99.9 | max | service p99 | errors / non-2xx (max, fixed) | CPU busy ${pin ? 'proxy / load' : 'per CPU'} @max | foreign CPU % (max / fixed) |`);
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of names) {
    const s = S[n], f = s.fixed, l = s.maxLat;
    if (s.status !== 'ok') continue;
    const errs = `${sum(s.maxErrors)} / ${s.maxNon2xx || 0}, ${f ? sum(f.errors) : '–'} / ${f ? f.non2xx : '–'}`;
    p(`| ${n} | ${us(l && l.p50)} / ${us(l && l.p99)} | ${f ? num(f.achieved) : '–'} | ${us(f && f.p50)} | ${us(f && f.p90)} | ${us(f && f.p99)} | ${us(f && f.p999)} | ${us(f && f.max)} | ${us(f && f.serviceP99)} | ${errs} | ${busyOf(n, s)} | ${oth(s.monWrk)} / ${oth(s.monFixed)} |`);
  }
  p();
  p('"service p99" is measured from the actual write instead of the intended send time; a large gap to p99 means requests queued in the load generator.');
  p();
  p('</details>');
} else {
  p('<details><summary>fixed-rate details (µs)</summary>');
  p();
  p('| scenario | intended | completed | p50 | p90 | p99 | p99.9 | max | mean | send lag p50 / p99 / max | foreign CPU % (max-load / fixed) |');
  p('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const n of names) {
    const f = S[n].fixed;
    if (!f) continue;
    p(`| ${n} | ${f.intended} | ${f.completed} | ${f.p50} | ${f.p90} | ${f.p99} | ${f.p999} | ${f.max} | ${f.mean} | ${f.send_lag ? `${f.send_lag.p50} / ${f.send_lag.p99} / ${f.send_lag.max}` : '–'} | ${oth(S[n].monWrk)} / ${oth(S[n].monFixed)} |`);
  }
  p();
  p('"send lag" = actual write time − intended time inside fixed-rate.js (generator timing error plus waiting for a free connection); it is part of the reported latency.');
  p();
  p('</details>');
}
p();

p('## Machine');
p();
p('| | |');
p('|---|---|');
if (WB) env.loadgen_desc = `\`wasmesh bench\` of this checkout (${env.wasmesh_rev || '?'})`;
else env.loadgen_desc = `${env.wrk || 'wrk ?'} + fixed-rate.js`;
for (const [k, label] of [['nproc', 'nproc'], ['cpu', 'CPU'], ['mem', 'memory'], ['kernel', 'kernel'], ['os', 'OS'], ['node', 'node'], ['nginx', 'nginx'], ['haproxy', 'HAProxy'], ['loadgen_desc', 'load generator'], ['loadavg_at_start', 'load average at start'], ['elapsed', 'benchmark wall time (s)']]) {
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
