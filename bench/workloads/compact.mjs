// 6. `tzkv compact` of a 1M-key store where half the records are dead (every record
// written twice), against LevelDB's compactRange over the same history: time and peak memory.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsvFile } from '../lib/data.mjs';
import { interleave, runOnce } from '../lib/measure.mjs';
import { TZKV, copyStore, loadArgv } from '../lib/peers.mjs';
import { fill, table } from '../lib/report.mjs';

export const title = '`compact` with half the records dead';

/** The cached store of n keys, each written twice: the first of each pair is dead. */
function twiceWritten(ctx, peer, n) {
  const dir = join(ctx.dataDir, `${peer}-${n}-twice`);
  if (existsSync(join(dir, '.bench-twice'))) return dir;
  copyStore(ctx.store(peer, n), dir);
  ctx.log(`writing every record of the ${peer} store of ${n} records again`);
  if (peer === 'tzkv') runOnce([process.execPath, join(ctx.benchDir, 'peers', 'tzkv-build.mjs'), dir, tsvFile(ctx.dataDir, n)]);
  else runOnce(loadArgv(peer, dir, tsvFile(ctx.dataDir, n)));
  writeFileSync(join(dir, '.bench-twice'), '');
  return dir;
}

export function run(ctx) {
  const n = ctx.sizes[1];
  const rows = [];
  const cases = [];
  for (const p of ctx.peers(['tzkv', 'level'])) {
    const label = p.id === 'tzkv' ? '`tzkv compact`' : 'Node + LevelDB `compactRange` of all keys';
    rows.push({ peer: p.id, label, name: label, skipped: p.skipped });
    if (p.skipped) continue;
    const source = twiceWritten(ctx, p.id, n);
    const dir = join(ctx.work, `compact-${p.id}`);
    const argv = p.id === 'tzkv' ? [...TZKV, 'compact', '-d', dir] : [process.execPath, join(ctx.benchDir, 'peers', 'level.mjs'), 'compact', dir];
    cases.push({ name: label, argv, prepare: () => copyStore(source, dir) });
  }
  fill(rows, interleave(cases, { runs: ctx.heavyRuns, warmup: ctx.heavyWarmup }));
  return { rows, table: table(rows), goals: [], note: `${ctx.count(n)} keys, each written twice (${ctx.count(2 * n)} records, half of them dead); a fresh copy of the store for every run, copied outside the timing.` };
}
