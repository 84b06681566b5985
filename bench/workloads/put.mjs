// 3. One synced `put` per process, a new key each time, into a store that starts empty.
import { join } from 'node:path';
import { keyOf, valueOf } from '../lib/data.mjs';
import { interleave } from '../lib/measure.mjs';
import { FLOOR, emptyStore, putArgv } from '../lib/peers.mjs';
import { fill, fmtX, table } from '../lib/report.mjs';

export const title = 'one synced `put` per process';
const BASE = 800_000_000_000; // keys no other workload uses

export function run(ctx) {
  const rows = [{ peer: 'floor', label: FLOOR.name, name: FLOOR.name }];
  const cases = [{ name: FLOOR.name, argv: FLOOR.argv }];
  for (const p of ctx.peers(['tzkv', 'sqlite', 'level', 'lmdb', 'json'])) {
    const label = `${p.name} put`;
    rows.push({ peer: p.id, label, name: label, skipped: p.skipped });
    if (p.skipped) continue;
    const dir = join(ctx.work, `put-${p.id}`);
    emptyStore(p.id, dir);
    cases.push({ name: label, argv: (i) => putArgv(p.id, dir, keyOf(BASE + i), valueOf(BASE + i)) });
  }
  fill(rows, interleave(cases, { runs: ctx.puts, warmup: ctx.warmup }));
  const floor = rows[0];
  const tz = rows.find((r) => r.peer === 'tzkv');
  const profileDir = join(ctx.work, 'put-tzkv');
  const goals = [
    {
      text: 'per-process `tzkv put` ≤ 2.2x `node -e 0`',
      measured: fmtX(tz.ms / floor.ms),
      met: tz.ms / floor.ms <= 2.2,
      profile: putArgv('tzkv', profileDir, keyOf(BASE - 1), valueOf(BASE - 1)),
    },
  ];
  return { rows, table: table(rows, { floorOf: () => floor }), goals, note: `${ctx.puts} puts per peer (after ${ctx.warmup} warm-up puts), each a new process and a new 16-byte key with a 100-byte value, synced before the process exits (sqlite3: its default synchronous=FULL; LevelDB: sync: true; LMDB: its default durable commit; JSON: fsync of a temporary file, then rename).` };
}
