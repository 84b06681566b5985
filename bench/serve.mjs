#!/usr/bin/env node
// tzkv serve against redis-server (issue #16, "Numbers"), side by side in one run:
//   node bench/serve.mjs            full: -n 200000, 5 rounds, stores of 1M and 10M keys, CPU profiles
//   node bench/serve.mjs --quick    -n 20000, 3 rounds, stores of 10k and 100k keys, no profile (under 2 min)
// Options: --rounds N (0: no throughput rounds), --requests N, --data DIR (the cache of generated stores, shared with
// bench/run.mjs; default /tmp/tzkv-bench-data/MODE), --no-stores, --profile / --no-profile,
// --keep-profiles DIR (the .cpuprofile files, for Chrome DevTools or speedscope).
// Prints Markdown on stdout (docs/benchmarks.md "tzkv serve" is written from it), progress on
// stderr. It reports; it never fails on speed. Needs `npm run build` and redis-server,
// redis-benchmark, redis-cli (apt-get install -y redis-server redis-tools).
//
// 1. Throughput: `redis-benchmark -t set,get -n N -c 50 -d 100`, then the same with -P 16,
//    against tzkv serve (--sync always, the default; --cache 64MB), redis-server with
//    --appendonly yes --appendfsync always, and tzkv serve --sync never (a reference), each
//    round a new server process on a new, empty store; rounds interleaved (tzkv, Redis, tzkv
//    --sync never, tzkv, ...); medians, and ratios to Redis from the same run.
// 2. Memory: each server's VmRSS sampled every 100 ms and its VmHWM (the kernel's peak) at
//    the end of each round; then tzkv serve --cache 64MB over stores of 0, 1M and 10M keys
//    under random keys (-r), to see whether its peak grows with the store.
// 3. Where the time goes: tzkv serve under `node --cpu-prof` through a SET run, a GET run, a
//    GET -P 16 run and a GET -r run over the largest store; self time by source file, and
//    the time on the stack of tzkv's functions.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtFrom, loadAverage, machine } from './lib/machine.mjs';
import { median } from './lib/measure.mjs';
import { cachedStore, copyStore } from './lib/peers.mjs';
import { inclusiveTimes, summarize } from './lib/profile.mjs';
import { redisBenchmark, redisCli, redisInfo, redisMissing, redisVersions } from './lib/redis-benchmark.mjs';
import { goalLine } from './lib/report.mjs';
import { memoryOf, sampleRss, startRedis, startTzkv } from './lib/servers.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    data: { type: 'string' },
    'no-stores': { type: 'boolean' },
    profile: { type: 'boolean' },
    'no-profile': { type: 'boolean' },
    'keep-profiles': { type: 'string' },
  },
});
const mode = opts.quick ? 'quick' : 'full';
const SETTINGS = {
  full: { requests: 200_000, rounds: 5, stores: [1_000_000, 10_000_000], storeRounds: 2, profile: true },
  quick: { requests: 20_000, rounds: 3, stores: [10_000, 100_000], storeRounds: 1, profile: false },
}[mode];
const requests = Number(opts.requests ?? SETTINGS.requests);
const rounds = Number(opts.rounds ?? SETTINGS.rounds);
const profile = opts['no-profile'] ? false : (opts.profile ?? SETTINGS.profile);
const started = Date.now();
const loadAtStart = loadAverage();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);
const load1 = () => loadAverage().split(' ')[0];

const CACHE = ['--cache', '64MB'];
const SERVERS = [
  { id: 'tzkv', name: 'tzkv serve (--sync always)', start: (dir) => startTzkv(dir, ['--create', ...CACHE]) },
  { id: 'redis', name: 'redis-server (appendfsync always)', start: (dir) => startRedis(dir, ['--appendonly', 'yes', '--appendfsync', 'always']) },
  { id: 'never', name: 'tzkv serve --sync never', start: (dir) => startTzkv(dir, ['--create', ...CACHE, '--sync', 'never']) },
];
const LOAD = ['-n', String(requests), '-c', '50', '-d', '100'];
const PLAIN = ['-t', 'set,get', ...LOAD];
const PIPELINED = [...PLAIN, '-P', '16'];
/** The figures of a round, by name: the tests of the plain run, then those of the -P 16 run. */
const FIGURES = ['SET', 'GET', 'SET -P16', 'GET -P16'];

