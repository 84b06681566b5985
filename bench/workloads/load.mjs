// 2. Bulk load of 1M records from one TSV file into a new store: `tzkv import` vs sqlite3
// `.import` in one transaction vs LevelDB batches vs one LMDB transaction vs a JSON file;
// the floor is `dd` of the same bytes with fsync.
import { join } from 'node:path';
import { rmSync, mkdirSync } from 'node:fs';
import { tsvFile } from '../lib/data.mjs';
import { interleave } from '../lib/measure.mjs';
import { loadArgv } from '../lib/peers.mjs';
import { bestPeer, fill, fmtX, table } from '../lib/report.mjs';

export const title = 'bulk load';

export function run(ctx) {
  const n = ctx.sizes[1];
  const tsv = tsvFile(ctx.dataDir, n);
  const labels = { tzkv: '`tzkv import --format tsv`', sqlite: 'sqlite3 `.import`, one transaction', level: 'Node + LevelDB, batches of 10,000', lmdb: 'Node + LMDB, one transaction', json: 'Node + JSON file' };
  const floorName = '`dd conv=fsync` of the same bytes';
  const rows = [];
  const cases = [];
  const fresh = (id) => {
    const dir = join(ctx.work, `load-${id}`);
    rmSync(dir, { recursive: true, force: true });
    if (id !== 'tzkv') mkdirSync(dir, { recursive: true });
    return dir;
  };
  for (const p of ctx.peers(['tzkv', 'sqlite', 'level', 'lmdb', 'json'])) {
    rows.push({ peer: p.id, label: labels[p.id], name: labels[p.id], skipped: p.skipped });
    if (p.skipped) continue;
    const dir = join(ctx.work, `load-${p.id}`);
    cases.push({ name: labels[p.id], argv: loadArgv(p.id, dir, tsv), prepare: () => fresh(p.id) });
  }
  const ddDir = join(ctx.work, 'load-dd');
  rows.push({ peer: 'floor', label: floorName, name: floorName });
  cases.push({ name: floorName, argv: ['dd', `if=${tsv}`, `of=${join(ddDir, 'copy')}`, 'bs=1M', 'conv=fsync', 'status=none'], prepare: () => fresh('dd') });
  fill(rows, interleave(cases, { runs: ctx.heavyRuns, warmup: ctx.heavyWarmup }));
  for (const id of ['tzkv', 'sqlite', 'level', 'lmdb', 'json', 'dd']) rmSync(join(ctx.work, `load-${id}`), { recursive: true, force: true });

  const floor = rows.find((r) => r.peer === 'floor');
  const tz = rows.find((r) => r.peer === 'tzkv');
  const best = bestPeer(rows, undefined);
  const goals = [
    {
      text: `bulk load of ${ctx.count(n)} records ≤ 0.5x the best peer's time`,
      measured: best ? `${fmtX(tz.ms / best.ms)} ${best.label} (tzkv ${fmtX(tz.ms / floor.ms)} the \`dd\` floor)` : 'no peer ran',
      met: best ? tz.ms / best.ms <= 0.5 : null,
      profile: loadArgv('tzkv', join(ctx.work, 'load-profile'), tsv),
      prepare: () => fresh('profile'),
    },
  ];
  return { rows, table: table(rows, { floorOf: () => floor }), goals, note: `${ctx.count(n)} records of 16 + 100 bytes (a ${(n * 118 / 1e6).toFixed(0)} MB TSV); a new store each run, every load durable when the process exits.` };
}
