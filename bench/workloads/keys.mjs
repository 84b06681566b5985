// 4. `keys PREFIX` with 1,000 matches in a 1M-key store (the others list the same range).
import { interleave } from '../lib/measure.mjs';
import { FLOOR, keysArgv } from '../lib/peers.mjs';
import { prefixFor } from '../lib/data.mjs';
import { fill, table } from '../lib/report.mjs';

export const title = '`keys PREFIX`';

export function run(ctx) {
  const n = ctx.sizes[1];
  const matches = Math.min(1000, n / 10);
  const { prefix, upper } = prefixFor(n, matches);
  const rows = [{ peer: 'floor', label: FLOOR.name, name: FLOOR.name }];
  const cases = [{ name: FLOOR.name, argv: FLOOR.argv }];
  for (const p of ctx.peers(['tzkv', 'sqlite', 'level', 'lmdb', 'json'])) {
    const label = `${p.name} keys`;
    rows.push({ peer: p.id, label, name: label, skipped: p.skipped });
    if (p.skipped) continue;
    cases.push({
      name: label,
      argv: keysArgv(p.id, ctx.store(p.id, n), prefix, upper),
      check: (r) => {
        const got = r.stdout.toString().trim().split('\n').length;
        if (got !== matches) throw new Error(`${p.name} listed ${got} keys under ${prefix}, not ${matches}`);
      },
    });
  }
  fill(rows, interleave(cases, { runs: ctx.runs, warmup: ctx.warmup }));
  return { rows, table: table(rows, { floorOf: () => rows[0] }), goals: [], note: `\`${prefix}\` matches ${matches} of ${ctx.count(n)} keys; the peers list the same key range, in order.` };
}
