#!/usr/bin/env node
// Measures the compression candidates of bench/lib/codecs.mjs on the corpus
// of bench/corpus.mjs, one value per call as tzkv compresses (issue #17
// "Compression"), and prints the tables of docs/benchmarks.md "Compression:
// choosing the algorithm" as Markdown.
//
//   npm run bench:install && npm run build
//   npm run bench:compression-choice [-- --docs N --runs R --only deflate,brotli --quick]
//   (--node24 PATH or TZKV_NODE24: the Node 24 binary for the round-trip check)
//
// For every candidate: the stored ratio of the documents under tzkv's rule
// (u32 length + compressed bytes, kept only when that saves 1/8), compress
// and decompress MB/s per core over the documents, µs per call on 1 KB
// values (CPU time; medians of --runs rounds, candidates interleaved within
// each round); what loading it and decompressing one value costs a process
// of its own (medians); whether it round-trips on Node 24 too; its install
// size. Then the share of small values each saves 1/8 on, by size (the
// threshold, minBytes), and the plain store's import of the corpus in CPU
// time (what compression must keep up with).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { documentOf, recordLine, smallValueOf } from './corpus.mjs';
import { CANDIDATES, installedPackages } from './lib/codecs.mjs';
import { cleanEnv, interleave, median, runOnce } from './lib/measure.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const SELF = fileURLToPath(import.meta.url);
/** tzkv's rule (docs/format.md "Records, version 2"): u32 length + compressed bytes, kept when that saves at least 1/8. */
const LENGTH_BYTES = 4;
const stored = (length, compressed) => (compressed + LENGTH_BYTES <= length - length / 8 ? compressed + LENGTH_BYTES : length);

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    node24: { type: 'string' },
    // Internal: the child processes this script starts.
    only: { type: 'string' },
    check: { type: 'boolean', default: false },
  },
});

const byName = (name) => CANDIDATES.find((c) => c.name === name);

/** Child: load every candidate and round-trip 50 documents; prints { name: "ok" | reason }. */
async function checkChild() {
  const docs = Array.from({ length: 50 }, (_, i) => documentOf(i + 1));
  const out = {};
  for (const candidate of CANDIDATES) {
    try {
      const codec = await candidate.load();
      for (const doc of docs) {
        if (!Buffer.from(codec.decompress(codec.compress(doc), doc.length)).equals(doc)) throw new Error('round trip differs');
      }
      out[candidate.name] = 'ok';
    } catch (error) {
      out[candidate.name] = String(error.message ?? error).split('\n')[0];
    }
  }
  process.stdout.write(JSON.stringify(out));
}

/**
 * CPU milliseconds (user + system) fn took. CPU time, not wall time: the
 * machine is shared, and a candidate's wall time would measure the other
 * work that ran beside it; every candidate runs on this one thread.
 */
function timed(fn) {
  const t0 = process.cpuUsage();
  fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

/** CPU milliseconds (user + system) of a child process, from GNU time. */
function childCpuMs(argv, scratch) {
  const out = join(scratch, 'time');
  runOnce(['/usr/bin/time', '-f', '%U %S', '-o', out, ...argv]);
  const [user, system] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return (user + system) * 1000;
}

function dirBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

function node24Binary() {
  const candidates = [args.node24, process.env.TZKV_NODE24, join(ROOT, 'node_modules', 'node', 'bin', 'node')].filter(Boolean);
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (version.startsWith('v24.')) return { path, version };
  }
  return undefined;
}

const mb = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

