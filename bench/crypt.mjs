// Encrypted and compressed stores against a plain store of the same data, in one run
// (issue #17 "Numbers"); prints the markdown of docs/benchmarks.md's "Encryption and
// compression" section.
//   node bench/crypt.mjs [--quick] [--data DIR] [--out FILE] [--no-profile]
// Records: 16-byte keys and 100-byte values (bench/lib/data.mjs), a store of `records`
// built per kind (plain, encrypted) for get and verify, and `tzkv import --format tsv`
// of 1M records into a new store each run. Corpus: JSON documents of 1–8 KB
// (bench/corpus.mjs, fixed seed), imported (`--format jsonl`) into a new plain,
// compressed, and encrypted+compressed store each run; the last run's stores are
// measured for size and get. Every case is a whole process, the kinds interleaved
// (plain, encrypted, …, plain, …) after warm-up rounds, medians with min–max; a new
// store is made (`tzkv init`, for version 2 kinds) before each import, untimed. A
// missed goal is profiled (`node --cpu-prof` on the slow kind's process). Data files
// are cached in --data (default /tmp/tzkv-bench-data/crypt-MODE); the stores are built
// anew in a temporary directory by the tzkv being measured. It reports; it never fails
// on speed. Needs `npm run build` first.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { keyOf, tsvFile } from './lib/data.mjs';
import { builtFrom, loadAverage, machine } from './lib/machine.mjs';
import { interleave, runOnce } from './lib/measure.mjs';
import { profileLine } from './lib/profile.mjs';
import { fmtMs, fmtX, goalLine } from './lib/report.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: { quick: { type: 'boolean' }, data: { type: 'string' }, out: { type: 'string' }, 'no-profile': { type: 'boolean' } },
});
const mode = opts.quick ? 'quick' : 'full';
const SETTINGS = {
  full: { records: 4_000_000, imported: 1_000_000, docs: 50_000, runs: 41, warmup: 3, heavyRuns: 5, heavyWarmup: 1, profileRuns: 3 },
  quick: { records: 40_000, imported: 10_000, docs: 500, runs: 5, warmup: 1, heavyRuns: 2, heavyWarmup: 1, profileRuns: 1 },
}[mode];
const started = Date.now();
const loadAtStart = loadAverage();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);
const node = process.execPath;
const tzkv = [node, join(benchDir, '..', 'bin', 'run.js')];
const dataDir = opts.data ?? join(tmpdir(), 'tzkv-bench-data', `crypt-${mode}`);
const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-crypt-'));
const keyFile = join(work, 'store.key');
const count = (n) => (n >= 1e6 ? `${n / 1e6}M` : n.toLocaleString('en-US'));

/** The kinds of store: `tzkv init` flags (none: a plain store, started by its first write) and the flags every command takes. */
const KINDS = {
  plain: { init: null, flags: [] },
  encrypted: { init: ['--encrypt'], flags: ['--key-file', keyFile] },
  compressed: { init: ['--compress'], flags: [] },
  'encrypted+compressed': { init: ['--encrypt', '--compress'], flags: ['--key-file', keyFile] },
};

/** Makes an empty store of a kind at dir (removing what was there); returns the compression algorithm init reports. */
function newStore(kind, dir) {
  rmSync(dir, { recursive: true, force: true });
  if (!KINDS[kind].init) return null;
  return JSON.parse(runOnce([...tzkv, 'init', '-d', dir, ...KINDS[kind].init, ...KINDS[kind].flags, '--json']).stdout).compression;
}

/** The JSON Lines corpus of n documents (bench/corpus.mjs), written once into the data directory. */
function corpusFile(n) {
  const path = join(dataDir, `corpus-${n}.jsonl`);
  if (existsSync(path)) return path;
  log(`writing the corpus of ${n} documents`);
  runOnce([node, join(benchDir, 'corpus.mjs'), '--count', String(n), '--out', `${path}.tmp`]);
  renameSync(`${path}.tmp`, path);
  return path;
}

