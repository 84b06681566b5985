#!/usr/bin/env node
// Many operations in one process (issue #15, "Numbers"): 10,000 mixed
// operations — 70% put, 20% get, 10% del, over 5,000 keys, 16-byte keys and
// 100-byte values as in bench/lib/data.mjs — written once as a `tzkv batch`
// file, as SQL and as command lines, then applied three ways, each time to a
// fresh, empty store:
//   tzkv batch        one process: `tzkv batch -d DIR ops.txt` (atomic, one fsync)
//   10,000 processes  one `tzkv put|get|del` each, one after another (a shell loop's cost)
//   sqlite3           `sqlite3 DB < ops.sql`: the same work as SQL in one transaction
// next to `node -e 0`. Whole processes, NODE_EXTRA_CA_CERTS unset
// (bench/lib/measure.mjs); node -e 0, tzkv batch and sqlite3 interleaved,
// half their rounds before the 10,000-process leg and half after it, medians.
// The process leg is one sample (about 12 minutes at full size on 2 cores).
// Then where the batch leg's time goes: the median of each phase its
// TZKV_TRACE_STARTUP=1 line names (start-up, reading the input, taking the
// lock, applying, committing, printing), and a CPU profile.
//
//   node bench/batch.mjs [--rounds R] [--processes N] [--quick]
//     --processes N  the process leg runs the first N operations (default all
//                    10,000; 0 skips it) and its total is scaled to 10,000
//     --quick        5 rounds, 500 processes
// Needs `npm run build` and the Debian package sqlite3 (skipped with a notice).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyOf, valueOf } from './lib/data.mjs';
import { loadAverage, machine } from './lib/machine.mjs';
import { interleave, median, runOnce } from './lib/measure.mjs';
import { profileLine } from './lib/profile.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const node = process.execPath;
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const quick = args.includes('--quick');
const OPS = 10_000;
const KEYS = 5_000;
const rounds = option('--rounds', quick ? 5 : 21);
const processes = Math.min(OPS, option('--processes', quick ? 500 : OPS));
const loadAtStart = loadAverage();
const started = Date.now();

// The work: a seeded PRNG (mulberry32) picks each operation and its key.
let seed = 0x15ba7c;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ops = Array.from({ length: OPS }, (_, i) => {
  const r = random();
  const key = keyOf(1 + Math.floor(random() * KEYS));
  return r < 0.7 ? { op: 'put', key, value: valueOf(i + 1) } : r < 0.9 ? { op: 'get', key } : { op: 'del', key };
});
const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-batch-'));
const opsFile = join(work, 'ops.txt');
// Values are of the alphabet A-Z a-z 0-9 - _: one word each, no quoting (a value may start with "-": batch takes it as it is).
writeFileSync(opsFile, ops.map((o) => (o.op === 'put' ? `put ${o.key} ${o.value}` : `${o.op} ${o.key}`)).join('\n') + '\n');
const quote = (s) => `'${s.replace(/'/g, "''")}'`;
const sql = [
  'CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);',
  'BEGIN;',
  ...ops.map((o) =>
    o.op === 'put' ? `INSERT OR REPLACE INTO kv VALUES (${quote(o.key)}, ${quote(o.value)});` : o.op === 'get' ? `SELECT v FROM kv WHERE k = ${quote(o.key)};` : `DELETE FROM kv WHERE k = ${quote(o.key)};`,
  ),
  'COMMIT;',
].join('\n');
writeFileSync(join(work, 'ops.sql'), sql);

const store = join(work, 'store');
const db = join(work, 'kv.db');
const fresh = (path) => () => rmSync(path, { recursive: true, force: true });
const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;

// The three must do the same work: batch's get lines (empty: missing) are sqlite3's SELECT rows, in order.
fresh(store)();
const batchOut = runOnce([node, BIN, 'batch', '-d', store, opsFile]).stdout.toString();
const lines = batchOut.split('\n').slice(0, -1);
if (lines.length !== OPS) throw new Error(`tzkv batch printed ${lines.length} results for ${OPS} operations`);
const found = lines.filter((line, i) => ops[i].op === 'get' && line !== '');
if (hasSqlite) {
  fresh(db)();
  const rows = runOnce(['sqlite3', db], { input: sql }).stdout.toString().split('\n').slice(0, -1);
  if (rows.join('\n') !== found.join('\n')) throw new Error('tzkv batch and sqlite3 read different values');
}

