// Lock benchmark (issue #4's numbers):
//   1. the writer lock's acquire + release, in one process (µs per pair), next
//      to the floor of the same file operations done bare (O_EXCL create,
//      write, close, read back, unlink), and taking over a dead holder's lock
//      (write a stale LOCK, acquire, release);
//   2. 1,600 puts of 100-byte values through the embedded API, three ways:
//      8 writer processes at once × 200 puts, one process × 1,600 puts, and
//      8 processes × 200 puts run one after another. Whole-process wall time,
//      a fresh store per sample, the three cases interleaved, medians; each
//      put is synced (the default) and takes and releases the lock.
// `--quick` runs fewer rounds. Needs `npm run build` (imports dist/).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, median } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const self = fileURLToPath(import.meta.url);

// Child mode: node locks.mjs --writer DIR PREFIX COUNT → puts COUNT keys, prints put latencies' p50/p99/max (ms).
if (process.argv[2] === '--writer') {
  const [dir, prefix, count] = process.argv.slice(3);
  const { open } = await import(join(dist, 'index.js'));
  const store = await open(dir, { lockTimeoutMs: 120_000, command: `bench writer ${prefix}` });
  const value = 'v'.repeat(100);
  const lat = [];
  for (let i = 0; i < Number(count); i++) {
    const t0 = performance.now();
    await store.put(`${prefix}${String(i).padStart(6, '0')}`, value);
    lat.push(performance.now() - t0);
  }
  await store.close();
  lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
  process.stdout.write(JSON.stringify({ p50: p(0.5), p99: p(0.99), max: lat[lat.length - 1] }) + '\n');
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 7;
const WRITERS = 8;
const PUTS = 200;
const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-locks-'));
const { realFs } = await import(join(dist, 'io', 'fs.js'));
const { WriterLock } = await import(join(dist, 'lock', 'lockfile.js'));
const { realProcesses } = await import(join(dist, 'io', 'processes.js'));
const { systemClock } = await import(join(dist, 'io', 'clock.js'));
const surroundings = { processes: realProcesses, clock: systemClock };

// 1. Acquire + release in one process.
function lockPairs(n) {
  const dir = mkdtempSync(join(work, 'lock-'));
  return async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) (await WriterLock.acquire(realFs, dir, { timeoutMs: 0, command: 'bench', ...surroundings })).release();
    return Number(process.hrtime.bigint() - t0) / 1e3 / n;
  };
}

/** The same file operations without the lock's logic: what any lockfile pays on this file system. */
function bareFileOps(n) {
  const path = join(mkdtempSync(join(work, 'bare-')), 'LOCK');
  const body = JSON.stringify({ pid: process.pid, host: hostname(), startTime: '123456', acquiredAt: new Date().toISOString(), command: 'bench', token: 'x'.repeat(24) }) + '\n';
  return async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const fd = openSync(path, 'wx');
      writeSync(fd, body);
      closeSync(fd);
      readFileSync(path);
      unlinkSync(path);
    }
    return Number(process.hrtime.bigint() - t0) / 1e3 / n;
  };
}

/** A pid that is gone, with the start time it had (so its LOCK is stale by "no such pid"). */
async function deadPid() {
  const child = spawn('sleep', ['10']);
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'latin1');
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return { pid: child.pid, startTime };
}

function staleTakeovers(n, dead) {
  const dir = mkdtempSync(join(work, 'stale-'));
  const lock = JSON.stringify({ ...dead, host: hostname(), acquiredAt: new Date().toISOString(), command: 'killed writer', token: 'stale' }) + '\n';
  return async () => {
    let total = 0n;
    for (let i = 0; i < n; i++) {
      writeFileSync(join(dir, 'LOCK'), lock);
      const t0 = process.hrtime.bigint();
      (await WriterLock.acquire(realFs, dir, { timeoutMs: 0, command: 'bench', ...surroundings })).release();
      total += process.hrtime.bigint() - t0;
    }
    return Number(total) / 1e3 / n;
  };
}

const pairN = quick ? 2000 : 10_000;
const staleN = quick ? 500 : 2000;
const dead = await deadPid();
const pair = lockPairs(pairN);
const bare = bareFileOps(pairN);
const stale = staleTakeovers(staleN, dead);
await pair(); // warm-up
await bare();
await stale();
const pairUs = [];
const bareUs = [];
const staleUs = [];
for (let r = 0; r < rounds; r++) {
  pairUs.push(await pair());
  bareUs.push(await bare());
  staleUs.push(await stale());
}

// 2. Throughput of 1,600 puts.
function runWriter(dir, prefix, count) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--writer', dir, prefix, String(count)], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

const freshStore = () => join(mkdtempSync(join(work, 'store-')), 's');
const prefixes = Array.from({ length: WRITERS }, (_, w) => `w${w}:`);
const cases = {
  [`${WRITERS} processes at once × ${PUTS} puts`]: async (dir) => Promise.all(prefixes.map((p) => runWriter(dir, p, PUTS))),
  [`1 process × ${WRITERS * PUTS} puts`]: async (dir) => [await runWriter(dir, 'w0:', WRITERS * PUTS)],
  [`${WRITERS} processes one after another × ${PUTS} puts`]: async (dir) => {
    const out = [];
    for (const p of prefixes) out.push(await runWriter(dir, p, PUTS));
    return out;
  },
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, { ms: [], p50: [], p99: [], max: [] }]));
for (let r = -1; r < rounds; r++) {
  for (const [name, run] of Object.entries(cases)) {
    const dir = freshStore();
    const t0 = performance.now();
    const lat = await run(dir);
    const ms = performance.now() - t0;
    rmSync(dirname(dir), { recursive: true, force: true });
    if (r < 0) continue; // warm-up round
    const s = samples[name];
    s.ms.push(ms);
    s.p50.push(median(lat.map((l) => l.p50)));
    s.p99.push(Math.max(...lat.map((l) => l.p99)));
    s.max.push(Math.max(...lat.map((l) => l.max)));
  }
}
rmSync(work, { recursive: true, force: true });

const total = WRITERS * PUTS;
console.log(`tzkv lock benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${rounds} rounds, medians${quick ? ' (--quick)' : ''}\n`);
const rows = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
console.log(`acquire + release, one process:            ${median(pairUs).toFixed(1)} µs per pair (${pairN} pairs a round; rounds ${rows(pairUs)})`);
console.log(`  the bare file operations (floor):         ${median(bareUs).toFixed(1)} µs (rounds ${rows(bareUs)})`);
console.log(`take over a dead holder's lock + release:  ${median(staleUs).toFixed(1)} µs (${staleN} a round; rounds ${rows(staleUs)})\n`);
const base = median(samples[`1 process × ${total} puts`].ms);
console.log(`${total} synced puts of 100-byte values, fresh store each time, whole processes:`);
console.log('| case | wall | puts/s | vs 1 process | put latency p50 / p99 / max |');
console.log('|---|---|---|---|---|');
for (const [name, s] of Object.entries(samples)) {
  const ms = median(s.ms);
  console.log(
    `| ${name} | ${ms.toFixed(0)} ms | ${Math.round(total / (ms / 1000))} | ${(ms / base).toFixed(2)}x | ${median(s.p50).toFixed(2)} / ${median(s.p99).toFixed(1)} / ${median(s.max).toFixed(1)} ms |`,
  );
}
