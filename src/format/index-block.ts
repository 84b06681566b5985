// Index run blocks and header (docs/format.md "Index run"). Pure codecs.
import { crc32, readU64, writeU64 } from './bytes.js';
import {
  BLOCK_BRANCH,
  BLOCK_HEADER_BYTES,
  BLOCK_LEAF,
  BLOCK_TRAILER_BYTES,
  BRANCH_ENTRY_FIXED_BYTES,
  KIND_DEL,
  KIND_PUT,
  LEAF_ENTRY_FIXED_BYTES,
  MAGIC_RUN,
  MAX_KEY_BYTES,
  RUN_HEADER_BYTES,
} from './constants.js';
import { checkFileHeader, encodeFileHeader } from './file-header.js';

/** One leaf entry: where the newest record of `key` lives. */
export interface IndexEntry {
  key: Buffer;
  kind: number; // KIND_PUT or KIND_DEL
  segment: number;
  offset: number;
  length: number;
  expiresAt: number; // 0 = never
}

/**
 * Writes a leaf entry's fields after its key (docs/format.md "Index runs"):
 * kind u8, segment u32, offset u64, length u32, expiresAt u64. Returns the
 * position after them. REQUIRES: 25 bytes of room at `pos`, the entry's
 * u16 key length and key bytes already written before it.
 */
export function writeLeafFields(buf: Buffer, pos: number, kind: number, segment: number, offset: number, length: number, expiresAt: number): number {
  buf[pos] = kind;
  buf.writeUInt32LE(segment, pos + 1);
  writeU64(buf, offset, pos + 5);
  buf.writeUInt32LE(length, pos + 13);
  writeU64(buf, expiresAt, pos + 17);
  return pos + 25;
}

export function writeBranchEntry(buf: Buffer, pos: number, firstKey: Uint8Array, childOffset: number, childLength: number): number {
  buf.writeUInt16LE(firstKey.length, pos);
  buf.set(firstKey, pos + 2);
  const p = pos + 2 + firstKey.length;
  writeU64(buf, childOffset, p);
  buf.writeUInt32LE(childLength, p + 8);
  return p + 12;
}

/**
 * Fills in the header and CRC of a block whose entries were written at
 * buf[start + 8, end - 4). Returns the block length.
 */
export function sealBlock(buf: Buffer, start: number, end: number, type: number, count: number): number {
  const length = end - start;
  buf[start] = type;
  buf[start + 1] = 0;
  buf.writeUInt16LE(count, start + 2);
  buf.writeUInt32LE(length, start + 4);
  buf.writeUInt32LE(crc32(buf, start, end - BLOCK_TRAILER_BYTES), end - BLOCK_TRAILER_BYTES);
  return length;
}

/** A decoded, checked block: entries are parsed lazily by the cursors below. */
export interface BlockView {
  buf: Buffer;
  type: number;
  count: number;
  /** First entry byte and the end of entries (the trailer). */
  entriesStart: number;
  entriesEnd: number;
}

/** Checks a block's framing and CRC; returns a string describing the damage, or the view. */
export function decodeBlock(buf: Buffer, expectedType?: number): BlockView | string {
  if (buf.length < BLOCK_HEADER_BYTES + BLOCK_TRAILER_BYTES) return 'block shorter than its header';
  const type = buf[0];
  if (type !== BLOCK_LEAF && type !== BLOCK_BRANCH) return `unknown block type ${type}`;
  if (expectedType !== undefined && type !== expectedType) return `expected block type ${expectedType}, found ${type}`;
  const length = buf.readUInt32LE(4);
  if (length !== buf.length) return `block length ${length} does not match its location (${buf.length})`;
  if (crc32(buf, 0, length - BLOCK_TRAILER_BYTES) !== buf.readUInt32LE(length - BLOCK_TRAILER_BYTES)) {
    return 'block CRC mismatch';
  }
  return {
    buf,
    type,
    count: buf.readUInt16LE(2),
    entriesStart: BLOCK_HEADER_BYTES,
    entriesEnd: length - BLOCK_TRAILER_BYTES,
  };
}

