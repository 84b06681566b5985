// verify's worker thread (docs/design.md "Verify"; started by
// verify-worker.ts from its own bundle, dist/verify-worker.cjs, built by
// scripts/build.mjs). It checks what needs no record table, with the code the
// one-thread verify runs:
//  * the sealed segments' records, CRCs and framing, through RecordScanner:
//    read here through realFs when the main thread verifies on the real file
//    system, else posted by the main thread in the shared ring (worker-ring.ts);
//  * each run's keys against its bloom filter: the keys of the leaf blocks the
//    main thread posts (leafEntryEnd), recorded and checked a round at a time
//    by BloomCheck and BloomProbe over the filter pages it posts (held whole,
//    one buffer a run).
import { parentPort, workerData } from 'node:worker_threads';
import { murmur3Pair, murmurPairSecond } from '../../format/bloom.js';
import { BLOOM_PAGE_STRIDE, FILE_HEADER_BYTES } from '../../format/constants.js';
import { LEAF_FIELDS_BYTES, checkedBlock, leafEntryEnd } from '../../format/index-block.js';
import { RecordScanner } from '../log/record-scan.js';
import { BloomCheck, BloomProbe, BloomScratch } from './bloom-check.js';
import { realFs } from '../../io/fs.js';
import { FREE, SLOTS, SLOT_BYTES, markFailed, slotBuffer } from './worker-ring.js';
import type { Ring, SegmentJob, ToWorker, WorkerVerdict } from './worker-ring.js';

interface SegmentCheck {
  to: number;
  scanner: RecordScanner;
  /** Where the next bytes sent start. */
  next: number;
  /** Where the first record that fails starts; -1 while none has. */
  bad: number;
}

interface RunCheck {
  filter: Buffer;
  bloom: BloomCheck | null;
}

const { ring, segments: jobs } = workerData as { ring: Ring; segments: SegmentJob[] };
const states = new Int32Array(ring.states);
const slots = Array.from({ length: SLOTS }, (_, i) => slotBuffer(ring, i));
const segments = new Map<number, SegmentCheck>(jobs.map((j) => [j.file, { to: j.to, scanner: new RecordScanner(FILE_HEADER_BYTES, {}, j.to), next: FILE_HEADER_BYTES, bad: -1 }]));
const runs = new Map<number, RunCheck>();
const scratch = new BloomScratch();

/** Checks the next n bytes of segment `s`, buf[0, n). */
function checkSegmentBytes(s: SegmentCheck, buf: Buffer, n: number): void {
  s.scanner.push(buf, 0, n);
  s.next += n;
  if (s.scanner.failure) s.bad = s.scanner.failure.offset;
}

function segmentBytes(m: Extract<ToWorker, { to: 'segment' }>): void {
  const s = segments.get(m.file);
  // Not one this thread was started for (the store changed since: verify starts over), or one the main thread checks again anyway.
  if (s && s.bad < 0) checkSegmentBytes(s, slots[m.slot], m.n);
}

/** The sealed segments this thread reads itself, and where it is in them. */
const own = jobs.filter((j) => j.path !== undefined);
let ownAt = 0;
let ownFd = -1;
const ownChunk = own.length > 0 ? Buffer.allocUnsafe(SLOT_BYTES) : Buffer.alloc(0);

/** Reads and checks the next chunk of the segments this thread reads itself; false once they are all read. */
function readOwnChunk(): boolean {
  const j = own[ownAt];
  if (j === undefined) return false;
  const s = segments.get(j.file)!;
  try {
    if (ownFd < 0) ownFd = realFs.openRead(j.path!);
    const n = s.bad < 0 && s.next < j.to ? realFs.read(ownFd, ownChunk, 0, Math.min(ownChunk.length, j.to - s.next), s.next) : 0;
    if (n > 0) {
      checkSegmentBytes(s, ownChunk, n);
      return true;
    }
  } catch {
    // Unread from s.next on: the main thread checks the segment again, and says why.
  }
  if (ownFd >= 0) realFs.close(ownFd);
  ownFd = -1;
  ownAt++;
  return true;
}

/** A chunk an event-loop turn, so that the main thread's messages wait for one chunk at most. */
function readOwnSegments(): void {
  if (guarded(readOwnChunk)) setImmediate(readOwnSegments);
}

function filterPages(m: Extract<ToWorker, { to: 'filter' }>): void {
  let r = runs.get(m.run);
  if (m.first === 0) {
    const bytes = m.pages * BLOOM_PAGE_STRIDE;
    r = { filter: r && r.filter.length === bytes ? r.filter : Buffer.allocUnsafe(bytes), bloom: null };
    runs.set(m.run, r);
  }
  slots[m.slot].copy(r!.filter, m.first * BLOOM_PAGE_STRIDE, 0, m.count * BLOOM_PAGE_STRIDE);
}

function startProbe(m: Extract<ToWorker, { to: 'probe' }>): void {
  const r = runs.get(m.run)!;
  const pages = { load: (first: number) => r.filter.subarray(first * BLOOM_PAGE_STRIDE) };
  r.bloom = new BloomCheck(new BloomProbe(pages, m.pageOk, scratch), m.pageOk.length, m.expected);
}

function leafBlocks(m: Extract<ToWorker, { to: 'leaves' }>): void {
  const buf = slots[m.slot];
  for (let p = 0; p < m.n; ) {
    const bloom = runs.get(buf.readUInt32LE(p))!.bloom!;
    const length = buf.readUInt32LE(p + 4);
    const block = checkedBlock(buf.subarray(p + 8, p + 8 + length)); // the main thread sends only blocks whose CRC held
    for (let i = 0, q = block.entriesStart; i < block.count; i++) {
      const next = leafEntryEnd(block.buf, q, block.entriesEnd);
      if (next < 0) break; // the main thread reports the block
      bloom.add(murmur3Pair(block.buf, q + 2, next - LEAF_FIELDS_BYTES), murmurPairSecond);
      q = next;
    }
    p += 8 + length;
  }
}

/** Where segment `s` stops checking clean: -1 when it does not. */
function firstBad(s: SegmentCheck): number {
  if (s.bad >= 0) return s.bad;
  if (s.next < s.to) return s.next; // the main thread's reads stopped short (damage, a short file): unchecked from here
  const end = s.scanner.finish();
  return end.kind === 'clean' ? -1 : end.offset;
}

function verdict(): WorkerVerdict {
  return {
    segments: new Map([...segments].map(([file, s]) => [file, firstBad(s)])),
    runs: new Map([...runs].map(([file, r]) => [file, r.bloom?.missing() ?? 0])),
  };
}

const port = parentPort!;

/** Runs `step`; when it throws (a bug), the thread ends, the main thread stops waiting for it, and verify starts over on one thread. */
function guarded(step: () => boolean): boolean {
  try {
    return step();
  } catch {
    markFailed(states);
    port.close();
    return false;
  }
}

port.on('message', (m: ToWorker) => {
  guarded(() => {
    if (m.to === 'segment') segmentBytes(m);
    else if (m.to === 'filter') filterPages(m);
    else if (m.to === 'probe') startProbe(m);
    else if (m.to === 'leaves') leafBlocks(m);
    else {
      while (readOwnChunk());
      port.postMessage(verdict());
      port.close();
    }
    return true;
  });
  if ('slot' in m) {
    Atomics.store(states, m.slot, FREE);
    Atomics.notify(states, m.slot);
  }
});
readOwnSegments();
