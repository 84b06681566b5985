// Engine benchmark (issue #2's numbers): per-process get on 1-key, 1M-key and
// 10M-key stores against `node -e 0`; peak RSS of that get; prefix listing of
// 1,000 keys in a 1M-key vs a 1,000-key store; bulk load of 1M records in one
// atomic batch. `--quick` runs everything at 1/100 scale.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { interleave, median, runOnce } from './lib/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const scale = quick ? 0.01 : 1;
const runs = quick ? 5 : 21;
const data = join(here, 'data', quick ? 'quick' : 'full');
const node = process.execPath;
const bin = (name) => join(here, 'bin', name);
const tzkvBin = join(here, '..', 'bin', 'run.js');
const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function store(name, n) {
  const dir = join(data, name);
  const marker = join(dir, '.bench-complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`building ${name} (${n} records)...\n`);
  runOnce([node, bin('load.mjs'), dir, String(n), '0', '1000000']);
  writeFileSync(marker, '');
  return dir;
}

const n1m = Math.round(1_000_000 * scale);
const n10m = Math.round(10_000_000 * scale);
const one = store('one', 1);
const k1 = store('k1', 1000);
const m1 = store('m1', n1m);
const m10 = store('m10', n10m);

// 1. get per process
const probe = keyOf(0);
const deep = (n) => keyOf(Math.floor(n * 0.61803));
const gets = interleave(
  [
    { name: 'node -e 0', argv: [node, '-e', '0'] },
    { name: 'get, 1-key store', argv: [node, bin('get.mjs'), one, probe] },
    { name: `get, ${n1m}-key store`, argv: [node, bin('get.mjs'), m1, deep(n1m)] },
    { name: `get, ${n10m}-key store`, argv: [node, bin('get.mjs'), m10, deep(n10m)] },
    { name: 'tzkv get, 1-key store', argv: [node, tzkvBin, 'get', '-d', one, probe] },
    { name: `tzkv get, ${n1m}-key store`, argv: [node, tzkvBin, 'get', '-d', m1, deep(n1m)] },
    { name: `tzkv get, ${n10m}-key store`, argv: [node, tzkvBin, 'get', '-d', m10, deep(n10m)] },
  ],
  { runs },
);

// 2. prefix listing, 1,000 matches (100 at quick scale)
const prefix = quick ? 'key:0000000001' : 'key:000000123';
const smallPrefix = quick ? 'key:0000000000' : 'key:000000000';
const expectCount = quick ? 100 : 1000;
const countLines = (r) => {
  const n = r.stdout.toString().trim().split('\n').length;
  if (n !== expectCount) throw new Error(`listing returned ${n} keys, expected ${expectCount}`);
};
const lists = interleave(
  [
    { name: `keys PREFIX, 1,000-key store`, argv: [node, bin('keys.mjs'), k1, smallPrefix], check: countLines },
    { name: `keys PREFIX, ${n1m}-key store`, argv: [node, bin('keys.mjs'), m1, prefix], check: countLines },
  ],
  { runs },
);

// 3. bulk load: 1M records into a fresh store, one atomic batch, interleaved with the peers:
//    the embedded API (data generated in-process), `tzkv import --format tsv` of a file, and
//    sqlite3's `.import` of the same file in one transaction (skipped when sqlite3 is absent).
const tsv = join(data, `records-${n1m}.tsv`);
if (!existsSync(tsv)) {
  const value = 'a'.repeat(100);
  const lines = [];
  for (let i = 0; i < n1m; i++) lines.push(`${keyOf(i)}\t${value}`);
  writeFileSync(tsv, lines.join('\n') + '\n');
}
const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const fresh = (name) => {
  const dir = join(data, name);
  rmSync(dir, { recursive: true, force: true });
  return dir;
};
const loadCases = [
  { name: `API batch, ${n1m} records`, run: () => runOnce([node, bin('load.mjs'), fresh('load-api'), String(n1m), '0', String(n1m)]) },
  { name: `tzkv import --format tsv, ${n1m} records`, run: () => runOnce([node, join(here, '..', 'bin', 'run.js'), 'import', '--format', 'tsv', '-d', fresh('load-cli'), tsv]) },
];
if (hasSqlite) {
  loadCases.push({
    name: `sqlite3 .import, ${n1m} records (peer)`,
    run: () => {
      const db = join(fresh('load-sqlite'), 'kv.db');
      mkdirSync(dirname(db), { recursive: true });
      return runOnce(['sqlite3', db, 'CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB);', '.mode tabs', `.import ${tsv} kv`]);
    },
  });
}
const loadRuns = Object.fromEntries(loadCases.map((c) => [c.name, { samples: [], inProcess: [], rss: [] }]));
for (let i = 0; i < (quick ? 2 : 5); i++) {
  for (const c of loadCases) {
    const r = c.run();
    loadRuns[c.name].samples.push(r.ms);
    const ms = /loadms=(\d+)/.exec(r.stderr);
    if (ms) loadRuns[c.name].inProcess.push(Number(ms[1]));
    const rss = /maxrss=(\d+)/.exec(r.stderr);
    if (rss) loadRuns[c.name].rss.push(Number(rss[1]) / 1024);
  }
}
for (const name of ['load-api', 'load-cli', 'load-sqlite']) rmSync(join(data, name), { recursive: true, force: true });

const floor = gets['node -e 0'].median;
const base = gets['get, 1-key store'].median;
const rows = [
  ['workload', 'median', 'ratio', 'peak RSS'],
  ...Object.entries(gets).map(([k, v]) => {
    const one = k.startsWith('tzkv') ? gets['tzkv get, 1-key store'].median : base;
    return [k, fmt(v.median), `${(v.median / floor).toFixed(2)}x node -e 0; ${(v.median / one).toFixed(3)}x 1-key get`, v.rssMb ? `${v.rssMb.toFixed(0)} MB` : ''];
  }),
  ...Object.entries(lists).map(([k, v]) => [k, fmt(v.median), `${(v.median / lists['keys PREFIX, 1,000-key store'].median).toFixed(3)}x 1,000-key store`, `${v.rssMb.toFixed(0)} MB`]),
  ...Object.entries(loadRuns).map(([k, v]) => {
    const peer = loadRuns[`sqlite3 .import, ${n1m} records (peer)`];
    const vsPeer = peer ? `${(median(v.samples) / median(peer.samples)).toFixed(2)}x sqlite3` : 'sqlite3 absent';
    const inside = v.inProcess.length ? `; batch alone ${fmt(median(v.inProcess))}` : '';
    return [`${k} (whole process)`, fmt(median(v.samples)), vsPeer + inside, v.rss.length ? `${median(v.rss).toFixed(0)} MB` : ''];
  }),
];
const table = rows.map((r, i) => `| ${r.join(' | ')} |` + (i === 0 ? `\n|${r.map(() => '---').join('|')}|` : '')).join('\n');
const header = `Engine benchmark${quick ? ' (quick, 1/100 scale)' : ''}, ${new Date().toISOString()}; Node ${process.version}; ${cpus().length} cores (${cpus()[0].model}); ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} interleaved runs per case; sync on.`;
console.log(`${header}\n\n${table}`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', quick ? 'engine-quick.md' : 'engine.md'), `${header}\n\n${table}\n`);
