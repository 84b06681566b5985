// Index run blocks and header (docs/format.md "Index run"). Pure codecs.
import { ViewOf, crc32, readU64, setU64, writeU64 } from './bytes.js';
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

/** A leaf entry's fields after its key: what LEAF_ENTRY_FIXED_BYTES counts besides the u16 key length. */
export const LEAF_FIELDS_BYTES = LEAF_ENTRY_FIXED_BYTES - 2;

/**
 * Writes a leaf entry's u16 key length and key (its latin1 form: one char a
 * byte) at `pos`; returns the position after the key, where writeLeafFields
 * goes next. REQUIRES: 2 + key.length bytes of room.
 */
export function writeLeafKey(buf: Buffer, pos: number, key: string): number {
  const keyLength = key.length;
  buf[pos] = keyLength & 0xff;
  buf[pos + 1] = keyLength >>> 8;
  const keyStart = pos + 2;
  for (let i = 0; i < keyLength; i++) buf[keyStart + i] = key.charCodeAt(i);
  return keyStart + keyLength;
}

/**
 * Writes a leaf entry's fields after its key (docs/format.md "Index runs"):
 * kind u8, segment u32, offset u64, length u32, expiresAt u64. Returns the
 * position after them. REQUIRES: LEAF_FIELDS_BYTES (25) of room at `pos`, the entry's
 * u16 key length and key bytes already written before it.
 */
export function writeLeafFields(buf: Buffer, pos: number, kind: number, segment: number, offset: number, length: number, expiresAt: number): number {
  const view = leafViews.of(buf);
  buf[pos] = kind;
  view.setUint32(pos + 1, segment, true);
  setU64(view, pos + 5, offset);
  view.setUint32(pos + 13, length, true);
  setU64(view, pos + 17, expiresAt);
  return pos + LEAF_FIELDS_BYTES;
}

/** writeLeafFields's view of the buffer it last wrote to (a run writer's output). */
const leafViews = new ViewOf();

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
  return checkedBlock(buf);
}

/** The view of a block whose framing and CRC were checked already (decodeBlock does both). */
export function checkedBlock(buf: Buffer): BlockView {
  return { buf, type: buf[0], count: buf.readUInt16LE(2), entriesStart: BLOCK_HEADER_BYTES, entriesEnd: buf.length - BLOCK_TRAILER_BYTES };
}

/** A leaf entry decoded in place: its key is buf[keyStart, keyStart + keyLength) of the buffer it was read from. */
export interface LeafFields {
  keyStart: number;
  keyLength: number;
  kind: number;
  segment: number;
  offset: number;
  length: number;
  expiresAt: number;
}

/** readLeafEntry's failures (negative, so never a position). */
export const LEAF_PAST_END = -1;
export const LEAF_MALFORMED = -2;
export const LEAF_BAD_KIND = -3;
export const LEAF_OUT_OF_RANGE = -4;

/**
 * Decodes the leaf entry at buf[p, end) (docs/format.md "Index runs": u16 key
 * length, the key, then the fields writeLeafFields writes) into `into`.
 * Returns the position after it, or why it cannot be one: LEAF_PAST_END (no
 * room for the key length), LEAF_MALFORMED (a key length of 0, over
 * MAX_KEY_BYTES, or running past `end`), LEAF_BAD_KIND, LEAF_OUT_OF_RANGE (a
 * u64 not below 2^53). `into` is filled only on success.
 */
export function readLeafEntry(buf: Buffer, p: number, end: number, into: LeafFields): number {
  const next = leafEntryEnd(buf, p, end);
  if (next < 0) return next;
  const q = next - LEAF_FIELDS_BYTES;
  const k = q - p - 2;
  const kind = buf[q];
  if (kind !== KIND_PUT && kind !== KIND_DEL) return LEAF_BAD_KIND;
  const offset = readU64(buf, q + 5);
  const expiresAt = readU64(buf, q + 17);
  if (offset < 0 || expiresAt < 0) return LEAF_OUT_OF_RANGE;
  into.keyStart = p + 2;
  into.keyLength = k;
  into.kind = kind;
  into.segment = (buf[q + 1] | (buf[q + 2] << 8) | (buf[q + 3] << 16) | (buf[q + 4] << 24)) >>> 0;
  into.offset = offset;
  into.length = (buf[q + 13] | (buf[q + 14] << 8) | (buf[q + 15] << 16) | (buf[q + 16] << 24)) >>> 0;
  into.expiresAt = expiresAt;
  return next;
}

/**
 * Where the leaf entry at buf[p, end) ends, its fields not decoded: its key is
 * buf[p + 2, end - LEAF_FIELDS_BYTES). LEAF_PAST_END or LEAF_MALFORMED as
 * readLeafEntry says them.
 */
export function leafEntryEnd(buf: Buffer, p: number, end: number): number {
  if (p + 2 > end) return LEAF_PAST_END;
  const k = buf[p] | (buf[p + 1] << 8);
  if (k < 1 || k > MAX_KEY_BYTES || p + LEAF_ENTRY_FIXED_BYTES + k > end) return LEAF_MALFORMED;
  return p + LEAF_ENTRY_FIXED_BYTES + k;
}

/** Parses every leaf entry of a checked block. Returns a string on malformed content. */
export function parseLeafEntries(block: BlockView): IndexEntry[] | string {
  const { buf } = block;
  const out: IndexEntry[] = new Array(block.count);
  const e: LeafFields = { keyStart: 0, keyLength: 0, kind: 0, segment: 0, offset: 0, length: 0, expiresAt: 0 };
  let p = block.entriesStart;
  for (let i = 0; i < block.count; i++) {
    const next = readLeafEntry(buf, p, block.entriesEnd, e);
    if (next === LEAF_PAST_END) return 'leaf entry runs past its block';
    if (next === LEAF_MALFORMED) return 'malformed leaf entry';
    if (next === LEAF_BAD_KIND) return `unknown entry kind ${buf[p + 2 + buf.readUInt16LE(p)]}`;
    if (next === LEAF_OUT_OF_RANGE) return 'entry field out of range';
    out[i] = { key: buf.subarray(e.keyStart, e.keyStart + e.keyLength), kind: e.kind, segment: e.segment, offset: e.offset, length: e.length, expiresAt: e.expiresAt };
    p = next;
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
