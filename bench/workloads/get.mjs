// 1. One `get` per process on 1-key, 1M-key and 10M-key stores.
import { keyOf, valueOf } from '../lib/data.mjs';
import { interleave } from '../lib/measure.mjs';
import { FLOOR, JSON_MAX_RECORDS, getArgv } from '../lib/peers.mjs';
import { bestPeer, fill, fmtX, table } from '../lib/report.mjs';

export const title = 'one `get` per process';

/** The record a size's get asks for: the only one, or one a fixed way into the store. */
const probeOf = (n) => (n === 1 ? 1 : Math.floor(n * 0.61803) + 1);

export function run(ctx) {
  const rows = [{ group: '', peer: 'floor', label: FLOOR.name, name: FLOOR.name }];
  const cases = [{ name: FLOOR.name, argv: FLOOR.argv }];
  for (const n of ctx.sizes) {
    const group = ctx.keysLabel(n);
    const i = probeOf(n);
    const want = valueOf(i);
    for (const p of ctx.peers(['tzkv', 'sqlite', 'level', 'lmdb', 'json'])) {
      const label = `${p.name} get`;
      if (!p.skipped && p.id === 'json' && n > JSON_MAX_RECORDS) p.skipped = "a JSON file this large is over V8's longest string";
      const name = `${group}: ${label}`;
      rows.push({ group, peer: p.id, label, name, skipped: p.skipped, n });
      if (p.skipped) continue;
      const dir = ctx.store(p.id, n);
      cases.push({
        name,
        argv: getArgv(p.id, dir, keyOf(i)),
        check: (r) => {
          if (r.stdout.toString().trimEnd() !== want) throw new Error(`${p.name} get returned ${r.stdout.toString().slice(0, 40)}…, not the value of ${keyOf(i)}`);
        },
      });
    }
  }
  fill(rows, interleave(cases, { runs: ctx.runs, warmup: ctx.warmup }));

  const floor = rows[0];
  const tz = (n) => rows.find((r) => r.peer === 'tzkv' && r.n === n);
  const [one, m1, m10] = ctx.sizes;
  const peersAt1m = ['level', 'lmdb']
    .map((id) => rows.find((r) => r.peer === id && r.n === m1 && !r.skipped))
    .filter(Boolean)
    .map((r) => `${r.label} ${fmtX(r.ms / floor.ms)}`);
  const best = bestPeer(rows, ctx.keysLabel(m1));
  const goals = [
    {
      text: `\`tzkv get\` on ${ctx.count(m1)} keys ≤ 2.0x \`node -e 0\``,
      measured: `${fmtX(tz(m1).ms / floor.ms)} (${[...peersAt1m, best ? `best peer ${best.label} ${fmtX(best.ms / floor.ms)}` : ''].filter(Boolean).join('; ')})`,
      met: tz(m1).ms / floor.ms <= 2.0,
      profile: getArgv('tzkv', ctx.store('tzkv', m1), keyOf(probeOf(m1))),
    },
    {
      text: `\`tzkv get\` on ${ctx.count(m10)} keys ≤ 1.3x the same on 1 key`,
      measured: fmtX(tz(m10).ms / tz(one).ms),
      met: tz(m10).ms / tz(one).ms <= 1.3,
      profile: getArgv('tzkv', ctx.store('tzkv', m10), keyOf(probeOf(m10))),
    },
  ];
  return { rows, table: table(rows, { floorOf: () => floor }), goals };
}
