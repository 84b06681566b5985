// Index blocks: does compressing them pay? (issue #17: "Index blocks may be compressed
// too, if measurement shows it pays"); prints the markdown of docs/benchmarks.md's
// "Index blocks: does compressing them pay?" section.
//   node bench/index-compression.mjs [--quick] [--data DIR] [--out FILE]
// Builds stores with the tzkv being measured (`tzkv import`, after `tzkv init` for
// version 2 kinds): (a) 1M records of bench/lib/data.mjs (16-byte keys, 100-byte
// values) in a plain and an encrypted store, (b) bench/corpus.mjs's 50,000 JSON
// documents in a plain, an encrypted, a compressed and an encrypted+compressed store
// (--quick: 20,000 records, 2,000 documents). Then reads every index run's blocks
// (leaves and branches; a sealed block is opened with the store's data key first:
// compression would come before the seal) and computes, per block, what deflate
// (levels 1, 6, raw) and brotli (q 1, 5) would store: the block's header, a u32 raw
// length, the compressed entries, the CRC (and nonce and tag when sealed), or the
// block as it is when that is not smaller; for the records, also with every key
// replaced by random base64 (the bench's keys count up in decimal, kinder than most
// keys). Costs: compressing and decompressing one block (CPU time of this process over a sample of blocks, 5 rounds interleaved over
// the algorithms, medians), opening a sealed block for scale, and what a fresh process
// pays to load node:zlib and make its first call (5 processes each, medians), since a
// per-process get would pay that too. Shares: index runs (blocks, bloom pages, the
// rest) of every file in the store directory. Data files are cached in --data
// (default /tmp/tzkv-bench-data/index-MODE); stores are built in a temporary
// directory, removed at the end. It reports; it decides nothing. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, brotliDecompressSync, constants as Z, deflateRawSync, inflateRawSync } from 'node:zlib';
import { BLOCK_BRANCH, BLOCK_HEADER_BYTES, KEYRING_NAME, RUN_EXT, RUN_HEADER_BYTES } from '../dist/format/constants.js';
import { decodeRunHeader, runLayout } from '../dist/format/index-block.js';
import { parseKeyFile } from '../dist/format/key-file.js';
import { openKeyring } from '../dist/format/keyring.js';
import { openBlock } from '../dist/format/seal.js';
import { tsvFile } from './lib/data.mjs';
import { loadAverage, machine } from './lib/machine.mjs';
import { cleanEnv, median, runOnce } from './lib/measure.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({ options: { quick: { type: 'boolean' }, data: { type: 'string' }, out: { type: 'string' } } });
const mode = opts.quick ? 'quick' : 'full';
const SETTINGS = { full: { records: 1_000_000, docs: 50_000, sample: 2000 }, quick: { records: 20_000, docs: 2_000, sample: 200 } }[mode];
const ROUNDS = 5;
const started = Date.now();
const loadAtStart = loadAverage();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);
const node = process.execPath;
const tzkv = [node, join(benchDir, '..', 'bin', 'run.js')];
const dataDir = opts.data ?? join(tmpdir(), 'tzkv-bench-data', `index-${mode}`);
const work = mkdtempSync(join(tmpdir(), 'tzkv-bench-index-'));
const keyFile = join(work, 'store.key');
writeFileSync(keyFile, runOnce([...tzkv, 'keygen']).stdout, { mode: 0o600 });

const KINDS = {
  plain: { init: null, flags: [] },
  encrypted: { init: ['--encrypt'], flags: ['--key-file', keyFile] },
  compressed: { init: ['--compress'], flags: [] },
  'encrypted+compressed': { init: ['--encrypt', '--compress'], flags: ['--key-file', keyFile] },
};

/** What a block's entries would become: the stored bytes of one algorithm, and its sync calls. */
const ALGORITHMS = [
  { name: 'deflate 1', compress: (b) => deflateRawSync(b, { level: 1 }), decompress: (b) => inflateRawSync(b) },
  { name: 'deflate 6', compress: (b) => deflateRawSync(b, { level: 6 }), decompress: (b) => inflateRawSync(b) },
  { name: 'brotli 1', compress: (b) => brotliCompressSync(b, brotliParams(1, b.length)), decompress: (b) => brotliDecompressSync(b) },
  { name: 'brotli 5', compress: (b) => brotliCompressSync(b, brotliParams(5, b.length)), decompress: (b) => brotliDecompressSync(b) },
];
function brotliParams(quality, size) {
  return { params: { [Z.BROTLI_PARAM_QUALITY]: quality, [Z.BROTLI_PARAM_SIZE_HINT]: size, [Z.BROTLI_PARAM_MODE]: Z.BROTLI_MODE_GENERIC } };
}
/** Bytes a compressed block adds besides its compressed entries: the u32 raw length. */
const RAW_LENGTH_BYTES = 4;