/** tzkv's commits and the writes they carried, so far (INFO stats); null for Redis. */
async function commits(server, port) {
  if (server.id === 'redis') return null;
  const info = await redisInfo(port, 'stats');
  return { commits: info.tzkv_commits, writes: info.tzkv_writes };
}
const perCommit = (a, b) => (a && b && b.commits > a.commits ? (b.writes - a.writes) / (b.commits - a.commits) : null);

/** One round of a server: a new process on a new store, the plain run, the -P 16 run, its memory. */
async function round(server, work) {
  const dir = mkdtempSync(join(work, `${server.id}-`));
  const srv = await server.start(dir);
  const rss = sampleRss(srv.pid);
  const load = load1();
  const c0 = await commits(server, srv.port);
  const plain = await redisBenchmark(srv.port, PLAIN);
  const c1 = await commits(server, srv.port);
  const piped = await redisBenchmark(srv.port, PIPELINED);
  const c2 = await commits(server, srv.port);
  const length = await redisCli(srv.port, 'strlen', 'key:__rand_int__');
  if (length !== '100') throw new Error(`${server.name}: STRLEN key:__rand_int__ answered ${length}, not 100`);
  const { peakMb } = memoryOf(srv.pid);
  const maxRssMb = rss.stop();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
  const rps = {};
  for (const t of ['SET', 'GET']) [rps[t], rps[`${t} -P16`]] = [plain.tests[t].rps, piped.tests[t].rps];
  return { rps, peakMb, maxRssMb, load, writesPerCommit: perCommit(c0, c1), writesPerCommitP16: perCommit(c1, c2) };
}

async function throughput(work) {
  const samples = Object.fromEntries(SERVERS.map((s) => [s.id, []]));
  for (let r = 0; r < rounds; r++) {
    for (const server of SERVERS) {
      log(`round ${r + 1}/${rounds}: ${server.name}`);
      const s = await round(server, work);
      log(`  ${FIGURES.map((f) => `${f} ${Math.round(s.rps[f])}/s`).join(', ')}; peak RSS ${s.peakMb.toFixed(0)} MB`);
      samples[server.id].push(s);
    }
  }
  return samples;
}

const fmtRps = (x) => Math.round(x).toLocaleString('en-US');
const fmtMb = (x) => `${x.toFixed(0)} MB`;
const med = (xs, f) => median(xs.map(f));

function throughputReport(samples) {
  const [tz, redis, never] = SERVERS.map((s) => samples[s.id]);
  const lines = [
    `\`redis-benchmark ${PLAIN.join(' ')}\`, then with \`-P 16\`; requests per second, medians of ${rounds} rounds (each a new server process on a new store), ratio = tzkv / Redis in the same run:`,
    '',
    `| test | ${SERVERS[0].name} | ${SERVERS[1].name} | ratio | ${SERVERS[2].name} | rounds: tzkv | rounds: Redis |`,
    '|---|---:|---:|---:|---:|---|---|',
  ];
  for (const f of FIGURES) {
    const [a, b, c] = [tz, redis, never].map((xs) => med(xs, (s) => s.rps[f]));
    lines.push(`| ${f} | ${fmtRps(a)} | ${fmtRps(b)} | **${(a / b).toFixed(2)}x** | ${fmtRps(c)} | ${tz.map((s) => fmtRps(s.rps[f])).join(', ')} | ${redis.map((s) => fmtRps(s.rps[f])).join(', ')} |`);
  }
  const wpc = (xs, key) => med(xs.filter((s) => s[key] !== null), (s) => s[key]);
  lines.push(
    '',
    `tzkv's writes per commit (one fsync each; INFO tzkv_writes / tzkv_commits), medians: --sync always ${wpc(tz, 'writesPerCommit').toFixed(1)} (SET), ${wpc(tz, 'writesPerCommitP16').toFixed(1)} (SET -P16); --sync never ${wpc(never, 'writesPerCommit').toFixed(1)} and ${wpc(never, 'writesPerCommitP16').toFixed(1)}.`,
    `Load average (1 min) at the start of each round, tzkv's: ${tz.map((s) => s.load).join(', ')}.`,
    '',
    '| server (--cache 64MB for tzkv) | peak RSS (VmHWM), median of rounds | largest | largest VmRSS sampled every 100 ms |',
    '|---|---:|---:|---:|',
    ...SERVERS.map((s) => {
      const xs = samples[s.id];
      return `| ${s.name} | ${fmtMb(med(xs, (x) => x.peakMb))} | ${fmtMb(Math.max(...xs.map((x) => x.peakMb)))} | ${fmtMb(Math.max(...xs.map((x) => x.maxRssMb)))} |`;
    }),
  );
  const ratio = (f) => med(tz, (s) => s.rps[f]) / med(redis, (s) => s.rps[f]);
  const peak = Math.max(...tz.map((x) => x.peakMb));
  const goals = [
    ['tzkv durable SET ≥ 1.0x Redis durable SET', ratio('SET'), 1.0],
    ['GET ≥ 0.5x Redis GET', ratio('GET'), 0.5],
    ['GET -P 16 ≥ 0.3x Redis GET -P 16', ratio('GET -P16'), 0.3],
  ].map(([text, x, goal]) => ({ text, measured: `${x.toFixed(2)}x`, met: x >= goal }));
  goals.push({ text: 'peak RSS of tzkv serve --cache 64MB under that load ≤ 200 MB', measured: fmtMb(peak), met: peak <= 200 });
  return { text: lines.join('\n'), goals };
}

