// Index run blocks and header (docs/format.md "Index run"). Pure codecs.
import { ViewOf, crc32, readU64, setU64, writeU64 } from './bytes.js';
import {
  BLOCK_BRANCH,
  BLOCK_HEADER_BYTES,
  BLOCK_LEAF,
  BLOCK_TRAILER_BYTES,
  BLOOM_PAGE_STRIDE,
  BRANCH_ENTRY_FIXED_BYTES,
  KIND_DEL,
  KIND_PUT,
  LEAF_ENTRY_FIXED_BYTES,
  MAGIC_RUN,
  MAX_KEY_BYTES,
  RUN_HEADER_BYTES,
} from './constants.js';
import { type FileVersion, V1_FILE, checkFileHeader, encodeFileHeader, fileVersion } from './file-header.js';
import { SEALED_PAGE_STRIDE, SEAL_OVERHEAD } from './seal.js';

/** One leaf entry: where the newest record of `key` lives. */
export interface IndexEntry {
  key: Buffer;
  kind: number; // KIND_PUT or KIND_DEL
  segment: number;
  offset: number;
  length: number;
  expiresAt: number; // 0 = never
  /** Offset of the SEAL record of the record's group in its segment; 0: in no group (a run that is not encrypted). */
  group: number;
  /** The SEAL record and its group's bytes; 0: none. */
  groupLength: number;
}

/** A leaf entry's fields after its key: what LEAF_ENTRY_FIXED_BYTES counts besides the u16 key length. */
export const LEAF_FIELDS_BYTES = LEAF_ENTRY_FIXED_BYTES - 2;
/** An encrypted run's leaf entry fields: those of version 1, then u64 group offset and u32 group length. */
const GROUPED_LEAF_FIELDS_BYTES = LEAF_FIELDS_BYTES + 12;

/**
 * How a run lays out its bytes (docs/format.md "Index runs, version 2"): as
 * version 1 (plain and compressed-only runs), or sealed (an encrypted run).
 */
export interface RunLayout {
  /** Blocks sealed, bloom pages sealed, leaf entries carry the group. */
  readonly sealed: boolean;
  /** Bytes of a leaf entry after its key (LEAF_FIELDS_BYTES, or 37 with the group). */
  readonly leafFields: number;
  /** Bytes before a block's entries: its header, and the nonce of a sealed one. */
  readonly entriesStart: number;
  /** Bytes of a block besides its header and entries: the CRC, and the tag of a sealed one. */
  readonly blockTrailer: number;
  /** Bytes a bloom page takes in the file. */
  readonly pageStride: number;
}

const PLAIN_RUN: RunLayout = Object.freeze({
  sealed: false,
  leafFields: LEAF_FIELDS_BYTES,
  entriesStart: BLOCK_HEADER_BYTES,
  blockTrailer: BLOCK_TRAILER_BYTES,
  pageStride: BLOOM_PAGE_STRIDE,
});

/** A sealed block's nonce comes before its entries, its tag after them (docs/format.md "Blocks of an encrypted run"). */
const BLOCK_NONCE_BYTES = 12;

const SEALED_RUN: RunLayout = Object.freeze({
  sealed: true,
  leafFields: GROUPED_LEAF_FIELDS_BYTES,
  entriesStart: BLOCK_HEADER_BYTES + BLOCK_NONCE_BYTES,
  blockTrailer: BLOCK_TRAILER_BYTES + SEAL_OVERHEAD - BLOCK_NONCE_BYTES,
  pageStride: SEALED_PAGE_STRIDE,
});

/** The layout of a run whose header names data key `keyId` (0: not encrypted). */
export function runLayout(keyId: number): RunLayout {
  return keyId === 0 ? PLAIN_RUN : SEALED_RUN;
}

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

/**
 * Writes an encrypted run's leaf entry group fields (u64 group offset, u32
 * group length) at `pos`, right after writeLeafFields's; returns the position
 * after them. REQUIRES: 12 bytes of room.
 */
export function writeLeafGroup(buf: Buffer, pos: number, group: number, groupLength: number): number {
  const view = leafViews.of(buf);
  setU64(view, pos, group);
  view.setUint32(pos + 8, groupLength, true);
  return pos + 12;
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
  const length = writeBlockHeader(buf, start, end, type, count);
  buf.writeUInt32LE(crc32(buf, start, end - BLOCK_TRAILER_BYTES), end - BLOCK_TRAILER_BYTES);
  return length;
}

