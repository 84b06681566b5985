// The benchmark's data: record i (1-based) has the 16-byte key `key:` + i in 12
// digits and a 100-byte value drawn from a PRNG seeded by (SEED, i), so any
// value can be recomputed without reading a file. One TSV file per size
// (`KEY<TAB>VALUE\n`, keys ascending) is written once into the cache
// directory and every peer's store is built from it; the JSON Lines file of a
// size holds the same records as `tzkv export` writes them
// (`{"key":…,"value":…,"expiresAt":null}`), for the bulk load in that format.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';

export const SEED = 0x7a6b76; // "zkv"
export const VALUE_BYTES = 100;
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

export const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;

/** Writes the 100-byte value of record i into out at offset (mulberry32 seeded by SEED and i). */
export function writeValue(i, out, offset) {
  let s = (SEED ^ Math.imul(i, 0x9e3779b9)) >>> 0;
  for (let j = 0; j < VALUE_BYTES; j += 5) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    t = (t ^ (t >>> 14)) >>> 0;
    for (let k = 0; k < 5; k++) out[offset + j + k] = ALPHABET[(t >>> (k * 6)) & 63];
  }
}

export function valueOf(i) {
  const b = Buffer.alloc(VALUE_BYTES);
  writeValue(i, b, 0);
  return b.toString('latin1');
}

/** Path of the TSV of records 1..n in dataDir, written (under a temporary name, then renamed) when missing. */
export function tsvFile(dataDir, n) {
  return recordsFile(join(dataDir, `records-${n}.tsv`), n, TSV);
}

/** Path of the JSON Lines file of records 1..n in dataDir (tzkv export's shape), written when missing. */
export function jsonlFile(dataDir, n) {
  return recordsFile(join(dataDir, `records-${n}.jsonl`), n, JSONL);
}

/** A line's bytes around the key and the value (neither needs escaping in JSON: ASCII letters, digits, ':', '-', '_'). */
const TSV = { before: '', between: '\t', after: '\n' };
const JSONL = { before: '{"key":"', between: '","value":"', after: '","expiresAt":null}\n' };

function recordsFile(path, n, shape) {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const [before, between, after] = [shape.before, shape.between, shape.after].map((s) => Buffer.from(s, 'latin1'));
  const lineBytes = before.length + 16 + between.length + VALUE_BYTES + after.length;
  const perChunk = 65536;
  const chunk = Buffer.alloc(lineBytes * perChunk);
  const fd = openSync(`${path}.tmp`, 'w');
  for (let start = 1; start <= n; start += perChunk) {
    const end = Math.min(n, start + perChunk - 1);
    let o = 0;
    for (let i = start; i <= end; i++) {
      o += before.copy(chunk, o);
      o += chunk.write(keyOf(i), o, 'latin1');
      o += between.copy(chunk, o);
      writeValue(i, chunk, o);
      o += VALUE_BYTES;
      o += after.copy(chunk, o);
    }
    writeSync(fd, chunk, 0, o);
  }
  fsyncSync(fd);
  closeSync(fd);
  renameSync(`${path}.tmp`, path);
  return path;
}

/**
 * The records of a data file (.tsv or .jsonl, by its name) as arrays of [key, value] string
 * pairs, at most batch pairs each, parsed as a Node script would: TSV split at the tab, JSON
 * Lines by JSON.parse of each line.
 */
export function recordBatches(path, batch = 100_000) {
  return path.endsWith('.jsonl') ? lineBatches(path, batch, 'utf8', jsonlPair) : lineBatches(path, batch, 'latin1', tsvPair);
}

const tsvPair = (text, start, nl) => {
  const tab = text.indexOf('\t', start);
  return [text.slice(start, tab), text.slice(tab + 1, nl)];
};

const jsonlPair = (text, start, nl) => {
  const { key, value } = JSON.parse(text.slice(start, nl));
  return [key, value];
};

async function* lineBatches(path, batch, encoding, pairOf) {
  let rest = '';
  let pairs = [];
  for await (const chunk of createReadStream(path, { encoding, highWaterMark: 1 << 20 })) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      pairs.push(pairOf(text, start, nl));
      start = nl + 1;
      if (pairs.length === batch) {
        yield pairs;
        pairs = [];
      }
    }
    rest = text.slice(start);
  }
  if (pairs.length) yield pairs;
}

/** The prefix whose matches are exactly `matches` (a power of ten) consecutive keys in the middle of 1..n. */
export function prefixFor(n, matches) {
  const digits = Math.round(Math.log10(matches));
  const base = Math.max(1, Math.floor(n / 2 / matches)) * matches;
  if (base + matches - 1 > n) throw new Error(`a store of ${n} keys has no ${matches} keys under one prefix`);
  const prefix = keyOf(base).slice(0, 16 - digits);
  // The exclusive upper bound of the prefix's range: its last byte plus one (digits only, so no carry).
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return { prefix, upper, first: base };
}