const storeBytes = (dir, filter = () => true) => readdirSync(dir).filter(filter).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const dataFile = (f) => f.endsWith('.tzds') || f.endsWith('.tzix');
/** Whole-process cases importing file into a new store of each kind, in stores named `${prefix}-KIND` under work. */
const importCases = (kinds, prefix, file, format) =>
  kinds.map((kind) => {
    const dir = join(work, `${prefix}-${kind}`);
    return { name: kind, kind, dir, prepare: () => newStore(kind, dir), argv: [...tzkv, 'import', file, '--format', format, '-d', dir, ...KINDS[kind].flags] };
  });
/** Per-process get cases over the stores dirs[kind]; run i reads key(i), the same key for every kind. */
const getCases = (kinds, dirs, key) =>
  kinds.map((kind) => ({ name: kind, kind, argv: (i) => [...tzkv, 'get', key(i), '-d', dirs[kind], ...KINDS[kind].flags], check: (r) => r.stdout.length > 0 || fail(`get in ${dirs[kind]} printed nothing`) }));
const fail = (msg) => {
  throw new Error(msg);
};

const range = (m) => `${fmtMs(Math.min(...m.samples))}–${fmtMs(Math.max(...m.samples))}`;
/** A table row of a measured case: label, median, min–max, vs the plain kind's median. */
const row = (label, measured, kind, extra = '') =>
  `| ${label} | ${kind} | ${fmtMs(measured[kind].median)} | ${range(measured[kind])} | ${kind === 'plain' ? '–' : fmtX(measured[kind].median / measured.plain.median)} | ${extra} |`;
const HEAD = ['| workload | store | median | min–max | vs plain | |', '|---|---|---|---|---|---|'];

const goals = [];
/** Records a goal; a missed one is profiled on its slow case (prepare before each profiled run). */
function goal({ text, ratio, limit, atLeast = false, measured, slow }) {
  const met = atLeast ? ratio >= limit : ratio <= limit;
  let where;
  if (!met && slow && !opts['no-profile'] && SETTINGS.profileRuns > 0) {
    log(`profiling the missed goal: ${text}`);
    where = profileLine(slow.argv, { runs: SETTINGS.profileRuns, prepare: slow.prepare });
  }
  goals.push({ text, measured, met, where });
}

