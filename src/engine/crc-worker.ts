// verify's second core: a worker thread checks the CRC of every record of
// the data segments while the main thread scans their framing, builds the
// record tables and walks the index (docs/design.md "Verify"). The worker
// only says, per segment, where the first record that fails its CRC (or its
// framing) starts; the main thread then checks that segment again the
// sequential way, which decides and reports what is wrong.
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

/** Per job: -1 when every record's CRC checks, else the offset of the first that does not (or whose framing fails). */
export type CrcResult = number[];

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
function check(job) {
  let fd;
  try { fd = fs.openSync(job.path, 'r'); } catch { return job.from; }
  try {
    let buf = Buffer.allocUnsafe(4 * 1024 * 1024);
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
        buf = Buffer.allocUnsafe(len);
        continue;
      }
      at += p;
    }
    return -1;
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.postMessage(workerData.map(check));
`;

/** Starts the check; resolves with one result per job, or null when no worker could run (check sequentially then). */
export function checkCrcsInWorker(jobs: CrcJob[]): Promise<CrcResult | null> {
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