/** tzkv serve over stores of each size (0: empty), random keys across the largest: memory and throughput. */
async function storeSizes(work, dataDir) {
  const sizes = [0, ...SETTINGS.stores];
  const space = String(sizes.at(-1));
  const args = ['-t', 'set,get', '-r', space, ...LOAD];
  const dirs = new Map();
  for (const n of sizes) {
    const dir = join(work, `store-${n}`);
    if (n === 0) mkdirSync(dir);
    else {
      const cached = cachedStore('tzkv', dataDir, n, log);
      log(`copying the ${n}-key store`);
      copyStore(cached, dir);
    }
    dirs.set(n, dir);
  }
  const samples = new Map(sizes.map((n) => [n, []]));
  for (let r = 0; r < SETTINGS.storeRounds; r++) {
    for (const n of sizes) {
      log(`store of ${n} keys, round ${r + 1}/${SETTINGS.storeRounds}`);
      const srv = await startTzkv(dirs.get(n), n === 0 ? ['--create', ...CACHE] : CACHE);
      const atStart = memoryOf(srv.pid).rssMb;
      const rss = sampleRss(srv.pid);
      if (n > 0 && Number(await redisCli(srv.port, 'strlen', 'key:000000000001')) !== 100) throw new Error(`the ${n}-key store has no key:000000000001`);
      const { tests } = await redisBenchmark(srv.port, args);
      const { peakMb } = memoryOf(srv.pid);
      const maxRssMb = rss.stop();
      const info = await redisInfo(srv.port, 'memory');
      await srv.stop();
      const end = { usedMb: info.used_memory / 2 ** 20, cacheMb: info.tzkv_cache_bytes / 2 ** 20 };
      samples.get(n).push({ startMs: srv.startMs, atStart, peakMb, maxRssMb, ...end, set: tests.SET.rps, get: tests.GET.rps });
      log(`  peak RSS ${peakMb.toFixed(0)} MB; SET ${Math.round(tests.SET.rps)}/s, GET ${Math.round(tests.GET.rps)}/s`);
    }
  }
  const count = (n) => (n === 0 ? 'empty' : n >= 1e6 ? `${n / 1e6}M keys` : `${n / 1e3}k keys`);
  const largest = sizes.at(-1);
  const where = profile ? await profiled(work, `GET -r over ${count(largest)}`, ['-t', 'get', '-r', space, ...LOAD], dirs.get(largest)) : null;
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  const lines = [
    `tzkv serve --cache 64MB over stores of 16-byte keys (\`key:\` and 12 digits, as redis-benchmark's -r names them) and 100-byte values (bench/lib/data.mjs), each a copy of bench/run.mjs's cached store; \`redis-benchmark ${args.join(' ')}\`; medians of ${SETTINGS.storeRounds} round(s), sizes interleaved, a new server process each round on the same copy. "Heap + external" is INFO's used_memory at the end (V8's heap in use, garbage included, and Buffers' memory), "cache" its tzkv_cache_bytes (the cache's own count, bookkeeping included):`,
    '',
    '| store | start to listening | RSS when listening | peak RSS (VmHWM) | largest VmRSS sampled | heap + external at the end | cache | SET -r /s | GET -r /s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [n, xs] of samples) {
    const cells = [`${med(xs, (x) => x.startMs).toFixed(0)} ms`, fmtMb(med(xs, (x) => x.atStart)), fmtMb(med(xs, (x) => x.peakMb)), fmtMb(Math.max(...xs.map((x) => x.maxRssMb)))];
    cells.push(fmtMb(med(xs, (x) => x.usedMb)), fmtMb(med(xs, (x) => x.cacheMb)), fmtRps(med(xs, (x) => x.set)), fmtRps(med(xs, (x) => x.get)));
    lines.push(`| ${count(n)} | ${cells.join(' | ')} |`);
  }
  const [emptyPeak, largestPeak] = [0, largest].map((n) => Math.max(...samples.get(n).map((x) => x.peakMb)));
  const goal = { text: `peak RSS flat from an empty store to ${count(largest)} (≤ 200 MB)`, measured: `${fmtMb(emptyPeak)} empty, ${fmtMb(largestPeak)} at ${count(largest)}`, met: largestPeak <= 200 };
  return { text: lines.join('\n'), goals: [goal], where };
}

