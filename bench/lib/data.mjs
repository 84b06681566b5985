// The benchmark's data: record i (1-based) has the 16-byte key `key:` + i in 12
// digits and a 100-byte value drawn from a PRNG seeded by (SEED, i), so any
// value can be recomputed without reading a file. One TSV file per size
// (`KEY<TAB>VALUE\n`, keys ascending) is written once into the cache
// directory and every peer's store is built from it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

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
  const path = join(dataDir, `records-${n}.tsv`);
  if (existsSync(path)) return path;
  mkdirSync(dataDir, { recursive: true });
  const lineBytes = 16 + 1 + VALUE_BYTES + 1;
  const perChunk = 65536;
  const chunk = Buffer.alloc(lineBytes * perChunk);
  const fd = openSync(`${path}.tmp`, 'w');
  for (let start = 1; start <= n; start += perChunk) {
    const end = Math.min(n, start + perChunk - 1);
    let o = 0;
    for (let i = start; i <= end; i++) {
      chunk.write(keyOf(i), o, 'latin1');
      chunk[o + 16] = 9;
      writeValue(i, chunk, o + 17);
      chunk[o + lineBytes - 1] = 10;
      o += lineBytes;
    }
    writeSync(fd, chunk, 0, o);
  }
  fsyncSync(fd);
  closeSync(fd);
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Yields arrays of [key, value] string pairs read from a TSV file, at most batch pairs each. */
export async function* tsvBatches(path, batch = 100_000) {
  let rest = '';
  let pairs = [];
  for await (const chunk of createReadStream(path, { encoding: 'latin1', highWaterMark: 1 << 20 })) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const tab = text.indexOf('\t', start);
      pairs.push([text.slice(start, tab), text.slice(tab + 1, nl)]);
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