const cases = [
  { name: 'node -e 0', argv: [node, '-e', '0'] },
  { name: 'tzkv batch (one process)', argv: [node, BIN, 'batch', '-d', store, opsFile], prepare: fresh(store), options: { discardStdout: true } },
  ...(hasSqlite ? [{ name: 'sqlite3 < ops.sql (one transaction)', argv: ['sqlite3', db], prepare: fresh(db), options: { input: sql, discardStdout: true } }] : []),
];
const before = interleave(cases, { runs: Math.ceil(rounds / 2), warmup: 2 });

/** One process per operation, one after another, on a fresh store: the total wall time of the first `n`. */
function processLeg(n) {
  const dir = join(work, 'processes');
  fresh(dir)();
  const t0 = process.hrtime.bigint();
  for (const o of ops.slice(0, n)) {
    const argv = o.op === 'put' ? ['put', '-d', dir, '--', o.key, o.value] : [o.op, '-d', dir, o.key];
    runOnce([node, BIN, ...argv], { allowFailure: o.op === 'get', discardStdout: true });
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const loadBeforeProcesses = loadAverage();
const processMs = processes > 0 ? processLeg(processes) : null;
const after = interleave(cases, { runs: Math.floor(rounds / 2), warmup: 1 });

const samples = Object.fromEntries(cases.map((c) => [c.name, [...before[c.name].samples, ...after[c.name].samples]]));
const medians = Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
const floor = medians['node -e 0'];
const batch = medians['tzkv batch (one process)'];
/** The median of each phase of `tzkv batch`'s start-up trace over `runs` runs: [[phase, ms], ...]. */
function phases(runs) {
  const seen = new Map();
  for (let i = 0; i < runs; i++) {
    fresh(store)();
    const { stderr } = runOnce([node, BIN, 'batch', '-d', store, opsFile], { env: { TZKV_TRACE_STARTUP: '1' }, discardStdout: true });
    const trace = stderr.split('\n').find((line) => line.startsWith('tzkv start-up: ')) ?? '';
    for (const [, phase, ms] of trace.matchAll(/(?:: |, )([a-z ]+) ([\d.]+) ms/g)) seen.set(phase, [...(seen.get(phase) ?? []), Number(ms)]);
  }
  return [...seen].map(([phase, ms]) => [phase, median(ms)]);
}
const machineLine = machine(work, loadAtStart);
const phaseMedians = phases(Math.max(5, Math.floor(rounds / 2)));
const profile = profileLine([node, BIN, 'batch', '-d', store, opsFile], { prepare: fresh(store) });
rmSync(work, { recursive: true, force: true });

const row = (name, ms, note = '') => `| ${name} | ${ms.toFixed(1)} ms | ${(ms / floor).toFixed(2)}x | ${((ms * 1000) / OPS).toFixed(1)} µs |${note ? ` ${note}` : ''}`;
console.log(`## tzkv batch: 10,000 operations in one process (bench/batch.mjs), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
console.log(`${machineLine} Load average before the process leg: ${loadBeforeProcesses}.\n`);
console.log(`${OPS} operations (${ops.filter((o) => o.op === 'put').length} put, ${ops.filter((o) => o.op === 'get').length} get, ${ops.filter((o) => o.op === 'del').length} del) over ${KEYS} keys, each leg on a fresh, empty store; ${samples['node -e 0'].length} interleaved runs of the one-process legs (medians), the process leg once.\n`);
console.log('| case | total | vs `node -e 0` | per operation |');
console.log('|---|---|---|---|');
for (const c of cases) console.log(row(c.name, medians[c.name]));
if (processMs !== null) {
  const scaled = (processMs * OPS) / processes;
  const measured = processes === OPS ? '' : ` (${processes} measured: ${(processMs / 1000).toFixed(1)} s, scaled to ${OPS})`;
  console.log(row(`${OPS.toLocaleString('en')} \`tzkv\` processes`, scaled, measured));
}
console.log(`\nGoal: \`tzkv batch\` ≤ 4x \`node -e 0\`: ${batch / floor <= 4 ? '**met**' : '**missed**'} (${(batch / floor).toFixed(2)}x).`);
console.log(`\nWhere the batch's time goes, by phase (TZKV_TRACE_STARTUP=1, medians of ${Math.max(5, Math.floor(rounds / 2))} runs): ${phaseMedians.map(([phase, ms]) => `${phase} ${ms.toFixed(1)} ms`).join(', ')}.`);
console.log(`\nAnd by code: ${profile}.`);
