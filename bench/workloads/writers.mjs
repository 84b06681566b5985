// 7. Eight writer processes at once (two at smoke scale), each putting its own keys one process per put:
// tzkv with its writer lock, sqlite3 with a busy timeout, LMDB (multi-process by design),
// the JSON file (no lock: it loses updates); LevelDB admits one process at a time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { keyOf, valueOf } from '../lib/data.mjs';
import { cleanEnv, median, runOnce } from '../lib/measure.mjs';
import { FLOOR, emptyStore, keysArgv, putArgv } from '../lib/peers.mjs';
import { table } from '../lib/report.mjs';

export const title = 'concurrent writer processes';
const BASE = 900_000_000_000;

/** Runs argv; resolves with its stderr when it fails, else with null. */
const runAsync = (argv) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve(code === 0 ? null : `exit ${code}: ${err.trim().split('\n')[0]}`));
  });

/** `writers` lanes at once, each running `each` processes one after another: { ms, failures }. */
async function lanes(writers, each, argvOf) {
  const failures = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let j = 0; j < each; j++) {
      const failure = await runAsync(argvOf(w, j));
      if (failure) failures.push(failure);
    }
  }));
  return { ms: performance.now() - t0, failures };
}

export async function run(ctx) {
  const each = ctx.writerPuts;
  const WRITERS = ctx.writers;
  const total = WRITERS * each;
  const keyAt = (w, j) => BASE + w * 1_000_000 + j;
  const peers = ctx.peers(['tzkv', 'sqlite', 'lmdb', 'json', 'level']);
  for (const p of peers) if (p.id === 'level' && !p.skipped) p.skipped = 'LevelDB admits one process at a time (a second open fails with LEVEL_LOCKED)';
  const rows = [{ peer: 'floor', label: `${WRITERS} × ${each} \`${FLOOR.name}\``, samples: [] }];
  for (const p of peers) rows.push({ peer: p.id, label: `${p.name} put`, skipped: p.skipped, samples: [], found: [], failures: [] });
  for (let round = 0; round < ctx.writerRounds; round++) {
    for (const r of rows) {
      if (r.skipped) continue;
      if (r.peer === 'floor') {
        r.samples.push((await lanes(WRITERS, each, () => FLOOR.argv)).ms);
        continue;
      }
      const dir = join(ctx.work, `writers-${r.peer}`);
      emptyStore(r.peer, dir);
      const { ms, failures } = await lanes(WRITERS, each, (w, j) => putArgv(r.peer, dir, keyOf(keyAt(w, j)), valueOf(keyAt(w, j))));
      r.samples.push(ms);
      r.failures.push(...failures);
      const listed = runOnce(keysArgv(r.peer, dir, keyOf(BASE).slice(0, 5), 'key::')).stdout.toString().trim();
      r.found.push(listed ? listed.split('\n').length : 0);
    }
  }
  for (const r of rows) {
    if (r.skipped) continue;
    r.ms = median(r.samples);
    r.rssMb = null;
    const failed = r.failures?.length ? `; ${r.failures.length} puts failed (${[...new Set(r.failures)].slice(0, 2).join('; ')})` : '';
    r.extra = `${Math.round(total / (r.ms / 1000))}/s${r.found ? `; ${Math.min(...r.found)} of ${total} keys kept` : ''}${failed}`;
  }
  return {
    rows,
    table: table(rows, { floorOf: () => rows[0], extraHeader: 'puts/s; keys present after (worst round)' }),
    goals: [],
    note: `${WRITERS} lanes at once, each starting ${each} put processes one after another (${total} puts a round, a new empty store each round), ${ctx.writerRounds} round(s), median wall time of a round. sqlite3 waits up to 60 s for a busy database (\`.timeout\`).`,
  };
}
