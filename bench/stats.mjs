#!/usr/bin/env node
// `tzkv stats` costs the same on a 10M-key store as on a small one (issue #5):
// whole `tzkv stats --json` processes on the benchmark's tzkv stores of 1, 1M
// and 10M keys (built by `npm run bench`), or on the store directories given,
// interleaved after a warm-up, medians, NODE_EXTRA_CA_CERTS unset.
//
//   node bench/stats.mjs [DIR...]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave, runOnce } from './lib/measure.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const given = process.argv.slice(2);
const dirs = given.length ? given : [1, 1_000_000, 10_000_000].map((n) => `/tmp/tzkv-bench-data/full/tzkv-${n}`);
const missing = dirs.filter((d) => !existsSync(d));
if (missing.length) {
  console.log(`skipped: no store at ${missing.join(', ')} (run npm run bench first, or name store directories)`);
  process.exit(0);
}
const facts = dirs.map((d) => JSON.parse(runOnce([process.execPath, BIN, 'stats', '-d', d, '--json']).stdout.toString()));
const results = interleave(
  [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    ...dirs.map((d, i) => ({ name: `stats, ${facts[i].keys} keys`, argv: [process.execPath, BIN, 'stats', '-d', d, '--json'] })),
  ],
  { runs: 21, warmup: 3 },
);
const smallest = results[`stats, ${facts[0].keys} keys`].median;
console.log(`Node ${process.version}, 21 runs each, interleaved, medians\n`);
console.log('| store | keys | counted | median | vs the smallest store |\n|---|---|---|---|---|');
console.log(`| \`node -e 0\` | | | ${results['node -e 0'].median.toFixed(1)} ms | |`);
dirs.forEach((d, i) => {
  const r = results[`stats, ${facts[i].keys} keys`];
  console.log(`| ${d} | ${facts[i].keys} | ${facts[i].counted} | ${r.median.toFixed(1)} ms | ${(r.median / smallest).toFixed(3)}x |`);
});