const sections = [];
try {
  writeFileSync(keyFile, runOnce([...tzkv, 'keygen']).stdout, { mode: 0o600 });

  // Records: encrypted against plain.
  const tsvAll = tsvFile(dataDir, SETTINGS.records);
  const tsvImported = tsvFile(dataDir, SETTINGS.imported);
  const recordKinds = ['plain', 'encrypted'];
  const recordStores = {};
  for (const kind of recordKinds) {
    recordStores[kind] = join(work, `records-${kind}`);
    log(`building the ${kind} store of ${count(SETTINGS.records)} records`);
    newStore(kind, recordStores[kind]);
    runOnce([...tzkv, 'import', tsvAll, '--format', 'tsv', '-d', recordStores[kind], ...KINDS[kind].flags]);
  }
  const keyAt = (n) => (i) => keyOf(1 + ((i * 7_919_993) % n));
  log('get, records');
  const recordGets = interleave(getCases(recordKinds, recordStores, keyAt(SETTINGS.records)), { runs: SETTINGS.runs, warmup: SETTINGS.warmup });
  log('import, records');
  const recordImportCases = importCases(recordKinds, 'import', tsvImported, 'tsv');
  const recordImports = interleave(recordImportCases, { runs: SETTINGS.heavyRuns, warmup: SETTINGS.heavyWarmup });
  log('verify');
  const verifyCases = [
    { name: 'plain', argv: [...tzkv, 'verify', '-d', recordStores.plain, '--json'] },
    { name: 'encrypted, without the key', argv: [...tzkv, 'verify', '-d', recordStores.encrypted, '--json'] },
    { name: 'encrypted, with the key', argv: [...tzkv, 'verify', '-d', recordStores.encrypted, '--json', ...KINDS.encrypted.flags] },
  ].map((c) => ({ ...c, check: (r) => JSON.parse(r.stdout.toString()).ok || fail(`${c.name}: verify found problems: ${r.stdout}`) }));
  const verifies = interleave(verifyCases, { runs: SETTINGS.heavyRuns, warmup: SETTINGS.heavyWarmup });
  const verifiedMb = Object.fromEntries(recordKinds.map((kind) => [kind, storeBytes(recordStores[kind], dataFile) / 1e6]));
  const mbps = (name, kind) => verifiedMb[kind] / (verifies[name].median / 1000);
  const verifyRow = (name, kind) => {
    const m = verifies[name];
    return `| verify | ${name} | ${fmtMs(m.median)} | ${range(m)} | ${name === 'plain' ? '–' : fmtX(m.median / verifies.plain.median)} | ${mbps(name, kind).toFixed(0)} MB/s (${verifiedMb[kind].toFixed(0)} MB) |`;
  };
  const recordSizes = Object.fromEntries(recordKinds.map((kind) => [kind, storeBytes(recordStores[kind]) / 1e6]));
  sections.push(
    `### Encrypted store: ${count(SETTINGS.records)} records of 16-byte keys and 100-byte values`,
    [
      ...HEAD,
      ...recordKinds.map((kind) => row(`get (one process, ${count(SETTINGS.records)} keys)`, recordGets, kind, `store ${recordSizes[kind].toFixed(0)} MB`)),
      ...recordKinds.map((kind) => row(`\`import --format tsv\` of ${count(SETTINGS.imported)} records, new store`, recordImports, kind)),
      verifyRow('plain', 'plain'),
      verifyRow('encrypted, without the key', 'encrypted'),
      verifyRow('encrypted, with the key', 'encrypted'),
    ].join('\n'),
  );
  const getRatio = recordGets.encrypted.median / recordGets.plain.median;
  goal({ text: 'encrypted store: per-process `get` ≤ 1.1x plain', ratio: getRatio, limit: 1.1, measured: `${fmtX(getRatio)} (${fmtMs(recordGets.encrypted.median)} vs ${fmtMs(recordGets.plain.median)})`, slow: { argv: getCases(['encrypted'], recordStores, keyAt(SETTINGS.records))[0].argv(0) } });
  const importRatio = recordImports.encrypted.median / recordImports.plain.median;
  const slowImport = recordImportCases.find((c) => c.kind === 'encrypted');
  goal({ text: `encrypted store: \`import\` of ${count(SETTINGS.imported)} records ≤ 1.3x plain`, ratio: importRatio, limit: 1.3, measured: `${fmtX(importRatio)} (${fmtMs(recordImports.encrypted.median)} vs ${fmtMs(recordImports.plain.median)})`, slow: slowImport });
  const keyedMbps = mbps('encrypted, with the key', 'encrypted');
  goal({ text: 'encrypted store: `verify` with the key ≥ 400 MB/s', ratio: keyedMbps, limit: 400, atLeast: true, measured: `${keyedMbps.toFixed(0)} MB/s (without the key ${mbps('encrypted, without the key', 'encrypted').toFixed(0)} MB/s, plain ${mbps('plain', 'plain').toFixed(0)} MB/s)`, slow: verifyCases[2] });

  // Corpus: compressed (and encrypted+compressed) against plain.
  const corpus = corpusFile(SETTINGS.docs);
  const corpusKinds = ['plain', 'compressed', 'encrypted+compressed'];
  log('import, corpus');
  const corpusImportCases = importCases(corpusKinds, 'corpus', corpus, 'jsonl');
  const corpusImports = interleave(corpusImportCases, { runs: SETTINGS.heavyRuns, warmup: SETTINGS.heavyWarmup });
  const corpusStores = Object.fromEntries(corpusImportCases.map((c) => [c.kind, c.dir]));
  const algorithm = newStore('compressed', join(work, 'algorithm'));
  const corpusSizes = Object.fromEntries(corpusKinds.map((kind) => [kind, storeBytes(corpusStores[kind]) / 1e6]));
  log('get, corpus');
  const docKey = (i) => `doc:${String(1 + ((i * 7919) % SETTINGS.docs)).padStart(12, '0')}`;
  const corpusGets = interleave(getCases(corpusKinds, corpusStores, docKey), { runs: SETTINGS.runs, warmup: SETTINGS.warmup });
  const sizeCell = (kind) => `store ${corpusSizes[kind].toFixed(1)} MB${kind === 'plain' ? '' : `, ${fmtX(corpusSizes[kind] / corpusSizes.plain)} plain's`}`;
  sections.push(
    `### Compressed store (\`init --compress\`: ${algorithm}): ${count(SETTINGS.docs)} JSON documents of 1–8 KB (bench/corpus.mjs, ${(statSync(corpus).size / 1e6).toFixed(0)} MB as JSON Lines)`,
    [
      ...HEAD,
      ...corpusKinds.map((kind) => row(`get (one process, ${count(SETTINGS.docs)} documents)`, corpusGets, kind, sizeCell(kind))),
      ...corpusKinds.map((kind) => row(`\`import --format jsonl\` of ${count(SETTINGS.docs)} documents, new store`, corpusImports, kind)),
    ].join('\n'),
  );
  const sizeRatio = corpusSizes.compressed / corpusSizes.plain;
  goal({ text: 'compressed store: size ≤ 0.35x plain on the JSON corpus', ratio: sizeRatio, limit: 0.35, measured: `${fmtX(sizeRatio)} (${corpusSizes.compressed.toFixed(1)} MB vs ${corpusSizes.plain.toFixed(1)} MB; encrypted+compressed ${fmtX(corpusSizes['encrypted+compressed'] / corpusSizes.plain)})` });
  const corpusGetRatio = corpusGets.compressed.median / corpusGets.plain.median;
  goal({ text: 'compressed store: per-process `get` ≤ 1.1x plain', ratio: corpusGetRatio, limit: 1.1, measured: `${fmtX(corpusGetRatio)} (${fmtMs(corpusGets.compressed.median)} vs ${fmtMs(corpusGets.plain.median)})`, slow: { argv: getCases(['compressed'], corpusStores, docKey)[0].argv(0) } });
  const corpusImportRatio = corpusImports.compressed.median / corpusImports.plain.median;
  const slowCorpusImport = corpusImportCases.find((c) => c.kind === 'compressed');
  goal({ text: 'compressed store: `import` ≤ 1.5x plain', ratio: corpusImportRatio, limit: 1.5, measured: `${fmtX(corpusImportRatio)} (${fmtMs(corpusImports.compressed.median)} vs ${fmtMs(corpusImports.plain.median)})`, slow: slowCorpusImport });

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const doc = [
    `## Encryption and compression (issue #17), ${mode}: \`node bench/crypt.mjs${mode === 'quick' ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} min`,
    `Built from ${builtFrom(benchDir)}. ${machine(work, loadAtStart)}`,
    `Whole processes, the kinds of store interleaved (plain, encrypted, plain, …) after warm-up rounds: get ${SETTINGS.runs} runs after ${SETTINGS.warmup} (a different key each run, the same for every kind), import and verify ${SETTINGS.heavyRuns} after ${SETTINGS.heavyWarmup}; medians, min–max; \`NODE_EXTRA_CA_CERTS\` removed. Secrets: a key file (\`--key-file\`, from \`tzkv keygen\`); the plain store's commands are given none. Import: a new store each run (\`tzkv init --encrypt\` / \`--compress\` before it, untimed), every import durable when its process exits. Verify's MB/s: the store's segments and index runs / median wall time of the whole process. Store sizes: every file of the store directory.`,
    '### Goals (issue #17)',
    goals.map((g) => goalLine(g)).join('\n'),
    ...sections,
  ].join('\n\n');
  console.log(doc);
  if (opts.out) writeFileSync(opts.out, `${doc}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
