// The main thread's side of verify's worker thread (verify-worker-thread.ts,
// docs/design.md "Verify"): starts it, hands it what it checks, collects its
// verdict. The worker reads nothing but through the io/ seam. On the real
// file system (realFs) it reads the sealed segments and the runs itself, and
// neither thread waits for the other. Any other FileSystem (an injected one,
// test/fault) lives on this thread, so this thread sends it the bytes: its
// scan reads the segments into the shared ring's slots (worker-ring.ts) and
// posts them, no copy, for the worker to check while it scans them; its walk
// copies the runs' filter pages and the leaf blocks whose CRC held (packed
// together, whichever run they are of) into slots. This thread waits for the
// worker only for a free slot: it is at most SLOTS ahead.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BLOOM_PAGE_STRIDE, FILE_HEADER_BYTES } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';
import { realFs } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { postCodec } from './posted-codec.js';
import type { SegmentBytes } from '../log/record-boundary.js';
import { FREE, POSTED, SLOTS, SLOT_BYTES, hasFailed, newRing, progress, slotBuffer } from './worker-ring.js';
import type { LeafBlockSink } from './run-cursor.js';
import type { KeyProbe } from './bloom-check.js';
import type { Ring, SegmentJob, ToWorker, WorkerSetup, WorkerVerdict } from './worker-ring.js';

/** The worker's bundle (scripts/build.mjs), in the package's dist/. */
const WORKER_BUNDLE = 'verify-worker.cjs';

/** How long the main thread waits for a slot while the worker makes no progress before it gives up on it (one that never started, or hangs). */
const STALL_MS = 10_000;

/**
 * Where the worker's bundle is. From src/ (tests) and from tsc's dist/ (the
 * embedded API) this file is three folders below the package, whose dist/
 * holds the bundle; in the CLI's CommonJS bundles, which sit in dist/ beside
 * it, esbuild leaves import.meta empty and __dirname is dist/.
 */
function workerBundle(): string {
  const here = import.meta.url as string | undefined;
  return here ? fileURLToPath(new URL(`../../../dist/${WORKER_BUNDLE}`, here)) : join(__dirname, WORKER_BUNDLE);
}

export class VerifyWorker {
  private readonly states: Int32Array;
  private readonly slots: Buffer[];
  private nextSlot = 0;
  /** The slot leaf blocks are being packed into (not yet posted; SLOTS when none), and how full it is. */
  private packing = SLOTS;
  private packed = 0;
  /** Set once the worker failed or stalled: nothing more is posted to it, and its verdict is null. */
  private gaveUp = false;
  private readonly verdict: Promise<WorkerVerdict | null>;

  private constructor(
    private readonly thread: Worker,
    ring: Ring,
    /** Whether it reads the store itself (the real file system), or is sent the bytes. */
    private readonly readsFiles: boolean,
  ) {
    this.states = new Int32Array(ring.states);
    this.slots = Array.from({ length: SLOTS }, (_, i) => slotBuffer(ring, i));
    this.verdict = new Promise((resolve) => {
      thread.once('message', (v: WorkerVerdict) => resolve(v));
      thread.once('error', () => resolve(null));
      thread.once('exit', () => resolve(null));
    });
  }

  /**
   * Starts a worker that checks the records of these sealed segments of the
   * store in `dir` and the keys of these runs, verified through `fs` with
   * the store's `codec`; null when none can start (verify on one thread then).
   */
  static start(fs: FileSystem, dir: string, codec: StoreCodec, segments: SegmentJob[], runs: number[]): VerifyWorker | null {
    const bundle = workerBundle();
    if (!realFs.stat(bundle)?.isFile) return null; // not built
    const readsFiles = fs === realFs;
    const setup: WorkerSetup = { ring: newRing(), codec: postCodec(codec), segments, files: readsFiles ? { dir, runs } : null };
    try {
      return new VerifyWorker(new Worker(bundle, { workerData: setup }), setup.ring, readsFiles);
    } catch {
      return null;
    }
  }

  /**
   * How the scan reads sealed segment `file` (one of those the worker was
   * started for) from `fd`, when the worker does not read it itself (else null):
   * into the ring's next slot, posted to the worker when it continues the
   * bytes the worker has of the segment (from FILE_HEADER_BYTES on). A read of
   * more than SLOT_BYTES returns SLOT_BYTES.
   */
  segmentBytes(fs: FileSystem, fd: number, file: number): SegmentBytes | null {
    if (this.readsFiles) return null;
    let next = FILE_HEADER_BYTES;
    return (at, length) => {
      const slot = this.take();
      const buf = this.slots[slot];
      const n = fs.read(fd, buf, 0, Math.min(length, SLOT_BYTES), at);
      if (at === next && n > 0) {
        next += n;
        this.post({ to: 'segment', slot, file, at, n });
      }
      return buf.subarray(0, n);
    };
  }

  /**
   * Sends pages [first, first + count) of run `run`'s filter of `pages` pages,
   * when the worker does not read the run itself: `bytes`, count pages with
   * their CRCs. Page 0 starts the run's check (again). `opened`: an encrypted
   * run's pages, opened here (the worker never reads those itself), each
   * BLOOM_PAGE_STRIDE bytes. REQUIRES: bytes fit a slot.
   */
  sendFilter(run: number, pages: number, first: number, bytes: Buffer, opened = false): void {
    if ((this.readsFiles && !opened) || this.gaveUp) return;
    const slot = this.take();
    bytes.copy(this.slots[slot]);
    this.post({ to: 'filter', slot, run, pages, first, count: bytes.length / BLOOM_PAGE_STRIDE });
  }