/**
 * tzkv serve --sync always under --cpu-prof through one redis-benchmark run, on `store` (a new
 * one when absent, holding key:__rand_int__); its profile's summary.
 */
async function profiled(work, title, args, store) {
  const dir = mkdtempSync(join(work, 'profiled-'));
  const profDir = join(dir, 'profile');
  const srv = await startTzkv(store ?? join(dir, 'store'), [...(store ? [] : ['--create']), ...CACHE], ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  if (!store) await redisCli(srv.port, 'set', 'key:__rand_int__', 'x'.repeat(100));
  const { tests, ms } = await redisBenchmark(srv.port, args);
  await srv.stop();
  const [file] = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  if (opts['keep-profiles']) {
    mkdirSync(opts['keep-profiles'], { recursive: true });
    copyFileSync(join(profDir, file), join(opts['keep-profiles'], `serve-${title.replace(/\W+/g, '-')}.cpuprofile`));
  }
  rmSync(dir, { recursive: true, force: true });
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  const self = summarize(prof).slice(0, 8).map((g) => `${g.where} ${pct(g.share)}${g.top.length ? ` (${g.top.join(', ')})` : ''}`);
  // tzkv's functions and native calls above the noise; of a chain of calls sharing one figure, the outermost.
  const inclusive = [];
  for (const f of inclusiveTimes(prof)) {
    if (!(f.where.startsWith('src/') || f.where === 'native calls') || f.share < 0.02 || f.share > 0.9) continue;
    if (inclusive.length > 0 && inclusive.at(-1).share - f.share < 0.005) continue;
    inclusive.push(f);
  }
  const stack = inclusive.slice(0, 16).map((f) => `${f.fn || '(anonymous)'} [${f.where.replace(/^src\//, '')}] ${pct(f.share)}`);
  const rps = Object.entries(tests).map(([t, x]) => `${t} ${fmtRps(x.rps)}/s`).join(', ');
  return `**${title}** (\`redis-benchmark ${args.join(' ')}\`: ${rps} under the profiler, ${(ms / 1000).toFixed(1)} s):\n- self time: ${self.join('; ')}\n- on the stack (a function and what it calls): ${stack.join('; ')}`;
}

async function main() {
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  const dataDir = opts.data ?? join(tmpdir(), 'tzkv-bench-data', mode);
  const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-serve-'));
  const sections = [];
  const goals = [];
  const profiles = [];
  try {
    if (rounds > 0) {
      const t = throughputReport(await throughput(work));
      sections.push('### Throughput and memory under redis-benchmark', t.text);
      goals.push(...t.goals);
    }
    if (!opts['no-stores']) {
      const s = await storeSizes(work, dataDir);
      sections.push('### Memory over the store\'s size', s.text);
      goals.push(...s.goals);
      if (s.where) profiles.push(s.where);
    }
    if (profile) {
      log('profiling');
      profiles.unshift(
        await profiled(work, 'SET', ['-t', 'set', ...LOAD]),
        await profiled(work, 'GET', ['-t', 'get', ...LOAD]),
        await profiled(work, 'GET -P 16', ['-t', 'get', ...LOAD, '-P', '16']),
      );
      sections.push('### Where the time goes (tzkv serve --sync always under `node --cpu-prof`; shares of the main thread\'s samples; idle = waiting for I/O)', ...profiles);
    }
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const commit = builtFrom(benchDir);
    console.log(
      [
        `## tzkv serve against redis-server (${mode}: \`node bench/serve.mjs${mode === 'quick' ? ' --quick' : ''}\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} min`,
        `Built from ${commit}. ${redisVersions()}. ${machine(work, loadAtStart)}`,
        '### Goals (issue #16)',
        goals.map((g) => goalLine(g)).join('\n'),
        ...sections,
      ].join('\n\n'),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
