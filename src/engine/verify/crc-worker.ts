// verify's second core: a worker thread checks the CRC of every record of
// the data segments, and every index key against its run's bloom filter,
// while the main thread scans the segments' framing, builds the record tables
// and walks the index (docs/design.md "Verify"). The worker only says, per
// segment, where the first record that fails its CRC (or its framing) starts
// — the main thread then checks that segment again the sequential way, which
// decides and reports what is wrong — and per run how many of its keys the
// bloom filter rules out.
//
// The worker's code is a self-contained string (it runs the same slicing-by-16
// CRC-32 as src/format/bytes.ts): the CLI is one bundled file, and an eval'd
// worker needs no file of its own.
import { Worker } from 'node:worker_threads';

export interface CrcJob {
  path: string;
  /** Absolute offsets: records start at `from`, the data ends at `to`. */
  from: number;
  to: number;
}

export interface CrcResult {
  /** Per segment job: -1 when every record's CRC checks, else the offset of the first that does not (or whose framing fails). */
  segments: number[];
  /** Per run path: how many of its keys its bloom filter rules out; -1 when the run could not be read (main reports why). */
  runs: number[];
}

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const T = [new Int32Array(256)];
for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? -306674912 ^ (c >>> 1) : c >>> 1; T[0][n] = c; }
for (let j = 1; j < 16; j++) { const t = new Int32Array(256); for (let n = 0; n < 256; n++) t[n] = (T[j - 1][n] >>> 8) ^ T[0][T[j - 1][n] & 0xff]; T.push(t); }
const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, Ta, Tb, Tc, Td, Te, Tf] = T;
function crc(b, i, end) {
  let c = -1;
  const blocks = end - 15;
  while (i < blocks) {
    c ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    c = Tf[c & 0xff] ^ Te[(c >> 8) & 0xff] ^ Td[(c >> 16) & 0xff] ^ Tc[c >>> 24] ^ Tb[b[i + 4]] ^ Ta[b[i + 5]] ^ T9[b[i + 6]] ^ T8[b[i + 7]] ^
      T7[b[i + 8]] ^ T6[b[i + 9]] ^ T5[b[i + 10]] ^ T4[b[i + 11]] ^ T3[b[i + 12]] ^ T2[b[i + 13]] ^ T1[b[i + 14]] ^ T0[b[i + 15]];
    i += 16;
  }
  while (i < end) c = (c >>> 8) ^ T0[(c ^ b[i++]) & 0xff];
  return ~c >>> 0;
}
// Buffers of megabytes are allocated once and reused: allocated per segment or per run they would pile up as garbage.
let readBuffer = Buffer.allocUnsafe(4 * 1024 * 1024);
function check(job) {
  let fd;
  try { fd = fs.openSync(job.path, 'r'); } catch { return job.from; }
  try {
    let buf = readBuffer;
    let at = job.from;
    while (at < job.to) {
      const want = Math.min(buf.length, job.to - at);
      let n = 0;
      while (n < want) { const r = fs.readSync(fd, buf, n, want - n, at + n); if (r === 0) break; n += r; }
      let p = 0;
      let len = 0;
      for (;;) {
        if (p + 20 > n) break;
        const kind = buf[p + 4];
        len = 20 + (buf[p + 6] | (buf[p + 7] << 8)) + ((buf[p + 8] | (buf[p + 9] << 8) | (buf[p + 10] << 16) | (buf[p + 11] << 24)) >>> 0);
        if (kind < 1 || kind > 3 || len > 20 + 1024 + 268435456) return at + p;
        if (p + len > n) break;
        if (crc(buf, p + 4, p + len) !== ((buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0)) return at + p;
        p += len;
      }
      const ended = n < want || at + n >= job.to;
      if (ended && (p < n || n < want)) return at + p;
      if (p === 0) {
        if (n < 20 || len <= buf.length) return at;
        buf = readBuffer = Buffer.allocUnsafe(len);
        continue;
      }
      at += p;
    }
    return -1;
  } finally {
    fs.closeSync(fd);
  }
}
function murmurPair(b, s, e) {
  let h = 0x7a6b7631, g = 0x2545f491;
  const len = e - s, blocksEnd = s + (len & ~3);
  let i = s;
  for (; i < blocksEnd; i += 4) {
    let k = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593);
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    g ^= k; g = (g << 13) | (g >>> 19); g = (Math.imul(g, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= b[i + 2] << 16;
    if (rest >= 2) k ^= b[i + 1] << 8;
    k ^= b[i];
    k = Math.imul(k, 0xcc9e2d51); k = (k << 15) | (k >>> 17); k = Math.imul(k, 0x1b873593);
    h ^= k; g ^= k;
  }
  const fin = (x) => { x ^= len; x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b); x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35); x ^= x >>> 16; return x >>> 0; };
  pairSecond = fin(g);
  return fin(h);
}
let pairSecond = 0;
const u64 = (b, o) => (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0 > 0x1fffff ? -1 : ((b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0) * 4294967296 + ((b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0);
function readAt(fd, buf, length, at) {
  let n = 0;
  while (n < length) { const r = fs.readSync(fd, buf, n, length - n, at + n); if (r === 0) break; n += r; }
  return n;
}
// At most ROUND keys at a time (16 bytes each while sorted): a run of more is checked in as many rounds.
const ROUND = 1 << 18;
const buckets = new Uint32Array(ROUND), h2s = new Int32Array(ROUND), sb = new Uint32Array(ROUND), sh = new Int32Array(ROUND);
const chunk = Buffer.allocUnsafe(1 << 20);
let bloomBuffer = Buffer.alloc(0);
function probe(bloom, pages, buckets, h2s, n) {
  // By page (a counting sort), so each page stays in cache while its keys are checked.
  const starts = new Uint32Array(pages + 1);
  for (let i = 0; i < n; i++) starts[((buckets[i] / 64) | 0) + 1]++;
  for (let q = 0; q < pages; q++) starts[q + 1] += starts[q];
  for (let i = 0; i < n; i++) { const j = starts[(buckets[i] / 64) | 0]++; sb[j] = buckets[i]; sh[j] = h2s[i]; }
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const bucket = sb[i];
    const base = ((bucket / 64) | 0) * 4100 + (bucket % 64) * 64;
    let h = sh[i] >>> 0;
    const delta = ((h >>> 17) | (h << 15)) >>> 0;
    for (let k = 0; k < 7; k++) {
      const bit = h & 511;
      if ((bloom[base + (bit >>> 3)] & (1 << (bit & 7))) === 0) { missing++; break; }
      h = (h + delta) >>> 0;
    }
  }
  return missing;
}
function checkRun(path) {
  let fd;
  try { fd = fs.openSync(path, 'r'); } catch { return -1; }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(64);
    if (readAt(fd, head, 64, 0) < 64) return -1;
    const leavesEnd = u64(head, 40), bloomOffset = u64(head, 48), pages = head.readUInt32LE(56);
    if (leavesEnd < 64 || bloomOffset < leavesEnd || pages === 0 || bloomOffset + pages * 4100 > size) return -1;
    if (bloomBuffer.length < pages * 4100) bloomBuffer = Buffer.allocUnsafe(pages * 4100);
    const bloom = bloomBuffer.subarray(0, pages * 4100);
    if (readAt(fd, bloom, bloom.length, bloomOffset) < bloom.length) return -1;
    const total = pages * 64;
    let n = 0, missing = 0, chunkAt = 0, chunkLength = 0;
    for (let at = 64; at < leavesEnd; ) {
      if (at + 8 > chunkAt + chunkLength || at < chunkAt) { chunkLength = readAt(fd, chunk, Math.min(chunk.length, leavesEnd - at), at); chunkAt = at; if (chunkLength < 8) return -1; }
      let r = at - chunkAt;
      const length = chunk.readUInt32LE(r + 4);
      if (length < 12 || at + length > leavesEnd || length > 8192) return -1;
      if (at + length > chunkAt + chunkLength) { chunkLength = readAt(fd, chunk, Math.min(chunk.length, leavesEnd - at), at); chunkAt = at; r = 0; if (chunkLength < length) return -1; }
      const count = chunk.readUInt16LE(r + 2);
      let p = r + 8;
      const end = r + length - 4;
      for (let i = 0; i < count; i++) {
        if (p + 2 > end) return -1;
        const k = chunk[p] | (chunk[p + 1] << 8);
        if (k < 1 || p + 27 + k > end) return -1;
        if (n === ROUND) { missing += probe(bloom, pages, buckets, h2s, n); n = 0; }
        buckets[n] = murmurPair(chunk, p + 2, p + 2 + k) % total;
        h2s[n++] = pairSecond;
        p += 27 + k;
      }
      at += length;
    }
    return missing + probe(bloom, pages, buckets, h2s, n);
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.postMessage({ segments: workerData.segments.map(check), runs: workerData.runs.map(checkRun) });
`;

/** Starts the checks; resolves with their results, or null when no worker could run (check sequentially then). */
export function checkInWorker(jobs: { segments: CrcJob[]; runs: string[] }): Promise<CrcResult | null> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(SOURCE, { eval: true, workerData: jobs });
    } catch {
      resolve(null);
      return;
    }
    worker.once('message', (result: CrcResult) => resolve(result));
    worker.once('error', () => resolve(null));
    worker.once('exit', () => resolve(null));
  });
}
