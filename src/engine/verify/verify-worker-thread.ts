// verify's worker thread (docs/design.md "Verify"; started by
// verify-worker.ts from its own bundle, dist/verify-worker.cjs, built by
// scripts/build.mjs). It checks what needs no record table, with the code the
// one-thread verify runs:
//  * the sealed segments' records, CRCs and framing, through RecordScanner,
//    in the format each one's header names: in an encrypted store opened with
//    its key, every group's tag too (the main thread opens no group);
//  * each run's keys against its bloom filter: the keys of its leaf blocks
//    (leafEntryEnd), recorded and checked a round at a time by BloomCheck and
//    BloomProbe.
// Its bytes come through the io/ seam either way. When verify runs on the real
// file system it reads them itself, through realFs: the segments, then each
// run's leaf blocks (a LeafCursor that leaves the block CRCs to the main
// thread) and its filter a window at a time. On any other file system, which
// lives on the main thread, the main thread posts them in the shared ring
// (worker-ring.ts): segment reads, the filter pages (held whole here, one
// buffer a run) and the leaf blocks its walk read whole.
import { parentPort, workerData } from 'node:worker_threads';
import { murmur3Pair, murmurPairSecond } from '../../format/bloom.js';
import { BLOOM_PAGE_STRIDE, FILE_HEADER_BYTES, LEAF_ENTRY_FIXED_BYTES, RUN_HEADER_BYTES } from '../../format/constants.js';
import { LEAF_FIELDS_BYTES, checkedBlock, decodeRunHeader, leafEntryEnd } from '../../format/index-block.js';
import { realFs } from '../../io/fs.js';
import { runName, segmentName } from '../files/layout.js';
import { RecordScanner } from '../log/record-scan.js';
import { segmentFormat } from '../log/segment-format.js';
import { BloomCheck, BloomProbe, BloomScratch, filePages } from './bloom-check.js';
import { LeafCursor } from './run-cursor.js';
import { VerifyLog } from './verify-log.js';
import { receivedCodec } from './posted-codec.js';
import { FREE, SLOTS, SLOT_BYTES, markFailed, markProgress, slotBuffer } from './worker-ring.js';
import type { SegmentJob, ToWorker, WorkerSetup, WorkerVerdict } from './worker-ring.js';

interface SegmentCheck {
  to: number;
  scanner: RecordScanner;
  /** Where the next bytes start. */
  next: number;
  /** Where the first record that fails starts; -1 while none has. */
  bad: number;
}

/** A run's filter as the main thread posts it, and its keys' check. */
interface PostedRun {
  filter: Buffer;
  bloom: BloomCheck | null;
}

const { ring, codec: postedCodec, segments: jobs, files } = workerData as WorkerSetup;
/** The store's codec, rebuilt from what the main thread posted. */
const codec = receivedCodec(postedCodec);
const states = new Int32Array(ring.states);
const slots = Array.from({ length: SLOTS }, (_, i) => slotBuffer(ring, i));
/** The slots as int32 words, for the key hashes of encrypted runs. */
const slotPairs = slots.map((b) => new Int32Array(b.buffer, b.byteOffset, b.length / 4));
const segments = new Map<number, SegmentCheck>(jobs.map((j) => [j.file, segmentCheck(j)]));
const posted = new Map<number, PostedRun>();
/** Per run: how many of its keys its filter rules out. */
const missing = new Map<number, number>();
const scratch = new BloomScratch();

/**
 * The check of sealed segment `j`: its records' framing and CRCs, and in an
 * encrypted segment its groups' tags, in the format its header names. A
 * segment whose data key the codec lacks is bad from its first record (the
 * main thread says why).
 */
function segmentCheck(j: SegmentJob): SegmentCheck {
  const check = { to: j.to, next: FILE_HEADER_BYTES, bad: -1 };
  try {
    return { ...check, scanner: new RecordScanner(FILE_HEADER_BYTES, codec, {}, j.to, true, { ...segmentFormat(j.as, codec, segmentName(j.file), true), tagsOnly: true }) };
  } catch {
    return { ...check, scanner: new RecordScanner(FILE_HEADER_BYTES, codec, {}, j.to), bad: FILE_HEADER_BYTES };
  }
}

