// tzkv against the peers users would pick instead (issue #7), side by side in one run:
//   node bench/run.mjs            full scale; writes docs/benchmarks.md
//   node bench/run.mjs --quick    every workload at 1/100 scale; writes bench/results/quick.md
//   node bench/run.mjs --smoke    tiny data, one run per case (the test that keeps the harness alive)
// Options: --data DIR (the cache of generated data and built stores; default
// /tmp/tzkv-bench-data/MODE), --out FILE, --only 1,3 (workload numbers), --no-profile.
// It reports; it never fails on speed. Needs `npm run build` first.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PEER_NAMES, cachedStore, peerAvailability } from './lib/peers.mjs';
import { loadAverage, machine } from './lib/machine.mjs';
import { goalLine } from './lib/report.mjs';
import { profileLine } from './lib/profile.mjs';
import * as get from './workloads/get.mjs';
import * as load from './workloads/load.mjs';
import * as put from './workloads/put.mjs';
import * as keys from './workloads/keys.mjs';
import * as verify from './workloads/verify.mjs';
import * as compact from './workloads/compact.mjs';
import * as writers from './workloads/writers.mjs';

const WORKLOADS = [get, load, put, keys, verify, compact, writers];
const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    smoke: { type: 'boolean' },
    data: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    'no-profile': { type: 'boolean' },
  },
});
const mode = opts.smoke ? 'smoke' : opts.quick ? 'quick' : 'full';
const SETTINGS = {
  full: { scale: 1, runs: 21, warmup: 3, heavyRuns: 5, heavyWarmup: 1, puts: 200, writers: 8, writerPuts: 25, writerRounds: 3, profileRuns: 5 },
  quick: { scale: 0.01, runs: 5, warmup: 1, heavyRuns: 3, heavyWarmup: 1, puts: 10, writers: 8, writerPuts: 2, writerRounds: 1, profileRuns: 2 },
  smoke: { scale: 0.0001, runs: 1, warmup: 0, heavyRuns: 1, heavyWarmup: 0, puts: 2, writers: 2, writerPuts: 1, writerRounds: 1, profileRuns: 0 },
}[mode];
const started = Date.now();
const loadAtStart = loadAverage();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);

const avail = peerAvailability();
for (const [id, why] of Object.entries(avail)) if (why) log(`skipping ${PEER_NAMES[id]}: ${why}`);
const dataDir = opts.data ?? join(tmpdir(), 'tzkv-bench-data', mode);
const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-work-'));
const ctx = {
  ...SETTINGS,
  mode,
  benchDir,
  dataDir,
  work,
  log,
  sizes: [1, Math.round(1_000_000 * SETTINGS.scale), Math.round(10_000_000 * SETTINGS.scale)],
  count: (n) => (n >= 1e6 ? `${n / 1e6}M` : n.toLocaleString('en-US')),
  keysLabel: (n) => (n === 1 ? '1 key' : `${ctx.count(n)} keys`),
  store: (peer, n) => cachedStore(peer, dataDir, n, log),
  /** The peers among ids, each { id, name, skipped: reason | null }. */
  peers: (ids) => ids.map((id) => ({ id, name: PEER_NAMES[id], skipped: avail[id] })),
};
const only = opts.only ? new Set(opts.only.split(',').map(Number)) : null;
const profile = !opts['no-profile'] && mode !== 'smoke';

const sections = [];
const headlines = [];
let failed = 0;
try {
  for (const [i, w] of WORKLOADS.entries()) {
    if (only && !only.has(i + 1)) continue;
    log(`workload ${i + 1}: ${w.title}`);
    let result;
    try {
      result = await w.run(ctx);
    } catch (err) {
      // One workload's failure is reported and the others still run; the exit status says so.
      failed++;
      log(`workload ${i + 1} failed: ${err.stack}`);
      sections.push(`## ${i + 1}. ${w.title}\n\nFailed: ${String(err.message).split('\n')[0]}`);
      continue;
    }
    const goals = result.goals.map((g) => {
      let where;
      if (g.met === false && profile) {
        where = profileLine(g.profile, { prepare: g.prepare, runs: SETTINGS.profileRuns });
      }
      headlines.push({ workload: i + 1, ...g });
      return goalLine({ ...g, where });
    });
    sections.push([`## ${i + 1}. ${w.title}`, result.note ?? '', result.table, goals.join('\n')].filter(Boolean).join('\n\n'));
    console.log(`\n${sections.at(-1)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const header = [
  `# tzkv against its peers${mode === 'full' ? '' : ` (${mode} scale: ${SETTINGS.scale} of the full sizes)`}`,
  `Written by \`npm run bench${mode === 'full' ? '' : `:${mode}`}\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${minutes} min.`,
  machine(dataDir, loadAtStart),
  `Data: 16-byte keys (\`key:000000000001\` …) and 100-byte values from a PRNG with a fixed seed (bench/lib/data.mjs), keys in ascending order, stores of ${ctx.sizes.map(ctx.count).join(', ')} records; every peer's store built from the same TSV. Sync: every write durable before its process exits (tzkv's default; see each workload for the peers'). Whole processes, interleaved A B A B … after ${SETTINGS.warmup} warm-up rounds (${SETTINGS.heavyWarmup} for loads, verify and compact), medians of ${SETTINGS.runs} runs (${SETTINGS.heavyRuns} for the heavy workloads); \`NODE_EXTRA_CA_CERTS\` removed from every child's environment; peak RSS from GNU time on the first run of each case. "vs best peer" divides by the fastest non-tzkv peer of the same row group, "vs floor" by the floor row.`,
  `Peers: ${Object.entries(avail).filter(([id]) => id !== 'tzkv').map(([id, why]) => `${PEER_NAMES[id]}${why ? ` (skipped: ${why})` : ''}`).join(', ')}.`,
  '## Goals (issue #7)',
  headlines.map((g) => goalLine(g).replace(/^- /, `- workload ${g.workload}: `).split('\n')[0]).join('\n') || '(no workload with a goal ran)',
].join('\n\n');
const out = opts.out ?? (mode === 'full' ? join(benchDir, '..', 'docs', 'benchmarks.md') : join(benchDir, 'results', `${mode}.md`));
// Notes written by hand below this marker survive a re-run.
const NOTES = '<!-- Written by hand: everything below this line is kept when bench/run.mjs rewrites the file. -->';
const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
const notes = old.includes(NOTES) ? old.slice(old.indexOf(NOTES)) : '';
const doc = `${header}\n\n${sections.join('\n\n')}\n${notes ? `\n${notes}` : ''}`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, doc);
log(`wrote ${out} (${minutes} min)${failed ? `; ${failed} workload(s) failed` : ''}`);
process.exitCode = failed ? 1 : 0;
