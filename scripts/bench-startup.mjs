#!/usr/bin/env node
// Start-up time of the CLI against bare Node, measured the way the contract
// states it: `tzkv get KEY` on an empty store versus `node -e 0`, median of
// interleaved runs, NODE_EXTRA_CA_CERTS unset (it costs every Node start).
//   node scripts/bench-startup.mjs [rounds]      (default 40; needs npm run build)
// Prints the medians and the ratio; exits 1 when the ratio is over 2.5. The same
// line through oclif (TZKV_NO_FAST_PATH=1) runs alongside, for comparison.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT = 2.5;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 40);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
delete env.TZKV_NO_FAST_PATH;

const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-'));
const store = join(work, 'store');
mkdirSync(store);
const commands = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'tzkv get k (empty store)': [process.execPath, [join(ROOT, 'bin', 'run.js'), 'get', '-d', store, 'k']],
  // The same line through oclif: what the fast path (src/cli/fast-argv.ts) saves.
  'the same through oclif': [process.execPath, [join(ROOT, 'bin', 'run.js'), 'get', '-d', store, 'k'], { TZKV_NO_FAST_PATH: '1' }],
};

function time([file, args, extra = {}]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { env: { ...env, ...extra }, stdio: 'ignore' });
  if (result.error) throw result.error;
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
// Warm-up: file caches, and the CLI's code cache.
for (let i = 0; i < 5; i++) for (const command of Object.values(commands)) time(command);
for (let i = 0; i < rounds; i++) for (const [name, command] of Object.entries(commands)) samples[name].push(time(command));
rmSync(work, { recursive: true, force: true });

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const [base, cli] = Object.values(samples).map(median);
for (const [name, xs] of Object.entries(samples)) console.log(`${name.padEnd(26)} median ${median(xs).toFixed(1)} ms (${rounds} runs, ${(median(xs) / base).toFixed(2)}x)`);
const ratio = cli / base;
console.log(`ratio ${ratio.toFixed(2)} (limit ${LIMIT})`);
process.exit(ratio <= LIMIT ? 0 : 1);