  /**
   * Once run `run`'s whole filter was sent (`pageOk[i]` 0 for a page whose CRC
   * failed; about `expected` keys): where the walk hands each of the run's
   * leaf blocks whose CRC held, for the worker to check its keys against the
   * filter. Null when the worker reads the run itself.
   */
  leafBlocks(run: number, pageOk: Uint8Array, expected: number): LeafBlockSink | null {
    if (this.readsFiles) return null;
    this.send({ to: 'probe', run, pageOk, expected });
    return (buf, start, length) => {
      if (this.gaveUp) return;
      if (this.packing !== SLOTS && this.packed + 8 + length > SLOT_BYTES) this.postPacked();
      if (this.packing === SLOTS) {
        this.packing = this.take();
        this.packed = 0;
      }
      const slot = this.slots[this.packing];
      slot.writeUInt32LE(run, this.packed);
      slot.writeUInt32LE(length, this.packed + 4);
      buf.copy(slot, this.packed + 8, start, start + length);
      this.packed += 8 + length;
    };
  }

  /**
   * Once encrypted run `run`'s whole filter was sent opened (`pageOk`, `expected`
   * as for leafBlocks): where the walk records each of the run's keys by its
   * two bloom hashes, sent to the worker to check against the filter. Its
   * missing() is 0: the worker's verdict counts what the filter rules out.
   */
  keyHashes(run: number, pageOk: Uint8Array, expected: number): KeyProbe {
    this.send({ to: 'probe', run, pageOk, expected });
    return new PostedHashes(this, run);
  }

  /** Sends the first n pairs of `pairs` as keys of run `run` (PostedHashes). */
  sendHashes(run: number, pairs: Int32Array, n: number): void {
    if (this.gaveUp || n === 0) return;
    const slot = this.take();
    Buffer.from(pairs.buffer, pairs.byteOffset, n * 8).copy(this.slots[slot]);
    this.post({ to: 'hashes', slot, run, n });
  }

  /** Tells the worker everything is sent; resolves with its verdict, or null when it failed or was given up on (then verify starts over on one thread). */
  finish(): Promise<WorkerVerdict | null> {
    this.send({ to: 'done' });
    return this.gaveUp ? Promise.resolve(null) : this.verdict;
  }

  /** Ends the thread, whatever it is doing. */
  stop(): void {
    void this.thread.terminate();
  }

  /** The next slot of the ring but the one being packed, once the worker is done with it (or given up on). */
  private take(): number {
    let slot = this.nextSlot;
    if (slot === this.packing) slot = (slot + 1) % SLOTS;
    this.nextSlot = (slot + 1) % SLOTS;
    if (this.gaveUp || Atomics.load(this.states, slot) === FREE) return slot;
    // The worker may still be reading the segments itself (an encrypted store's runs are sent to it after that): busy, not hung.
    let seen = progress(this.states);
    let deadline = Date.now() + STALL_MS;
    while (Atomics.load(this.states, slot) !== FREE) {
      const now = Date.now();
      if (progress(this.states) !== seen) {
        seen = progress(this.states);
        deadline = now + STALL_MS;
      }
      if (hasFailed(this.states) || now > deadline) {
        this.gaveUp = true;
        break;
      }
      Atomics.wait(this.states, slot, POSTED, 100);
    }
    return slot;
  }

  /** Posts a slot the worker then owns. Messages reach the worker in order: leaf blocks packed before go first. */
  private post(m: ToWorker & { slot: number }): void {
    if (m.to !== 'leaves') this.postPacked();
    if (this.gaveUp) return;
    Atomics.store(this.states, m.slot, POSTED);
    this.thread.postMessage(m);
  }

  /** Sends a message that holds no slot, after the leaf blocks packed before it. */
  private send(m: ToWorker): void {
    this.postPacked();
    if (!this.gaveUp) this.thread.postMessage(m);
  }

  private postPacked(): void {
    if (this.packing === SLOTS) return;
    const slot = this.packing;
    this.packing = SLOTS;
    this.post({ to: 'leaves', slot, n: this.packed });
  }
}

/** Keys a PostedHashes holds before sending them: 8 bytes each. */
const HASHES_HELD = 64 * 1024;

/** An encrypted run's keys by their bloom hashes, sent to the worker HASHES_HELD at a time (VerifyWorker.keyHashes). */
class PostedHashes implements KeyProbe {
  private readonly pairs = new Int32Array(2 * HASHES_HELD);
  private held = 0;

  constructor(
    private readonly worker: VerifyWorker,
    private readonly run: number,
  ) {}

  add(h1: number, h2: number): void {
    if (this.held === HASHES_HELD) this.send();
    this.pairs[2 * this.held] = h1;
    this.pairs[2 * this.held + 1] = h2;
    this.held++;
  }

  /** Sends what is held; the worker counts the misses. */
  missing(): number {
    this.send();
    return 0;
  }

  private send(): void {
    this.worker.sendHashes(this.run, this.pairs, this.held);
    this.held = 0;
  }
}