/** The data key of an encrypted store (KEYRING opened with the key file), by id. */
function storeKeys(dir) {
  const keyring = join(dir, KEYRING_NAME);
  if (!existsSync(keyring)) return null;
  const secret = { kind: 'key', key: parseKeyFile(readFileSync(keyFile), keyFile), given: 'bench' };
  return openKeyring(readFileSync(keyring), secret, keyring);
}

/**
 * The index blocks of every run of the store at dir: { entries (plain entries, Buffer),
 * stored (bytes in the file), overhead (stored − entries), type }, and the run files'
 * byte split. Blocks are walked by their length field from the run header to the bloom pages.
 */
function storeBlocks(dir) {
  const keys = storeKeys(dir);
  const blocks = [];
  const split = { runs: 0, blocks: 0, bloom: 0, other: 0 };
  for (const name of readdirSync(dir).filter((n) => n.endsWith(RUN_EXT)).sort()) {
    const buf = readFileSync(join(dir, name));
    const header = decodeRunHeader(buf, Number.parseInt(name, 10));
    if (typeof header === 'string') throw new Error(`${name}: ${header}`);
    const layout = runLayout(header.version.keyId);
    const key = layout.sealed ? keys.key(header.version.keyId) : undefined;
    let p = RUN_HEADER_BYTES;
    while (p < header.bloomOffset) {
      const length = buf.readUInt32LE(p + 4);
      const block = buf.subarray(p, p + length);
      const entries = key ? openBlock(block, p, key) : block.subarray(BLOCK_HEADER_BYTES, length - layout.blockTrailer);
      if (entries === null) throw new Error(`${name}: block at ${p} does not open`);
      blocks.push({ entries, stored: length, overhead: length - entries.length, type: block[0], leafFields: layout.leafFields });
      p += length;
    }
    const bloom = header.bloomPages * layout.pageStride;
    split.runs += buf.length;
    split.blocks += header.bloomOffset - RUN_HEADER_BYTES;
    split.bloom += bloom;
    split.other += buf.length - (header.bloomOffset - RUN_HEADER_BYTES) - bloom;
  }
  return { blocks, split };
}

/**
 * The blocks with every leaf entry's key replaced by random base64 characters of its length:
 * the bench's keys count up in decimal, which compresses better than most keys will; the
 * entry fields after the key (segment, offset, length, expiry, group) are as stored.
 */
function randomKeys(blocks) {
  return blocks.map((b) => {
    if (b.type === BLOCK_BRANCH) return b;
    const entries = Buffer.from(b.entries);
    for (let p = 0; p < entries.length; ) {
      const k = entries.readUInt16LE(p);
      Buffer.from(randomBytes(k).toString('base64').slice(0, k), 'latin1').copy(entries, p + 2);
      p += 2 + k + b.leafFields;
    }
    return { ...b, entries };
  });
}

/** Bytes of every file under dir. */
function dirBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) total += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return total;
}

/** The blocks' bytes as stored now, and with each algorithm (a block kept as it is when compressing does not make it smaller). */
function sizes(blocks) {
  const now = blocks.reduce((s, b) => s + b.stored, 0);
  const withAlgo = {};
  for (const a of ALGORITHMS) {
    let bytes = 0;
    for (const b of blocks) bytes += Math.min(b.stored, b.overhead + RAW_LENGTH_BYTES + a.compress(b.entries).length);
    withAlgo[a.name] = bytes;
  }
  return { now, withAlgo };
}

/** Microseconds of CPU per call of each case's fn over its items, ROUNDS rounds interleaved over the cases, medians. */
function cpuPerCall(cases) {
  const samples = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((c, i) => {
      const t0 = process.cpuUsage();
      for (const x of c.items) c.fn(x);
      const t = process.cpuUsage(t0);
      samples[i].push((t.user + t.system) / c.items.length);
    });
  }
  return Object.fromEntries(cases.map((c, i) => [c.name, median(samples[i])]));
}