/** Parses every leaf entry of a checked block. Returns a string on malformed content. */
export function parseLeafEntries(block: BlockView): IndexEntry[] | string {
  const { buf } = block;
  const out: IndexEntry[] = new Array(block.count);
  let p = block.entriesStart;
  for (let i = 0; i < block.count; i++) {
    if (p + 2 > block.entriesEnd) return 'leaf entry runs past its block';
    const k = buf.readUInt16LE(p);
    if (k < 1 || k > MAX_KEY_BYTES || p + LEAF_ENTRY_FIXED_BYTES + k > block.entriesEnd) return 'malformed leaf entry';
    const key = buf.subarray(p + 2, p + 2 + k);
    const q = p + 2 + k;
    const kind = buf[q];
    if (kind !== KIND_PUT && kind !== KIND_DEL) return `unknown entry kind ${kind}`;
    const offset = readU64(buf, q + 5);
    const expiresAt = readU64(buf, q + 17);
    if (offset < 0 || expiresAt < 0) return 'entry field out of range';
    out[i] = { key, kind, segment: buf.readUInt32LE(q + 1), offset, length: buf.readUInt32LE(q + 13), expiresAt };
    p = q + 25;
  }
  if (p !== block.entriesEnd) return 'leaf block has trailing bytes';
  return out;
}

export interface BranchEntry {
  firstKey: Buffer;
  offset: number;
  length: number;
}

export function parseBranchEntries(block: BlockView): BranchEntry[] | string {
  const { buf } = block;
  const out: BranchEntry[] = new Array(block.count);
  let p = block.entriesStart;
  for (let i = 0; i < block.count; i++) {
    if (p + 2 > block.entriesEnd) return 'branch entry runs past its block';
    const k = buf.readUInt16LE(p);
    if (k < 1 || k > MAX_KEY_BYTES || p + BRANCH_ENTRY_FIXED_BYTES + k > block.entriesEnd) return 'malformed branch entry';
    const q = p + 2 + k;
    const offset = readU64(buf, q);
    if (offset < 0) return 'child offset out of range';
    out[i] = { firstKey: buf.subarray(p + 2, q), offset, length: buf.readUInt32LE(q + 8) };
    p = q + 12;
  }
  if (p !== block.entriesEnd) return 'branch block has trailing bytes';
  if (block.count === 0) return 'empty branch block';
  return out;
}

/** The fields of a run header (docs/format.md "Run header"). */
export interface RunHeader {
  fileNumber: number;
  entries: number;
  rootOffset: number;
  rootLength: number;
  height: number;
  leavesEnd: number;
  bloomOffset: number;
  bloomPages: number;
}

export function encodeRunHeader(h: RunHeader): Buffer {
  const buf = Buffer.alloc(RUN_HEADER_BYTES);
  encodeFileHeader(MAGIC_RUN, h.fileNumber, buf);
  writeU64(buf, h.entries, 16);
  writeU64(buf, h.rootOffset, 24);
  buf.writeUInt32LE(h.rootLength, 32);
  buf.writeUInt16LE(h.height, 36);
  buf.writeUInt16LE(0, 38);
  writeU64(buf, h.leavesEnd, 40);
  writeU64(buf, h.bloomOffset, 48);
  buf.writeUInt32LE(h.bloomPages, 56);
  buf.writeUInt32LE(crc32(buf, 16, 60), 60);
  return buf;
}

/** Decodes a run header; a string says what is wrong (kind prefix "version:" for a newer format). */
export function decodeRunHeader(buf: Buffer, fileNumber: number): RunHeader | string {
  const problem = checkFileHeader(buf, MAGIC_RUN, fileNumber);
  if (problem) return problem.kind === 'newer-version' ? `version:${problem.message}` : problem.message;
  if (buf.length < RUN_HEADER_BYTES) return 'run header truncated';
  if (crc32(buf, 16, 60) !== buf.readUInt32LE(60)) return 'run header CRC mismatch';
  const h: RunHeader = {
    fileNumber,
    entries: readU64(buf, 16),
    rootOffset: readU64(buf, 24),
    rootLength: buf.readUInt32LE(32),
    height: buf.readUInt16LE(36),
    leavesEnd: readU64(buf, 40),
    bloomOffset: readU64(buf, 48),
    bloomPages: buf.readUInt32LE(56),
  };
  if (h.entries < 0 || h.rootOffset < 0 || h.leavesEnd < 0 || h.bloomOffset < 0) return 'run header field out of range';
  return h;
}