/** Checks the next n bytes of segment `s`, buf[0, n). */
function checkSegmentBytes(s: SegmentCheck, buf: Buffer, n: number): void {
  s.scanner.push(buf, 0, n);
  s.next += n;
  if (s.scanner.failure) s.bad = s.scanner.failure.offset;
}

/** Records the keys of the leaf block at buf[start, start + length), whose framing was checked. */
function addKeys(bloom: BloomCheck, buf: Buffer, start: number, length: number): void {
  const block = checkedBlock(buf.subarray(start, start + length));
  for (let i = 0, q = block.entriesStart; i < block.count; i++) {
    const next = leafEntryEnd(block.buf, q, block.entriesEnd);
    if (next < 0) return; // the main thread reports the block
    bloom.add(murmur3Pair(block.buf, q + 2, next - LEAF_FIELDS_BYTES), murmurPairSecond);
    q = next;
  }
}

/**
 * Reads and checks sealed segment `j` of the store in `dir`; stops at the
 * first record that fails. Yields after each read: the main thread's messages
 * (an encrypted store's runs) are taken between reads, so it never waits for
 * this thread to finish the segments.
 */
function* readSegment(dir: string, j: SegmentJob, chunk: Buffer): Generator<void> {
  const s = segments.get(j.file)!;
  let fd: number;
  try {
    fd = realFs.openRead(`${dir}/${segmentName(j.file)}`);
  } catch {
    return; // unread: the main thread checks the segment again, and says why
  }
  try {
    for (let n = 1; n > 0 && s.bad < 0 && s.next < j.to; ) {
      n = realFs.read(fd, chunk, 0, Math.min(chunk.length, j.to - s.next), s.next);
      if (n > 0) checkSegmentBytes(s, chunk, n);
      markProgress(states);
      yield;
    }
  } catch {
    // unread from s.next on: as above
  } finally {
    realFs.close(fd);
  }
}

/**
 * Reads run `file` of the store in `dir` and counts the keys its filter rules
 * out. What is wrong with the run the main thread's walk reports, and then
 * ignores this count: here every page counts as whole, and a run whose header
 * does not decode is left out.
 */
function readRun(dir: string, file: number): void {
  const fd = realFs.openRead(`${dir}/${runName(file)}`);
  try {
    const head = Buffer.alloc(RUN_HEADER_BYTES);
    const h = decodeRunHeader(head.subarray(0, realFs.read(fd, head, 0, RUN_HEADER_BYTES, 0)), file);
    if (typeof h === 'string' || h.bloomPages === 0) return;
    const pageOk = new Uint8Array(h.bloomPages).fill(1);
    const expected = Math.min(h.entries, Math.floor(realFs.size(fd) / (LEAF_ENTRY_FIXED_BYTES + 1)));
    const bloom = new BloomCheck(new BloomProbe(filePages(realFs, fd, h.bloomOffset, h.bloomPages, scratch), pageOk, scratch), h.bloomPages, expected);
    const cursor = new LeafCursor(realFs, fd, runName(file), RUN_HEADER_BYTES, h.leavesEnd, new VerifyLog(undefined), {
      checkCrc: false,
      onBlock: (buf, start, length) => addKeys(bloom, buf, start, length),
    });
    while (cursor.nextBlock());
    missing.set(file, bloom.missing());
  } finally {
    realFs.close(fd);
  }
}

/** What the worker reads itself (the real file system): the sealed segments, then the runs; a step at a time. */
function* readFiles(dir: string, runs: number[]): Generator<void> {
  const chunk = Buffer.allocUnsafe(SLOT_BYTES);
  for (const j of jobs) yield* readSegment(dir, j, chunk);
  for (const file of runs) {
    try {
      readRun(dir, file);
    } catch {
      // The main thread's walk cannot read it either, and says why.
    }
    yield;
  }
}