/** What a fresh process pays to load node:zlib and make one first call of each algorithm (ms, medians of ROUNDS processes). */
function coldCosts(sampleBlock) {
  const script = `
    const t0 = performance.now();
    const z = require('node:zlib');
    const loaded = performance.now();
    const input = Buffer.from(process.argv[1], 'base64');
    const kind = process.argv[2];
    const packed = kind === 'deflate' ? z.deflateRawSync(input) : z.brotliCompressSync(input);
    const t1 = performance.now();
    kind === 'deflate' ? z.inflateRawSync(packed) : z.brotliDecompressSync(packed);
    const first = performance.now();
    process.stdout.write(JSON.stringify({ load: loaded - t0, first: first - t1 }));`;
  const out = {};
  for (const kind of ['deflate', 'brotli']) out[kind] = { load: [], first: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of ['deflate', 'brotli']) {
      const res = spawnSync(node, ['-e', script, sampleBlock.toString('base64'), kind], { env: cleanEnv() });
      const { load, first } = JSON.parse(res.stdout.toString());
      out[kind].load.push(load);
      out[kind].first.push(first);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { load: median(v.load), first: median(v.first) }]));
}

function newStore(kind, dir) {
  rmSync(dir, { recursive: true, force: true });
  if (KINDS[kind].init) runOnce([...tzkv, 'init', '-d', dir, ...KINDS[kind].init, ...KINDS[kind].flags]);
}

function corpusFile(n) {
  const path = join(dataDir, `corpus-${n}.jsonl`);
  if (existsSync(path)) return path;
  mkdirSync(dataDir, { recursive: true });
  log(`writing the corpus of ${n} documents`);
  runOnce([node, join(benchDir, 'corpus.mjs'), '--count', String(n), '--out', `${path}.tmp`]);
  renameSync(`${path}.tmp`, path);
  return path;
}

const count = (n) => (n >= 1e6 ? `${n / 1e6}M` : n.toLocaleString('en-US'));
const DATASETS = [
  { name: `${count(SETTINGS.records)} records (16-byte keys, 100-byte values)`, file: () => tsvFile(dataDir, SETTINGS.records), format: 'tsv', kinds: ['plain', 'encrypted'] },
  { name: `${count(SETTINGS.docs)} JSON documents of 1–8 KB (bench/corpus.mjs)`, file: () => corpusFile(SETTINGS.docs), format: 'jsonl', kinds: Object.keys(KINDS) },
];

const pct = (part, whole) => `${((100 * part) / whole).toFixed(1)}%`;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const us = (x) => `${x.toFixed(1)} µs`;
const ms = (x) => `${x.toFixed(2)} ms`;