/** Writes the 8-byte header of the block at buf[start, end) (a sealed block's before it is sealed: they are its additional data). Returns its length. */
export function writeBlockHeader(buf: Buffer, start: number, end: number, type: number, count: number): number {
  const length = end - start;
  buf[start] = type;
  buf[start + 1] = 0;
  buf.writeUInt16LE(count, start + 2);
  buf.writeUInt32LE(length, start + 4);
  return length;
}

/** A decoded, checked block: entries are parsed lazily by the cursors below. */
export interface BlockView {
  /** The block, or for a sealed block its entries opened (then entriesStart is 0). */
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

/** The view of a sealed block (framing and CRC checked) over `entries`, what openBlock returned for it. */
export function openedBlock(block: Buffer, entries: Buffer): BlockView {
  return { buf: entries, type: block[0], count: block.readUInt16LE(2), entriesStart: 0, entriesEnd: entries.length };
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
  group: number;
  groupLength: number;
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
 * u64 not below 2^53). `into` is filled only on success. `fields` is the
 * run's RunLayout.leafFields: with the group fields, they are decoded too
 * (else group and groupLength are 0).
 */
export function readLeafEntry(buf: Buffer, p: number, end: number, into: LeafFields, fields = LEAF_FIELDS_BYTES): number {
  const next = leafEntryEnd(buf, p, end, fields);
  if (next < 0) return next;
  const q = next - fields;
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
  if (fields === LEAF_FIELDS_BYTES) {
    into.group = 0;
    into.groupLength = 0;
    return next;
  }
  const group = readU64(buf, q + 25);
  if (group < 0) return LEAF_OUT_OF_RANGE;
  into.group = group;
  into.groupLength = (buf[q + 33] | (buf[q + 34] << 8) | (buf[q + 35] << 16) | (buf[q + 36] << 24)) >>> 0;
  return next;
}

/**
 * Where the leaf entry at buf[p, end) ends, its fields not decoded: its key is
 * buf[p + 2, end - fields) (fields: the run's RunLayout.leafFields).
 * LEAF_PAST_END or LEAF_MALFORMED as readLeafEntry says them.
 */
export function leafEntryEnd(buf: Buffer, p: number, end: number, fields = LEAF_FIELDS_BYTES): number {
  if (p + 2 > end) return LEAF_PAST_END;
  const k = buf[p] | (buf[p + 1] << 8);
  if (k < 1 || k > MAX_KEY_BYTES || p + 2 + fields + k > end) return LEAF_MALFORMED;
  return p + 2 + fields + k;
}

/** Parses every leaf entry of a checked (and, sealed, opened) block of a run with `fields` (RunLayout.leafFields). Returns a string on malformed content. */
export function parseLeafEntries(block: BlockView, fields = LEAF_FIELDS_BYTES): IndexEntry[] | string {
  const { buf } = block;
  const out: IndexEntry[] = new Array(block.count);
  const e: LeafFields = { keyStart: 0, keyLength: 0, kind: 0, segment: 0, offset: 0, length: 0, expiresAt: 0, group: 0, groupLength: 0 };
  let p = block.entriesStart;
  for (let i = 0; i < block.count; i++) {
    const next = readLeafEntry(buf, p, block.entriesEnd, e, fields);
    if (next === LEAF_PAST_END) return 'leaf entry runs past its block';
    if (next === LEAF_MALFORMED) return 'malformed leaf entry';
    if (next === LEAF_BAD_KIND) return `unknown entry kind ${buf[p + 2 + buf.readUInt16LE(p)]}`;
    if (next === LEAF_OUT_OF_RANGE) return 'entry field out of range';
    out[i] = {
      key: buf.subarray(e.keyStart, e.keyStart + e.keyLength),
      kind: e.kind,
      segment: e.segment,
      offset: e.offset,
      length: e.length,
      expiresAt: e.expiresAt,
      group: e.group,
      groupLength: e.groupLength,
    };
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
  /** Its file header's format version and data key id (0: not encrypted; runLayout says what that changes). */
  version: FileVersion;
  entries: number;
  rootOffset: number;
  rootLength: number;
  height: number;
  leavesEnd: number;
  bloomOffset: number;
  bloomPages: number;
}

export function encodeRunHeader(h: Omit<RunHeader, 'version'>, as: FileVersion = V1_FILE): Buffer {
  const buf = Buffer.alloc(RUN_HEADER_BYTES);
  encodeFileHeader(MAGIC_RUN, h.fileNumber, buf, as);
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
    version: fileVersion(buf),
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
