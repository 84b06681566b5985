// 5. `tzkv verify` and `tzkv export` of the largest store (about 1 GB at full scale),
// against `cat` of the same files, the read floor. The files are in the page cache.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { interleave } from '../lib/measure.mjs';
import { TZKV } from '../lib/peers.mjs';
import { fill, table } from '../lib/report.mjs';

export const title = '`verify` and `export` of the largest store';

export function run(ctx) {
  const n = ctx.sizes[2];
  const dir = ctx.store('tzkv', n);
  const files = readdirSync(dir).filter((f) => !f.startsWith('.')).map((f) => join(dir, f));
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const quiet = { discardStdout: true };
  const cases = [
    { name: '`cat` of the store\'s files', argv: ['cat', ...files], options: quiet },
    { name: '`tzkv verify`', argv: [...TZKV, 'verify', '-d', dir], options: quiet },
    { name: '`tzkv export` to /dev/null', argv: [...TZKV, 'export', '-d', dir], options: quiet },
  ];
  const rows = cases.map((c, i) => ({ peer: i === 0 ? 'floor' : 'tzkv', label: c.name, name: c.name }));
  fill(rows, interleave(cases, { runs: ctx.heavyRuns, warmup: ctx.heavyWarmup }));
  const mbps = (r) => bytes / 1e6 / (r.ms / 1000);
  for (const r of rows) r.extra = `${mbps(r).toFixed(0)} MB/s`;
  const verify = rows[1];
  const goals = [
    {
      text: '`tzkv verify` ≥ 500 MB/s',
      measured: `${mbps(verify).toFixed(0)} MB/s (\`cat\`: ${mbps(rows[0]).toFixed(0)} MB/s)`,
      met: mbps(verify) >= 500,
      profile: cases[1].argv,
    },
  ];
  return {
    rows,
    table: table(rows, { floorOf: () => rows[0], extraHeader: 'store bytes / time' }),
    goals,
    note: `The ${ctx.count(n)}-key store: ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB, read from the page cache.`,
  };
}