async function main() {
  const quick = args.quick;
  const docCount = Number(args.docs ?? (quick ? 200 : 2000));
  const runs = Number(args.runs ?? (quick ? 3 : 11));
  const processRuns = quick ? 5 : 21;
  const started = Date.now();

  const docs = Array.from({ length: docCount }, (_, i) => documentOf(i + 1));
  const docBytes = docs.reduce((sum, d) => sum + d.length, 0);
  const kb = docs.slice(0, 500).map((d) => d.subarray(0, 1024));
  const small = Array.from({ length: quick ? 800 : 4000 }, (_, i) => smallValueOf(i + 1));

  const loaded = [];
  const missing = [];
  const families = args.only?.split(',');
  for (const candidate of CANDIDATES.filter((c) => families === undefined || families.includes(c.family))) {
    try {
      loaded.push({ candidate, codec: await candidate.load() });
    } catch (error) {
      missing.push(`${candidate.name}: ${String(error.message ?? error).split('\n')[0]} (npm run bench:install)`);
    }
  }

  // Ratios (and a round-trip check of every document).
  for (const entry of loaded) {
    let storedBytes = 0;
    let compressedBytes = 0;
    entry.compressed = docs.map((doc) => {
      const c = entry.codec.compress(doc);
      if (!Buffer.from(entry.codec.decompress(c, doc.length)).equals(doc)) throw new Error(`${entry.candidate.name}: round trip differs`);
      compressedBytes += c.length;
      storedBytes += stored(doc.length, c.length);
      return c;
    });
    entry.ratio = compressedBytes / docBytes;
    entry.storedRatio = storedBytes / docBytes;
    entry.kbCompressed = kb.map((v) => entry.codec.compress(v));
    entry.samples = { c: [], d: [], c1: [], d1: [] };
  }

  // Speed: rounds, candidates interleaved within each round.
  for (let round = 0; round < runs + 1; round++) {
    for (const entry of loaded) {
      const { codec, compressed, kbCompressed, samples } = entry;
      const c = timed(() => docs.forEach((doc) => codec.compress(doc)));
      const d = timed(() => compressed.forEach((stored, i) => codec.decompress(stored, docs[i].length)));
      const c1 = timed(() => kb.forEach((v) => codec.compress(v)));
      const d1 = timed(() => kbCompressed.forEach((stored, i) => codec.decompress(stored, kb[i].length)));
      if (round === 0) continue; // warm-up
      samples.c.push(c);
      samples.d.push(d);
      samples.c1.push(c1);
      samples.d1.push(d1);
    }
  }

  // Processes of their own: what loading a candidate and decompressing one value costs a `get`.
  const scratch = mkdtempSync(join(tmpdir(), 'tzkv-compression-'));
  let importInfo;
  try {
    const one = join(BENCH, 'lib', 'decompress-one.mjs');
    const cases = loaded.map((entry, i) => {
      const file = join(scratch, `v${i}`);
      const header = Buffer.alloc(LENGTH_BYTES);
      header.writeUInt32LE(docs[0].length);
      writeFileSync(file, Buffer.concat([header, entry.compressed[0]]));
      entry.getSamples = [];
      return { name: entry.candidate.name, argv: [process.execPath, one, entry.candidate.name, file], check: (r) => entry.getSamples.push(Number(r.stdout.toString())) };
    });
    interleave(cases, { runs: processRuns, warmup: 0 });
    for (const entry of loaded) entry.getMs = median(entry.getSamples);

    // The plain store's import of the corpus: the pace compression must keep.
    importInfo = measureImport(scratch, quick ? 10 * docCount : 20_000, quick ? 3 : 5);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  // Node 24.
  const n24 = node24Binary();
  const on24 = n24 ? JSON.parse(execFileSync(n24.path, [SELF, '--check'], { encoding: 'utf8', env: cleanEnv() })) : undefined;

  // Report.
  const lines = [];
  const say = (s = '') => lines.push(s);
  say(`Measured by \`node bench/compression-choice.mjs${quick ? ' --quick' : ''}\` on ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC; Node ${process.version}; ${docCount} documents of bench/corpus.mjs (${(docBytes / 1e6).toFixed(1)} MB, mean ${Math.round(docBytes / docCount)} bytes); speeds are per core (CPU time, user + system), medians of ${runs} rounds; processes: medians of ${processRuns}.`);
  say();
  say('| candidate | store x plain | stored ratio | ratio | compress MB/s | decompress MB/s | 1 KB compress µs | 1 KB decompress µs | load + first decompress, ms | est. import x plain | Node 24 | install |');
  say('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const entry of loaded) {
    const { candidate, samples } = entry;
    const cMb = mb(docBytes, median(samples.c));
    const dMb = mb(docBytes, median(samples.d));
    const importX = importInfo ? 1 + importInfo.bytes / 1e3 / cMb / importInfo.ms : NaN;
    const storeX = importInfo ? (entry.storedRatio * docBytes + docCount * importInfo.overhead) / (docBytes + docCount * importInfo.overhead) : NaN;
    const pkgs = installedPackages(candidate);
    const install = pkgs.length === 0 ? 'built in' : `${(pkgs.reduce((sum, p) => sum + dirBytes(join(BENCH, 'node_modules', p)), 0) / 1024).toFixed(0)} KiB, v${JSON.parse(readFileSync(join(BENCH, 'node_modules', pkgs[0], 'package.json'), 'utf8')).version}`;
    say(`| ${candidate.name} | ${fixed(storeX, 3)} | ${fixed(entry.storedRatio, 3)} | ${fixed(entry.ratio, 3)} | ${fixed(cMb, 0)} | ${fixed(dMb, 0)} | ${fixed((median(samples.c1) * 1000) / kb.length, 1)} | ${fixed((median(samples.d1) * 1000) / kb.length, 1)} | ${fixed(entry.getMs, 1)} | ${fixed(importX, 2)} | ${on24 ? on24[candidate.name] ?? '–' : 'not run'} | ${install} |`);
  }
  for (const m of missing) say(`\nNot measured: ${m}`);
  say();
  say(`"load + first decompress": in a process of its own, the time from loading the candidate to holding one decompressed document (what a \`get\` adds; median of ${processRuns} processes). ${importInfo ? `"store x plain": the values' stored ratio with the plain store's other bytes per record (${importInfo.overhead.toFixed(0)}: record header, key, index entry, bloom bits, file headers) added to both sides. "est. import x plain": (the plain import's CPU time + compressing every value once, at the compress MB/s) / the plain import's CPU time; the plain store imported ${importInfo.count} documents (${(importInfo.bytes / 1e6).toFixed(1)} MB of values) in ${importInfo.ms.toFixed(0)} ms of CPU beyond a process start's (${mb(importInfo.bytes, importInfo.ms).toFixed(0)} MB/s of values per core).` : 'No plain import measured: it needs `npm run build` and GNU time (/usr/bin/time).'} ${n24 ? `Node 24: ${n24.version}, round trip of 50 documents.` : 'Node 24: no binary found (--node24 PATH or TZKV_NODE24).'}`);
  say();
  say(thresholdTable(loaded, small, docs));
  say();
  say(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Plain tzkv import of the first `count` documents (median of runs, less a
 * process's start), and the plain store's bytes beyond its values per record;
 * undefined without a build.
 */
function measureImport(scratch, count, runs) {
  const cli = join(ROOT, 'bin', 'run.js');
  if (!existsSync(join(ROOT, 'dist')) || !existsSync('/usr/bin/time')) return undefined;
  const file = join(scratch, 'docs.jsonl');
  let bytes = 0;
  const lines = [];
  for (let i = 1; i <= count; i++) {
    bytes += documentOf(i).length;
    lines.push(recordLine(i));
  }
  writeFileSync(file, lines.join(''));
  const store = join(scratch, 'store');
  const samples = [];
  for (let i = 0; i < runs + 1; i++) {
    rmSync(store, { recursive: true, force: true });
    const ms = childCpuMs([process.execPath, cli, 'import', '-d', store, file], scratch);
    if (i > 0) samples.push(ms);
  }
  const overhead = (dirBytes(store) - bytes) / count;
  const start = median(Array.from({ length: runs }, () => childCpuMs([process.execPath, cli, '--version'], scratch)));
  return { ms: median(samples) - start, count, bytes, overhead };
}

const BUCKETS = [
  [1, 31],
  [32, 63],
  [64, 127],
  [128, 255],
  [256, 511],
  [512, 1023],
];

/**
 * The threshold: for values by size (the small-value corpus, and prefixes of
 * documents for sizes it lacks), the share each candidate saves 1/8 on.
 */
function thresholdTable(loaded, small, docs) {
  const values = [...small];
  for (const [lo, hi] of BUCKETS) {
    for (let j = 0; j < 200; j++) values.push(docs[j % docs.length].subarray(0, lo + ((j * 7919) % (hi - lo + 1))));
  }
  const rows = ['| values of | ' + BUCKETS.map(([lo, hi]) => `${lo}–${hi} B`).join(' | ') + ' |', '|---|' + BUCKETS.map(() => '---|').join('')];
  const counts = BUCKETS.map(([lo, hi]) => values.filter((v) => v.length >= lo && v.length <= hi).length);
  rows.push(`| (values) | ${counts.join(' | ')} |`);
  for (const { candidate, codec } of loaded) {
    const cells = BUCKETS.map(([lo, hi]) => {
      const inBucket = values.filter((v) => v.length >= lo && v.length <= hi);
      const saved = inBucket.filter((v) => stored(v.length, codec.compress(v).length) < v.length).length;
      const original = inBucket.reduce((sum, v) => sum + v.length, 0);
      const after = inBucket.reduce((sum, v) => sum + stored(v.length, codec.compress(v).length), 0);
      return `${Math.round((100 * saved) / inBucket.length)}% (${(after / original).toFixed(2)})`;
    });
    rows.push(`| ${candidate.name} | ${cells.join(' | ')} |`);
  }
  return `Share of values compression saves 1/8 on, by size (stored ratio of the bucket under the rule):\n\n${rows.join('\n')}`;
}

if (args.check) await checkChild();
else await main();
