// Encrypted and compressed stores against a plain store of the same data, in one run
// (issue #17 "Numbers"); prints the markdown of docs/benchmarks.md's "Encryption and
// compression" section.
//   node bench/crypt.mjs [--quick] [--data DIR] [--out FILE] [--no-profile]
// Records: 16-byte keys and 100-byte values (bench/lib/data.mjs), a store of `records`
// built per kind (plain, encrypted) for get and verify, and `tzkv import --format tsv`
// of 1M records into a new store each run. Corpus: JSON documents of 1–8 KB
// (bench/corpus.mjs, fixed seed), imported (`--format jsonl`) into a new plain,
// compressed, and encrypted+compressed store each run, and for the compressing kinds also
// imported and then compacted (`sh -c 'tzkv import … && tzkv compact …'`: a large import
// leaves its values for compaction to compress); the last run's stores are measured for
// size and get, the compressing kinds' after their compaction. Every case is a whole process, the kinds interleaved
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
import { hasGnuTime, interleave, median, runOnce } from './lib/measure.mjs';
import { profileLine } from './lib/profile.mjs';
import { fmtMs, fmtX, goalLine } from './lib/report.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: { quick: { type: 'boolean' }, data: { type: 'string' }, out: { type: 'string' }, 'no-profile': { type: 'boolean' } },
});
const mode = opts.quick ? 'quick' : 'full';
const SETTINGS = {
  full: { records: 4_000_000, imported: 1_000_000, docs: 50_000, runs: 61, warmup: 3, heavyRuns: 5, heavyWarmup: 1, profileRuns: 3 },
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

/**
 * The environment of one case (a command on a kind of store): a V8 code cache of its own
 * (src/cli/launch.ts), written by its first (warm-up) process, as for a user who runs that
 * command on that kind of store. A cache is written once, by the first process of a build, and
 * holds only the functions that process ran: one written by a plain get leaves an encrypted
 * get to compile its own functions every run.
 */
const envOf = (name) => ({ XDG_CACHE_HOME: join(work, 'code-cache', name.replace(/[^a-z]+/g, '-')) });

/** Makes an empty store of a kind at dir (removing what was there); returns the compression algorithm init reports. */
function newStore(kind, dir) {
  rmSync(dir, { recursive: true, force: true });
  if (!KINDS[kind].init) return null;
  return JSON.parse(runOnce([...tzkv, 'init', '-d', dir, ...KINDS[kind].init, ...KINDS[kind].flags, '--json'], { env: envOf(`init ${kind}`) }).stdout).compression;
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

/** argv as one POSIX shell command line, each word single-quoted. */
const shellLine = (argv) => argv.map((a) => `'${String(a).replaceAll("'", "'\\''")}'`).join(' ');
const storeBytes = (dir, filter = () => true) => readdirSync(dir).filter(filter).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const dataFile = (f) => f.endsWith('.tzds') || f.endsWith('.tzix');
/** Whole-process cases importing file into a new store of each kind, in stores named `${prefix}-KIND` under work. */
const importCases = (kinds, prefix, file, format) =>
  kinds.map((kind) => {
    const dir = join(work, `${prefix}-${kind}`);
    return { name: kind, kind, dir, prepare: () => newStore(kind, dir), argv: [...tzkv, 'import', file, '--format', format, '-d', dir, ...KINDS[kind].flags], options: { env: envOf(`import ${prefix} ${kind}`) } };
  });
/** Per-process get cases over the stores dirs[kind]; run i reads key(i), the same key for every kind. */
const getCases = (kinds, dirs, key) =>
  kinds.map((kind) => ({ name: kind, kind, argv: (i) => [...tzkv, 'get', key(i), '-d', dirs[kind], ...KINDS[kind].flags], options: { env: envOf(`get ${kind}`) }, check: (r) => r.stdout.length > 0 || fail(`get in ${dirs[kind]} printed nothing`) }));
/** A get case as one process to profile: its first run's command line. */
const firstRun = (c) => ({ ...c, argv: c.argv(0) });
const fail = (msg) => {
  throw new Error(msg);
};

/**
 * Case c run under GNU time, its CPU time (user + system, every thread) of each timed run put
 * in into[c.name]: on a machine shared with other work, wall time counts the waits for a core
 * and CPU time does not. Without GNU time, c as it is.
 */
function withCpu(c, into) {
  if (!hasGnuTime) return c;
  const samples = (into[c.name] = []);
  let run = 0;
  const timed = (argv) => ['/usr/bin/time', '-f', 'cpu=%U+%S', ...argv];
  return {
    ...c,
    argv: timed(c.argv),
    check: (r) => {
      c.check?.(r);
      const m = /cpu=([0-9.]+)\+([0-9.]+)/.exec(r.stderr);
      if (m && run++ >= SETTINGS.heavyWarmup) samples.push((Number(m[1]) + Number(m[2])) * 1000);
    },
  };
}
/** The table cell of a case's CPU time and its ratio to the plain case's. */
const cpuCell = (cpu, name) => (cpu[name]?.length ? `CPU ${fmtMs(median(cpu[name]))}${name === 'plain' ? '' : ` (${fmtX(median(cpu[name]) / median(cpu.plain))})`}` : '');
/** `; CPU time 1.23x plain's`, or nothing without GNU time. */
const cpuVersus = (cpu, name) => (cpu[name]?.length ? `; CPU time ${fmtX(median(cpu[name]) / median(cpu.plain))} plain's` : '');
/** Runs heavy cases (imports, verifies) interleaved, with their CPU time: { measured, cpu }. */
function heavy(cases) {
  const cpu = {};
  const measured = interleave(cases.map((c) => withCpu(c, cpu)), { runs: SETTINGS.heavyRuns, warmup: SETTINGS.heavyWarmup });
  return { measured, cpu };
}

const range = (m) => `${fmtMs(Math.min(...m.samples))}–${fmtMs(Math.max(...m.samples))}`;
/** A table row of a measured case: label, median, min–max, vs the plain kind's median. */
const row = (label, measured, kind, extra = '') =>
  `| ${label} | ${kind} | ${fmtMs(measured[kind].median)} | ${range(measured[kind])} | ${kind === 'plain' ? '–' : fmtX(measured[kind].median / measured.plain.median)} | ${extra} |`;
const HEAD = ['| workload | store | median | min–max | vs plain | |', '|---|---|---|---|---|---|'];

const goals = [];
/**
 * Records a goal; a missed one is profiled on its slow case (prepare before each profiled run).
 * unmeasured: why the figure says nothing of the goal (then neither met nor missed).
 */
function goal({ text, ratio, limit, atLeast = false, measured, slow, unmeasured }) {
  if (unmeasured) return void goals.push({ text, measured: `${measured}; ${unmeasured}`, met: null });
  const met = atLeast ? ratio >= limit : ratio <= limit;
  let where;
  if (!met && slow && !opts['no-profile'] && SETTINGS.profileRuns > 0) {
    log(`profiling the missed goal: ${text}`);
    where = profileLine(slow.argv, { runs: SETTINGS.profileRuns, prepare: slow.prepare, env: slow.options?.env });
  }
  goals.push({ text, measured, met, where });
}

const sections = [];
let failures = 0;
/**
 * Runs one part of the benchmark: measure() returns its table and its goals. A failure is
 * reported in the part's section and as its goals' measurement, and the other parts still run.
 */
function part(title, goalTexts, measure) {
  log(title);
  try {
    const { table, measured } = measure();
    sections.push(`### ${title}`, [...HEAD, ...table].join('\n'));
    measured.forEach(goal);
    for (const m of measured) log(`${m.text}: ${m.measured}`);
  } catch (err) {
    failures++;
    const why = `failed: ${String(err.message).trim().split('\n')[0]}`;
    log(`${title}: ${why}`);
    sections.push(`### ${title}`, why);
    for (const text of goalTexts) goals.push({ text, measured: why, met: null });
  }
}

/** The plain and encrypted stores of `records` records, built at the first call. */
let built;
function recordStores() {
  if (built) return built;
  const stores = {};
  for (const kind of ['plain', 'encrypted']) {
    stores[kind] = join(work, `records-${kind}`);
    log(`building the ${kind} store of ${count(SETTINGS.records)} records`);
    newStore(kind, stores[kind]);
    runOnce([...tzkv, 'import', tsvFile(dataDir, SETTINGS.records), '--format', 'tsv', '-d', stores[kind], ...KINDS[kind].flags], { env: envOf(`build ${kind}`) });
  }
  return (built = stores);
}

const ratioOf = (measured, kind) => measured[kind].median / measured.plain.median;
/**
 * The median of the rounds' ratios to plain (each round runs every kind once, back to back): a
 * load that changes between rounds cancels out of it, where it skews a ratio of medians.
 */
const pairedRatio = (measured, kind) => median(measured[kind].samples.map((ms, i) => ms / measured.plain.samples[i]));
/** A get goal's figure: the paired ratio, then the medians. */
const getVersus = (measured, kind) => `${fmtX(pairedRatio(measured, kind))}, the median of ${measured[kind].samples.length} rounds' ratios (medians ${fmtMs(measured[kind].median)} vs ${fmtMs(measured.plain.median)}, ${fmtX(ratioOf(measured, kind))})`;
const pairedCell = (measured, kind) => (kind === 'plain' ? '' : `rounds' ratio ${fmtX(pairedRatio(measured, kind))}; `);
const versus = (measured, kind) => `${fmtX(ratioOf(measured, kind))} (${fmtMs(measured[kind].median)} vs ${fmtMs(measured.plain.median)})`;
const records = count(SETTINGS.records);
const imported = count(SETTINGS.imported);
const docs = count(SETTINGS.docs);
const GOALS = {
  get: 'encrypted store: per-process `get` ≤ 1.1x plain',
  import: `encrypted store: \`import\` of ${imported} records ≤ 1.3x plain`,
  verify: 'encrypted store: `verify` with the key ≥ 400 MB/s',
  size: 'compressed store: size ≤ 0.35x plain on the JSON corpus',
  corpusGet: 'compressed store: per-process `get` ≤ 1.1x plain',
  corpusImport: 'compressed store: `import` ≤ 1.5x plain',
};

try {
  writeFileSync(keyFile, runOnce([...tzkv, 'keygen']).stdout, { mode: 0o600 });
  const recordKinds = ['plain', 'encrypted'];

  part(`Encrypted store: get, ${records} records of 16-byte keys and 100-byte values`, [GOALS.get], () => {
    const stores = recordStores();
    const keyAt = (i) => keyOf(1 + ((i * 7_919_993) % SETTINGS.records));
    const measured = interleave(getCases(recordKinds, stores, keyAt), { runs: SETTINGS.runs, warmup: SETTINGS.warmup });
    return {
      table: recordKinds.map((kind) => row(`get (one process, ${records} keys)`, measured, kind, `${pairedCell(measured, kind)}store ${(storeBytes(stores[kind]) / 1e6).toFixed(0)} MB`)),
      measured: [{ text: GOALS.get, ratio: pairedRatio(measured, 'encrypted'), limit: 1.1, measured: getVersus(measured, 'encrypted'), slow: firstRun(getCases(['encrypted'], stores, keyAt)[0]) }],
    };
  });

  part(`Encrypted store: import of ${imported} records`, [GOALS.import], () => {
    const cases = importCases(recordKinds, 'import', tsvFile(dataDir, SETTINGS.imported), 'tsv');
    const { measured, cpu } = heavy(cases);
    return {
      table: recordKinds.map((kind) => row(`\`import --format tsv\` of ${imported} records, new store`, measured, kind, cpuCell(cpu, kind))),
      measured: [{ text: GOALS.import, ratio: ratioOf(measured, 'encrypted'), limit: 1.3, measured: `${versus(measured, 'encrypted')}${cpuVersus(cpu, 'encrypted')}`, slow: cases.find((c) => c.kind === 'encrypted') }],
    };
  });

  part(`Encrypted store: verify, ${records} records`, [GOALS.verify], () => {
    const stores = recordStores();
    const cases = [
      { name: 'plain', kind: 'plain', argv: [...tzkv, 'verify', '-d', stores.plain, '--json'] },
      { name: 'encrypted, without the key', kind: 'encrypted', argv: [...tzkv, 'verify', '-d', stores.encrypted, '--json'] },
      { name: 'encrypted, with the key', kind: 'encrypted', argv: [...tzkv, 'verify', '-d', stores.encrypted, '--json', ...KINDS.encrypted.flags] },
    ].map((c) => ({ ...c, options: { allowFailure: true, env: envOf(`verify ${c.name}`) }, check: (r) => JSON.parse(r.stdout.toString()).ok || fail(`verify (${c.name}) found problems: ${r.stdout.toString().slice(0, 300)}`) }));
    const { measured, cpu } = heavy(cases);
    const mb = Object.fromEntries(recordKinds.map((kind) => [kind, storeBytes(stores[kind], dataFile) / 1e6]));
    const mbps = (c) => mb[c.kind] / (measured[c.name].median / 1000);
    const [plain, keyless, keyed] = cases;
    return {
      table: cases.map((c) => {
        const m = measured[c.name];
        return `| verify | ${c.name} | ${fmtMs(m.median)} | ${range(m)} | ${c === plain ? '–' : fmtX(m.median / measured.plain.median)} | ${mbps(c).toFixed(0)} MB/s of ${mb[c.kind].toFixed(0)} MB${cpu[c.name]?.length ? `; ${cpuCell(cpu, c.name)}, ${(mb[c.kind] / (median(cpu[c.name]) / 1000)).toFixed(0)} MB per CPU-second` : ''} |`;
      }),
      measured: [{ text: GOALS.verify, ratio: mbps(keyed), limit: 400, atLeast: true, measured: `${mbps(keyed).toFixed(0)} MB/s (without the key ${mbps(keyless).toFixed(0)} MB/s, plain ${mbps(plain).toFixed(0)} MB/s)${cpu[keyed.name]?.length ? `; ${(mb.encrypted / (median(cpu[keyed.name]) / 1000)).toFixed(0)} MB per CPU-second` : ''}`, slow: keyed }],
    };
  });

  part(`Compressed store: ${docs} JSON documents of 1–8 KB`, [GOALS.size, GOALS.corpusGet, GOALS.corpusImport], () => {
    const corpus = corpusFile(SETTINGS.docs);
    const kinds = ['plain', 'compressed', 'encrypted+compressed'];
    const compressing = kinds.filter((kind) => kind !== 'plain');
    const cases = importCases(kinds, 'corpus', corpus, 'jsonl');
    // A large import leaves its values for compaction to compress (docs/design.md "Compression"): the whole
    // cost is the import and then `tzkv compact`, one shell whose children GNU time counts.
    const compacted = importCases(compressing, 'corpus-compacted', corpus, 'jsonl').map((c) => ({
      ...c,
      name: `${c.kind} + compact`,
      argv: ['sh', '-c', `${shellLine(c.argv)} && ${shellLine([...tzkv, 'compact', '-d', c.dir, ...KINDS[c.kind].flags])}`],
    }));
    const { measured: imports, cpu } = heavy([...cases, ...compacted]);
    // The last runs' stores are the ones measured for size and get: the compressed kinds' after their compaction.
    const stores = Object.fromEntries([...cases.filter((c) => c.kind === 'plain'), ...compacted].map((c) => [c.kind, c.dir]));
    const size = Object.fromEntries(kinds.map((kind) => [kind, storeBytes(stores[kind]) / 1e6]));
    const docKey = (i) => `doc:${String(1 + ((i * 7919) % SETTINGS.docs)).padStart(12, '0')}`;
    log('get, corpus');
    const gets = interleave(getCases(kinds, stores, docKey), { runs: SETTINGS.runs, warmup: SETTINGS.warmup });
    const algorithm = newStore('compressed', join(work, 'algorithm'));
    // A compressed store within 5% of the plain one's size compressed (next to) nothing: its get and import cost no compression.
    const unmeasured = size.compressed / size.plain > 0.95 ? 'the compressed store is as large as the plain one: nothing was compressed, so this measures no compression' : undefined;
    const sizeCell = (kind) => `store ${size[kind].toFixed(1)} MB${kind === 'plain' ? '' : `, ${fmtX(size[kind] / size.plain)} plain's`}`;
    return {
      table: [
        ...kinds.map((kind) => row(`get (one process, ${docs} documents)`, gets, kind, `${pairedCell(gets, kind)}${sizeCell(kind)}`)),
        ...kinds.map((kind) => row(`\`import --format jsonl\` of ${docs} documents (${(statSync(corpus).size / 1e6).toFixed(0)} MB), new store`, imports, kind, cpuCell(cpu, kind))),
        ...compacted.map((c) => row(`\`import\` as above, then \`compact\` (compresses what the import left; the sizes above are after it)`, imports, c.name, cpuCell(cpu, c.name))),
        `| | | | | | \`init --compress\` chose ${algorithm} |`,
      ],
      measured: [
        { text: GOALS.size, ratio: size.compressed / size.plain, limit: 0.35, measured: `${fmtX(size.compressed / size.plain)} after \`tzkv compact\` (${size.compressed.toFixed(1)} MB vs ${size.plain.toFixed(1)} MB; encrypted+compressed ${fmtX(size['encrypted+compressed'] / size.plain)})` },
        { text: GOALS.corpusGet, unmeasured, ratio: pairedRatio(gets, 'compressed'), limit: 1.1, measured: `${getVersus(gets, 'compressed')}; encrypted+compressed ${fmtX(pairedRatio(gets, 'encrypted+compressed'))}`, slow: firstRun(getCases(['compressed'], stores, docKey)[0]) },
        { text: GOALS.corpusImport, unmeasured, ratio: ratioOf(imports, 'compressed'), limit: 1.5, measured: `${versus(imports, 'compressed')}${cpuVersus(cpu, 'compressed')}; encrypted+compressed ${fmtX(ratioOf(imports, 'encrypted+compressed'))}; import then compact ${fmtX(ratioOf(imports, 'compressed + compact'))}${cpuVersus(cpu, 'compressed + compact')}`, slow: cases.find((c) => c.kind === 'compressed') },
      ],
    };
  });

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const doc = [
    `## Encryption and compression (issue #17), ${mode}: \`node bench/crypt.mjs${mode === 'quick' ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} min`,
    `Built from ${builtFrom(benchDir)}. ${machine(work, loadAtStart)}`,
    `Whole processes, the kinds of store interleaved (plain, encrypted, plain, …) after warm-up rounds: get ${SETTINGS.runs} runs after ${SETTINGS.warmup} (a different key each run, the same for every kind; its goals use the median of the rounds' ratios, each round every kind once back to back, which a load changing between rounds does not skew), import and verify ${SETTINGS.heavyRuns} after ${SETTINGS.heavyWarmup}; medians, min–max; \`NODE_EXTRA_CA_CERTS\` removed; each case (a command on a kind of store) has a V8 code cache of its own, written by its first warm-up run (a cache holds only what the process that wrote it ran). CPU time: user + system of every thread, from GNU time. Secrets: a key file (\`--key-file\`, from \`tzkv keygen\`); the plain store's commands are given none. Import: a new store each run (\`tzkv init --encrypt\` / \`--compress\` before it, untimed), every import durable when its process exits. Verify's MB/s: the store's segments and index runs / median wall time of the whole process. Store sizes: every file of the store directory.`,
    '### Goals (issue #17)',
    goals.map((g) => goalLine(g)).join('\n'),
    ...sections,
  ].join('\n\n');
  console.log(doc);
  if (opts.out) writeFileSync(opts.out, `${doc}\n`);
  if (failures > 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
