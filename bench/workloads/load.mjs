// 2. Bulk load of 1M records into a new store, from one TSV file and from one JSON Lines file
// of the same records: `tzkv import` vs sqlite3 `.import` in one transaction vs LevelDB
// batches vs one LMDB transaction vs a JSON file; each format's floor is `dd` of its bytes
// with fsync. Both formats' cases run interleaved in one sitting.
import { join } from 'node:path';
import { rmSync, mkdirSync } from 'node:fs';
import { jsonlFile, tsvFile } from '../lib/data.mjs';
import { interleave } from '../lib/measure.mjs';
import { loadArgv } from '../lib/peers.mjs';
import { bestPeer, fill, fmtX, table } from '../lib/report.mjs';

export const title = 'bulk load';

const FORMATS = [
  { id: 'tsv', group: 'TSV', file: tsvFile, flag: 'tsv' },
  { id: 'jsonl', group: 'JSON Lines', file: jsonlFile, flag: 'jsonl' },
];

export function run(ctx) {
  const n = ctx.sizes[1];
  const labels = { sqlite: 'sqlite3 `.import`, one transaction', level: 'Node + LevelDB, batches of 10,000', lmdb: 'Node + LMDB, one transaction', json: 'Node + JSON file' };
  const floorName = '`dd conv=fsync` of the same bytes';
  const rows = [];
  const cases = [];
  const ids = [];
  const fresh = (id, keep) => {
    const dir = join(ctx.work, `load-${id}`);
    rmSync(dir, { recursive: true, force: true });
    if (keep) mkdirSync(dir, { recursive: true });
    return dir;
  };
  for (const f of FORMATS) {
    const file = f.file(ctx.dataDir, n);
    for (const p of ctx.peers(['tzkv', 'sqlite', 'level', 'lmdb', 'json'])) {
      const label = p.id === 'tzkv' ? `\`tzkv import --format ${f.flag}\`` : labels[p.id];
      const name = `${f.group}: ${label}`;
      rows.push({ group: f.group, peer: p.id, label, name, skipped: p.skipped, format: f.id });
      if (p.skipped) continue;
      const id = `${f.id}-${p.id}`;
      ids.push(id);
      cases.push({ name, argv: loadArgv(p.id, join(ctx.work, `load-${id}`), file), prepare: () => fresh(id, p.id !== 'tzkv') });
    }
    const id = `${f.id}-dd`;
    ids.push(id);
    rows.push({ group: f.group, peer: 'floor', label: floorName, name: `${f.group}: ${floorName}`, format: f.id });
    cases.push({ name: `${f.group}: ${floorName}`, argv: ['dd', `if=${file}`, `of=${join(ctx.work, `load-${id}`, 'copy')}`, 'bs=1M', 'conv=fsync', 'status=none'], prepare: () => fresh(id, true) });
  }
  fill(rows, interleave(cases, { runs: ctx.heavyRuns, warmup: ctx.heavyWarmup }));
  for (const id of ids) rmSync(join(ctx.work, `load-${id}`), { recursive: true, force: true });

  const floorOf = (row) => rows.find((r) => r.peer === 'floor' && r.format === row.format);
  const goals = FORMATS.map((f) => {
    const tz = rows.find((r) => r.peer === 'tzkv' && r.format === f.id);
    const floor = floorOf(tz);
    const best = bestPeer(rows, f.group);
    return {
      text: `bulk load of ${ctx.count(n)} records ≤ 0.5x the best peer's time, ${f.group}`,
      measured: best ? `${fmtX(tz.ms / best.ms)} ${best.label} (tzkv ${fmtX(tz.ms / floor.ms)} the \`dd\` floor)` : 'no peer ran',
      met: best ? tz.ms / best.ms <= 0.5 : null,
      profile: loadArgv('tzkv', join(ctx.work, 'load-profile'), f.file(ctx.dataDir, n)),
      prepare: () => fresh('profile', false),
    };
  });
  const mb = (bytesPerLine) => ((n * bytesPerLine) / 1e6).toFixed(0);
  return {
    rows,
    table: table(rows, { floorOf }),
    goals,
    note: `${ctx.count(n)} records of 16 + 100 bytes, as TSV (a ${mb(118)} MB file) and as JSON Lines in \`tzkv export\`'s shape (\`{"key":…,"value":…,"expiresAt":null}\`, ${mb(155)} MB); a new store each run, every load durable when the process exits.`,
  };
}
