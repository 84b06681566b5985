// watch latency (issue #15's number): from a put in another process to the
// event `tzkv watch` prints, on a store directory. Goal: median ≤ 50 ms.
//
// Three processes: the built CLI, `tzkv watch --prefix lat: --json`, as a
// user runs it; a writer (this file in --writer mode) holding the store open
// through the embedded API, which puts lat:N with the time it called put()
// as the value, one put at a time, PAUSE ms apart; and this process, which
// reads the watch's lines and notes when each arrives. Latency = arrival −
// the time in the value (both performance.timeOrigin + performance.now():
// the same wall clock at sub-millisecond resolution). Each put is synced (the
// default), so the put's own fsync is inside the figure unless the watch
// prints before it ends. A `tzkv put` process would add its own start-up
// (tens of ms, docs/cli.md "Start-up time"), which is not the watch's.
//
//   node bench/watch.mjs [PUTS] [--quick]      (needs `npm run build`)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cleanEnv, median } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'bin', 'run.js');
const self = fileURLToPath(import.meta.url);
const wallMs = () => performance.timeOrigin + performance.now();

// Writer mode: node watch.mjs --writer DIR PUTS PAUSE_MS → puts lat:0 … one at a time, the value its start time.
if (process.argv[2] === '--writer') {
  const [dir, puts, pause] = process.argv.slice(3);
  const { open } = await import(join(root, 'dist', 'index.js'));
  const store = await open(dir, { command: 'bench watch writer' });
  for (let i = 0; i < Number(puts); i++) {
    await new Promise((r) => setTimeout(r, Number(pause)));
    await store.put(`lat:${i}`, String(wallMs()));
  }
  await store.close();
  process.exit(0);
}
// Watcher without notifications: node watch.mjs --timer-watcher DIR → the embedded API's watch, told of nothing but its timer.
if (process.argv[2] === '--timer-watcher') {
  const { open } = await import(join(root, 'dist', 'index.js'));
  const store = await open(process.argv[3], { readOnly: true, watchDirectory: () => () => undefined });
  for await (const e of store.watch({ prefix: 'lat:' })) process.stdout.write(`${JSON.stringify({ key: e.key.toString(), value: e.value?.toString() })}\n`);
}

const quick = process.argv.includes('--quick');
const puts = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? (quick ? 50 : 300));
const PAUSE_MS = 20;

async function measure(watchArgv) {
  const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-watch-'));
  const dir = join(work, 'store');
  spawnSync(process.execPath, [bin, 'put', '-d', dir, 'warm', 'up'], { env: cleanEnv() });
  const watcher = spawn(process.execPath, watchArgv(dir), { env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  const latencies = [];
  let seen = 0;
  let started;
  const ready = new Promise((resolve) => (started = resolve));
  createInterface({ input: watcher.stdout }).on('line', (line) => {
    const arrived = wallMs();
    const event = JSON.parse(line);
    if (event.key === 'lat:ready') return started();
    latencies.push(arrived - Number(event.value));
    seen++;
  });
  // The watch reports changes made after it started: put a marker until it shows one.
  for (let i = 0; ; i++) {
    spawnSync(process.execPath, [bin, 'put', '-d', dir, 'lat:ready', String(i)], { env: cleanEnv() });
    if (await Promise.race([ready.then(() => true), new Promise((r) => setTimeout(() => r(false), 200))])) break;
  }
  const writer = spawn(process.execPath, [self, '--writer', dir, String(puts), String(PAUSE_MS)], { env: cleanEnv(), stdio: 'inherit' });
  await new Promise((resolve) => writer.on('exit', resolve));
  const deadline = Date.now() + 10_000;
  while (seen < puts && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  watcher.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
  if (seen < puts) throw new Error(`the watch printed ${seen} of ${puts} events`);
  return latencies.sort((a, b) => a - b);
}

const load = loadavg()[0].toFixed(2);
const cases = [
  ['`tzkv watch --prefix lat: --json`', (dir) => [bin, 'watch', '--prefix', 'lat:', '-d', dir, '--json']],
  ['the API\'s watch told of nothing but its timer (lost notifications)', (dir) => [self, '--timer-watcher', dir]],
];
console.log(`tzkv watch latency — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${load}${quick ? ' (--quick)' : ''}`);
console.log(`${puts} synced puts from another process, ${PAUSE_MS} ms apart, to the line the watch printed:\n`);
console.log('| watch | median | p90 | p99 | max | min |');
console.log('|---|---|---|---|---|---|');
for (const [name, argv] of cases) {
  const lat = await measure(argv);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const ms = (x) => `${x.toFixed(2)} ms`;
  console.log(`| ${name} | ${ms(median(lat))} | ${ms(q(0.9))} | ${ms(q(0.99))} | ${ms(lat[lat.length - 1])} | ${ms(lat[0])} |`);
}
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
