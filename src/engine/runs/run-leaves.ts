// Reading an index run's leaf blocks in order — they lie back to back from
// the run header to the first branch block — stepping over a damaged one to
// the next whose CRC (and in an encrypted run, tag) checks (docs/format.md
// "Reading past damage").
import type { VerifyProblem } from '../../api.js';
import { BLOCK_HEADER_BYTES, BLOCK_LEAF, BLOCK_TRAILER_BYTES } from '../../format/constants.js';
import type { IndexEntry } from '../../format/index-block.js';

const READAHEAD = 64 * 1024;
/** Bytes examined per read while searching past a damaged leaf. */
const SEARCH_WINDOW = 1024 * 1024;
const MIN_BLOCK_BYTES = BLOCK_HEADER_BYTES + BLOCK_TRAILER_BYTES;

/** What leafBlocks reads a run through (a RunReader is one). */
export interface LeafSource {
  readonly name: string;
  readonly header: { readonly leavesEnd: number };
  readAt(into: Buffer, length: number, position: number): number;
  /** The entries of the leaf block `block` read at file offset `offset`, or why it is unreadable. */
  openLeaf(block: Buffer, offset: number): IndexEntry[] | string;
}

/**
 * The entries of each leaf block from file offset `from` on, in order. A
 * leaf that fails its checks is told to onDamage and stepped over to the
 * next offset where a whole leaf block starts whose CRC checks and whose
 * entries parse (the end of the leaves when none does).
 */
export function* leafBlocks(run: LeafSource, from: number, onDamage: (damage: VerifyProblem) => void): Generator<IndexEntry[]> {
  const end = run.header.leavesEnd;
  let chunk = Buffer.alloc(0);
  let chunkAt = from;
  for (let pos = from; pos < end; ) {
    // Leaves lie back to back: read ahead and cut blocks out of the chunk.
    if (pos + BLOCK_HEADER_BYTES > chunkAt + chunk.length) {
      chunk = Buffer.allocUnsafe(Math.min(READAHEAD, end - pos));
      chunkAt = pos;
      chunk = chunk.subarray(0, run.readAt(chunk, chunk.length, pos));
    }
    const rel = pos - chunkAt;
    const length = chunk.length - rel >= BLOCK_HEADER_BYTES ? chunk.readUInt32LE(rel + 4) : 0;
    let entries: IndexEntry[] | string;
    if (chunk.length - rel < BLOCK_HEADER_BYTES) entries = 'leaf blocks run past end of file';
    else if (length < MIN_BLOCK_BYTES || pos + length > end) entries = `leaf block length ${length} impossible`;
    else if (rel + length <= chunk.length) entries = run.openLeaf(chunk.subarray(rel, rel + length), pos);
    else {
      const block = Buffer.allocUnsafe(length);
      entries = run.readAt(block, length, pos) === length ? run.openLeaf(block, pos) : 'leaf block truncated';
      chunk = Buffer.alloc(0);
      chunkAt = pos + length;
    }
    if (typeof entries !== 'string') {
      yield entries;
      pos += length;
      continue;
    }
    const next = nextLeaf(run, pos + 1, end);
    const upTo = next < end ? 'the next valid leaf' : 'the end of the leaves';
    onDamage({ file: run.name, offset: pos, kind: 'corrupt-index', message: `${entries} (${next - pos} bytes of leaf blocks unreadable up to ${upTo})` });
    pos = next;
    chunk = Buffer.alloc(0);
    chunkAt = pos;
  }
}

/** The first offset in [from, end) where a whole, checked leaf block starts, or `end`. */
function nextLeaf(run: LeafSource, from: number, end: number): number {
  const win = Buffer.allocUnsafe(Math.max(0, Math.min(SEARCH_WINDOW, end - from)));
  for (let base = from; base + MIN_BLOCK_BYTES <= end; ) {
    const n = run.readAt(win, Math.min(win.length, end - base), base);
    for (let q = 0; q + BLOCK_HEADER_BYTES <= n; q++) {
      if (win[q] !== BLOCK_LEAF || win[q + 1] !== 0) continue;
      const length = win.readUInt32LE(q + 4);
      if (length < MIN_BLOCK_BYTES || base + q + length > end) continue;
      let block = win.subarray(q, q + length);
      if (q + length > n) {
        block = Buffer.allocUnsafe(length);
        if (run.readAt(block, length, base + q) !== length) continue;
      }
      if (typeof run.openLeaf(block, base + q) !== 'string') return base + q;
    }
    if (n < BLOCK_HEADER_BYTES || base + n >= end) break;
    base += n - BLOCK_HEADER_BYTES + 1;
  }
  return end;
}