const sizeRows = [];
const shareRows = [];
let costSample = [];
let sealedSample = null;
try {
  for (const set of DATASETS) {
    const file = set.file();
    for (const kind of set.kinds) {
      const dir = join(work, `${set.format}-${kind}`);
      log(`import ${set.name} into a ${kind} store`);
      newStore(kind, dir);
      runOnce([...tzkv, 'import', file, '--format', set.format, '-d', dir, ...KINDS[kind].flags]);
      const { blocks, split } = storeBlocks(dir);
      const total = dirBytes(dir);
      shareRows.push(`| ${set.name} | ${kind} | ${mb(total)} | ${mb(split.runs)} (${pct(split.runs, total)}) | ${mb(split.blocks)} (${pct(split.blocks, total)}) | ${mb(split.bloom)} | ${mb(split.other)} |`);
      {
        log(`compress the ${blocks.length} blocks of the ${kind} store`);
        const s = sizes(blocks);
        const leaves = blocks.filter((b) => b.type !== BLOCK_BRANCH).length;
        const cells = ALGORITHMS.map((a) => `${mb(s.withAlgo[a.name])} (${(s.withAlgo[a.name] / s.now).toFixed(2)}x; −${pct(s.now - s.withAlgo[a.name], total)} of store)`);
        sizeRows.push(`| ${set.name} | ${kind} | ${blocks.length} (${leaves} leaves) | ${mb(s.now)} | ${cells.join(' | ')} |`);
        if (set.format === 'tsv') {
          const r = sizes(randomKeys(blocks));
          const randomCells = ALGORITHMS.map((a) => `${mb(r.withAlgo[a.name])} (${(r.withAlgo[a.name] / r.now).toFixed(2)}x; −${pct(r.now - r.withAlgo[a.name], total)} of store)`);
          sizeRows.push(`| the same, keys replaced by random base64 | ${kind} | | ${mb(r.now)} | ${randomCells.join(' | ')} |`);
        }
        if (set.format === 'tsv' && kind === 'plain') costSample = blocks.filter((b) => b.type !== BLOCK_BRANCH).slice(0, SETTINGS.sample).map((b) => b.entries);
        if (set.format === 'tsv' && kind === 'encrypted') sealedSample = { dir, blocks: blocks.filter((b) => b.type !== BLOCK_BRANCH).slice(0, SETTINGS.sample) };
      }
      if (set.format !== 'tsv' || kind !== 'encrypted') rmSync(dir, { recursive: true, force: true });
    }
  }

  log(`costs over ${costSample.length} leaf blocks`);
  const packed = Object.fromEntries(ALGORITHMS.map((a) => [a.name, costSample.map((b) => a.compress(b))]));
  const compressCost = cpuPerCall(ALGORITHMS.map((a) => ({ name: a.name, fn: a.compress, items: costSample })));
  const decompressCost = cpuPerCall(ALGORITHMS.map((a) => ({ name: a.name, fn: a.decompress, items: packed[a.name] })));
  // For scale: opening a sealed leaf block of the encrypted records store (what an encrypted get does per block today).
  const runs = readdirSync(sealedSample.dir).filter((n) => n.endsWith(RUN_EXT)).sort();
  const keys = storeKeys(sealedSample.dir);
  const runBuf = readFileSync(join(sealedSample.dir, runs[0]));
  const header = decodeRunHeader(runBuf, Number.parseInt(runs[0], 10));
  const key = keys.key(header.version.keyId);
  const sealedBlocks = [];
  for (let p = RUN_HEADER_BYTES; p < header.leavesEnd && sealedBlocks.length < SETTINGS.sample; p += runBuf.readUInt32LE(p + 4)) {
    sealedBlocks.push({ block: runBuf.subarray(p, p + runBuf.readUInt32LE(p + 4)), at: p });
  }
  const openCost = cpuPerCall([{ name: 'open', fn: (b) => openBlock(b.block, b.at, key), items: sealedBlocks }]).open;
  const cold = coldCosts(costSample[0]);

  const costRows = ALGORITHMS.map((a) => {
    const family = a.name.startsWith('deflate') ? 'deflate' : 'brotli';
    const perGet = (3 * decompressCost[a.name]) / 1000;
    return `| ${a.name} | ${us(compressCost[a.name])} | ${us(decompressCost[a.name])} | ${ms(perGet)} | ${ms(cold[family].load)} + ${ms(cold[family].first)} |`;
  });
  const md = [
    '## Index blocks: does compressing them pay?',
    '',
    `Measured by \`node bench/index-compression.mjs${opts.quick ? ' --quick' : ''}\` (${machine(dataDir, loadAtStart).replace(/\.$/, '')}). Every index run's blocks (leaves and branches; a sealed block opened first, as compression would come before the seal); per block, what it would store compressed: header, u32 raw length, compressed entries, CRC (and nonce and tag when sealed), or the block as it is when that is not smaller.`,
    '',
    '| data | store | blocks | stored now | deflate 1 | deflate 6 | brotli 1 | brotli 5 |',
    '|---|---|---|---|---|---|---|---|',
    ...sizeRows,
    '',
    'How much of the store the index runs are (every file of the store directory after the import):',
    '',
    '| data | store | store | index runs | of which blocks | bloom pages | run headers, TTL sections |',
    '|---|---|---|---|---|---|---|',
    ...shareRows,
    '',
    `Costs per 4 KiB leaf block of the records store (CPU time of one process over ${costSample.length} blocks, ${ROUNDS} rounds, medians). A get opens about three blocks; a per-process get costs ~45–50 ms. Opening a sealed block today: ${us(openCost)}. A fresh process: loading node:zlib + its first decompression (medians of ${ROUNDS} processes).`,
    '',
    '| algorithm | compress a block | decompress a block | 3 blocks (a get) | fresh process: load + first call |',
    '|---|---|---|---|---|',
    ...costRows,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (opts.out) writeFileSync(opts.out, `${md}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