function segmentBytes(m: Extract<ToWorker, { to: 'segment' }>): void {
  const s = segments.get(m.file);
  // Not one this thread was started for (the store changed since: verify starts over), or one the main thread checks again anyway.
  if (s && s.bad < 0) checkSegmentBytes(s, slots[m.slot], m.n);
}

function filterPages(m: Extract<ToWorker, { to: 'filter' }>): void {
  let r = posted.get(m.run);
  if (m.first === 0) {
    const bytes = m.pages * BLOOM_PAGE_STRIDE;
    r = { filter: r && r.filter.length === bytes ? r.filter : Buffer.allocUnsafe(bytes), bloom: null };
    posted.set(m.run, r);
  }
  slots[m.slot].copy(r!.filter, m.first * BLOOM_PAGE_STRIDE, 0, m.count * BLOOM_PAGE_STRIDE);
}

function startProbe(m: Extract<ToWorker, { to: 'probe' }>): void {
  const r = posted.get(m.run)!;
  const pages = { load: (first: number) => r.filter.subarray(first * BLOOM_PAGE_STRIDE) };
  r.bloom = new BloomCheck(new BloomProbe(pages, m.pageOk, scratch), m.pageOk.length, m.expected);
}

function keyHashes(m: Extract<ToWorker, { to: 'hashes' }>): void {
  const bloom = posted.get(m.run)!.bloom!;
  const pairs = slotPairs[m.slot];
  for (let i = 0; i < 2 * m.n; i += 2) bloom.add(pairs[i], pairs[i + 1]);
}

function leafBlocks(m: Extract<ToWorker, { to: 'leaves' }>): void {
  const buf = slots[m.slot];
  for (let p = 0; p < m.n; ) {
    const length = buf.readUInt32LE(p + 4);
    addKeys(posted.get(buf.readUInt32LE(p))!.bloom!, buf, p + 8, length);
    p += 8 + length;
  }
}

/** Where segment `s` stops checking clean: -1 when it does not. */
function firstBad(s: SegmentCheck): number {
  if (s.bad >= 0) return s.bad;
  if (s.next < s.to) return s.next; // the reads stopped short (damage, a short file): unchecked from here
  const end = s.scanner.finish();
  return end.kind === 'clean' ? -1 : end.offset;
}

function verdict(): WorkerVerdict {
  for (const [file, r] of posted) missing.set(file, r.bloom?.missing() ?? 0);
  return { segments: new Map([...segments].map(([file, s]) => [file, firstBad(s)])), runs: missing };
}

const port = parentPort!;
/** Whether the worker is still reading what it reads itself: the verdict waits for that. */
let reading = files !== null;
/** The main thread said 'done' while this thread was still reading. */
let doneAsked = false;

function answer(): void {
  port.postMessage(verdict());
  port.close();
}

/** Runs `step`; when it throws (a bug), the thread ends, the main thread stops waiting for it, and verify starts over on one thread. */
function guarded(step: () => void): void {
  try {
    step();
  } catch {
    markFailed(states);
    port.close();
  }
}

port.on('message', (m: ToWorker) => {
  guarded(() => {
    if (m.to === 'segment') segmentBytes(m);
    else if (m.to === 'filter') filterPages(m);
    else if (m.to === 'probe') startProbe(m);
    else if (m.to === 'leaves') leafBlocks(m);
    else if (m.to === 'hashes') keyHashes(m);
    else if (reading) doneAsked = true;
    else answer();
  });
  if ('slot' in m) {
    Atomics.store(states, m.slot, FREE);
    Atomics.notify(states, m.slot);
  }
});
/** Takes the next step of `steps`, then lets the event loop deliver the main thread's messages before the one after. */
function pump(steps: Generator<void>): void {
  guarded(() => {
    if (!steps.next().done) {
      setImmediate(() => pump(steps));
      return;
    }
    reading = false;
    if (doneAsked) answer();
  });
}

if (files) pump(readFiles(files.dir, files.runs));
