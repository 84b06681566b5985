// What verify's two threads share (docs/design.md "Verify"): a ring of SLOTS
// buffers of SLOT_BYTES in shared memory, which the main thread fills with
// bytes it read through the io/ seam and the worker checks, and one state
// word a slot. A slot is FREE (the main thread may fill it) or POSTED (the
// worker owns it until it sets it FREE again and notifies). Messages on the
// worker's port say, in order, what each posted slot holds.
import type { FileVersion } from '../../format/file-header.js';
import type { PostedCodec } from './posted-codec.js';

/** Buffers in the ring: the main thread reads ahead of the worker by at most this many. */
export const SLOTS = 4;
/** Bytes a slot holds: a segment read, leaf blocks, or a window of filter pages. */
export const SLOT_BYTES = 2 * 1024 * 1024;

export const FREE = 0;
export const POSTED = 1;
/** The state word after the slots': set by the worker when it fails. */
const FAILED_WORD = SLOTS;
/** The word after it: counts the worker's reads of the store, so the main thread, waiting for a slot, tells a busy worker from a hung one. */
const PROGRESS_WORD = SLOTS + 1;

/** The worker failed: it says so, and wakes the main thread wherever it waits for a slot. */
export function markFailed(states: Int32Array): void {
  Atomics.store(states, FAILED_WORD, 1);
  for (let i = 0; i < SLOTS; i++) Atomics.notify(states, i);
}

export function hasFailed(states: Int32Array): boolean {
  return Atomics.load(states, FAILED_WORD) !== 0;
}

/** The worker read more of the store (it reads the segments itself before it takes any message). */
export function markProgress(states: Int32Array): void {
  Atomics.add(states, PROGRESS_WORD, 1);
}

/** How many times the worker has marked progress. */
export function progress(states: Int32Array): number {
  return Atomics.load(states, PROGRESS_WORD);
}

export interface Ring {
  bytes: SharedArrayBuffer;
  /** Int32 words: one a slot, then FAILED_WORD and PROGRESS_WORD. */
  states: SharedArrayBuffer;
}

export function newRing(): Ring {
  return { bytes: new SharedArrayBuffer(SLOTS * SLOT_BYTES), states: new SharedArrayBuffer(4 * (SLOTS + 2)) };
}

/** Slot `slot` of the ring's bytes. */
export function slotBuffer(ring: Ring, slot: number): Buffer {
  return Buffer.from(ring.bytes, slot * SLOT_BYTES, SLOT_BYTES);
}

/** A sealed segment the worker checks: its records run from FILE_HEADER_BYTES to `to`, in the format its header names (`as`). */
export interface SegmentJob {
  file: number;
  to: number;
  as: FileVersion;
}

/** What the worker is started with. */
export interface WorkerSetup {
  ring: Ring;
  /** The store's codec (posted-codec.ts: a KeyObject cannot be posted). */
  codec: PostedCodec;
  segments: SegmentJob[];
  /**
   * When verify runs on the real file system: the store it reads the sealed
   * segments and these runs of itself, through realFs. Null: the main thread
   * sends it all (ToWorker).
   */
  files: { dir: string; runs: number[] } | null;
}

/** What the main thread tells the worker, in order. */
export type ToWorker =
  /** Bytes [at, at + n) of sealed segment `file` are in `slot`: they follow the bytes sent of it before (from FILE_HEADER_BYTES on). */
  | { to: 'segment'; slot: number; file: number; at: number; n: number }
  /** `count` pages of run `run`'s filter of `pages` pages, from page `first`, are in `slot`; first 0 starts the run's check (again). */
  | { to: 'filter'; slot: number; run: number; pages: number; first: number; count: number }
  /** The filter of run `run` is whole; `pageOk[i]` 0 for a page whose CRC failed (its keys are not checked); about `expected` keys follow. */
  | { to: 'probe'; run: number; pageOk: Uint8Array; expected: number }
  /** Leaf blocks whose CRC held, in `slot`[0, n): each as u32 run, u32 length, then the block. */
  | { to: 'leaves'; slot: number; n: number }
  /** `n` keys of encrypted run `run` (opened by the main thread's walk), by their two bloom hashes: int32 pairs (h1, h2) in `slot`. */
  | { to: 'hashes'; slot: number; run: number; n: number }
  /** Nothing more comes: the worker answers with its WorkerVerdict and ends. */
  | { to: 'done' };

/** What the worker found. */
export interface WorkerVerdict {
  /** Per sealed segment file: -1 when every record's CRC and framing checked up to its `to`, else where the first that did not starts (or where the bytes sent of it stopped). */
  segments: Map<number, number>;
  /** Per run file: how many of its keys its bloom filter rules out. */
  runs: Map<number, number>;
}
