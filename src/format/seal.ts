// Sealing: AES-256-GCM over the parts of an encrypted store (docs/format.md
// "Format version 2"): groups of records, index blocks, bloom pages, and
// small strings (a run's key range in the manifest). Pure: Buffers in and out;
// the data key comes from the caller (src/format/store-codec.ts DataKeys).
//
// Every seal takes a fresh random 96-bit nonce (docs/format.md "Nonces").
// An open checks the tag before it returns a byte: a caller never sees
// plaintext that was not authenticated, and gets null when the tag fails.
import { type KeyObject, createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { ViewOf, copyBytes, crc32, crcBegin, crcCopy, crcEnd, writeU64 } from './bytes.js';
import { COMMIT_VALUE_BYTES, KIND_COMMIT, KIND_DEL, KIND_PUT, KIND_SEAL, RECORD_HEADER_BYTES, SEAL_VALUE_BYTES } from './constants.js';

const CIPHER = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What a seal adds to what it seals: its nonce and tag (a sealed block's entries are this much shorter). */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/** A whole SEAL record: header and value (no key). */
export const SEAL_RECORD_BYTES = RECORD_HEADER_BYTES + SEAL_VALUE_BYTES;
/**
 * A writer of many records (a batch, an import, a compaction) starts a new
 * group when the next record would take the group past this; a single write
 * is a group of its own (docs/format.md "Records, version 2"). A writer's
 * choice, not a reader's limit: larger groups cost a bulk write fewer seals,
 * and a `get` authenticates its record's whole group.
 */
export const GROUP_TARGET_BYTES = 16 * 1024;

// Nonces are drawn from the system's random generator a pool at a time: one
// getrandom call per 512 seals instead of one per seal.
const pool = Buffer.allocUnsafe(NONCE_BYTES * 512);
let poolUsed = pool.length;

function nextNonce(out: Buffer, pos: number): void {
  if (poolUsed === pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  pool.copy(out, pos, poolUsed, poolUsed + NONCE_BYTES);
  // Never hand out the same pool bytes twice, even to a caller that keeps a reference.
  pool.fill(0, poolUsed, poolUsed + NONCE_BYTES);
  poolUsed += NONCE_BYTES;
}

/**
 * Seals `plain` with `aad`: returns nonce ‖ ciphertext ‖ tag. For small things
 * (a wrapped key, a manifest key range); groups, blocks and pages seal in place.
 */
export function sealBytes(plain: Uint8Array, aad: Uint8Array, key: KeyObject): Buffer {
  const out = Buffer.allocUnsafe(NONCE_BYTES + plain.length + TAG_BYTES);
  nextNonce(out, 0);
  const c = createCipheriv(CIPHER, key, out.subarray(0, NONCE_BYTES));
  c.setAAD(aad);
  const ct = c.update(plain);
  ct.copy(out, NONCE_BYTES);
  c.final();
  c.getAuthTag().copy(out, NONCE_BYTES + plain.length);
  return out;
}

/** Opens what sealBytes returned; null when the tag does not match (changed bytes, another key, other aad). */
export function openBytes(sealed: Uint8Array, aad: Uint8Array, key: KeyObject): Buffer | null {
  if (sealed.length < SEAL_OVERHEAD) return null;
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  return decrypt(key, sealed.subarray(0, NONCE_BYTES), aad, body, sealed.subarray(sealed.length - TAG_BYTES));
}

function decrypt(key: KeyObject, nonce: Uint8Array, aad: Uint8Array, body: Uint8Array, tag: Uint8Array): Buffer | null {
  const d = createDecipheriv(CIPHER, key, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  const plain = d.update(body);
  try {
    d.final();
  } catch {
    return null;
  }
  return plain;
}

// ---------------------------------------------------------------- groups

// A group's additional data and its bodies, back to back, are built in
// scratch buffers reused by every seal and open (a fresh buffer per group is
// an external allocation the garbage collector pays for); a short body is
// copied through DataViews four bytes a step, where a Buffer#copy call would
// cost more than its bytes.
let aadScratch = Buffer.allocUnsafeSlow(4096);
let bodyScratch = Buffer.allocUnsafeSlow(0);
/** From this many bytes a Buffer#copy call costs less than copying four bytes a step. */
const COPY_CALL_BYTES = 64;
const views = { buf: new ViewOf(), aad: new ViewOf(), bodies: new ViewOf(), from: new ViewOf(), to: new ViewOf() };
/** The additional data of one record: its bytes 4–19, and a COMMIT's count. */
const RECORD_AAD_BYTES = RECORD_HEADER_BYTES - 4;

/** What walkGroup found: views of the scratch buffers, valid until the next walk. */
interface WalkedGroup {
  aad: Buffer;
  /** The PUT and DEL bodies in order, back to back (empty when not gathered). */
  bodies: Buffer;
  /** Not gathered: how many bytes the bodies are. */
  bodyBytes?: number;
}

/**
 * Walks the records of a group at buf[from, to) once: builds their
 * additional data (docs/format.md "Records, version 2") and, unless
 * `gather` is false (the caller holds them: sealGroup's `bodies`), gathers
 * their bodies. Undefined when the records do not tile the range exactly or
 * include a SEAL (corruption the framing checks report; a seal or open
 * refuses it). A group of one body (a single write, a large value) is not
 * copied: its bodies are a view of buf.
 */
function walkGroup(buf: Buffer, sealOffset: number, from: number, to: number, gather = true): WalkedGroup | undefined {
  const src = views.buf.of(buf);
  writeU64(aadScratch, sealOffset, 0);
  let aad = views.aad.of(aadScratch);
  let a = 8;
  let records = 0;
  // The first body stays where it lies until a second one is found (a group of one body is never copied).
  let first = -1;
  let firstEnd = -1;
  let o = -1; // bytes gathered, once a second body was found
  for (let pos = from; pos < to; records++) {
    if (to - pos < RECORD_HEADER_BYTES) return undefined;
    const kind = src.getUint8(pos + 4);
    const body = pos + RECORD_HEADER_BYTES;
    const end = body + src.getUint16(pos + 6, true) + src.getUint32(pos + 8, true);
    if (end > to || kind === KIND_SEAL) return undefined;
    const n = kind === KIND_COMMIT ? RECORD_AAD_BYTES + COMMIT_VALUE_BYTES : RECORD_AAD_BYTES;
    if (aadScratch.length < a + n) {
      const grown = Buffer.allocUnsafeSlow(aadScratch.length * 2);
      aadScratch.copy(grown, 0, 0, a);
      aadScratch = grown;
      aad = views.aad.of(aadScratch);
    }
    // Header bytes 4–19 (and a COMMIT's count), a word at a time: a copyBytes call per record costs more than its 16 bytes.
    aad.setInt32(a, src.getInt32(pos + 4, true), true);
    aad.setInt32(a + 4, src.getInt32(pos + 8, true), true);
    aad.setInt32(a + 8, src.getInt32(pos + 12, true), true);
    aad.setInt32(a + 12, src.getInt32(pos + 16, true), true);
    if (n > RECORD_AAD_BYTES) aad.setInt32(a + 16, src.getInt32(pos + 20, true), true);
    a += n;
    if (!gather) {
      if (kind === KIND_PUT || kind === KIND_DEL) o = (o < 0 ? 0 : o) + end - body;
    } else if (kind === KIND_PUT || kind === KIND_DEL) {
      if (first < 0) {
        first = body;
        firstEnd = end;
      } else {
        if (o < 0) {
          if (bodyScratch.length < to - from) bodyScratch = Buffer.allocUnsafeSlow(to - from);
          o = gatherBody(buf, first, firstEnd, 0);
        }
        o = gatherBody(buf, body, end, o);
      }
    }
    pos = end;
  }
  if (records === 0) return undefined;
  const additional = aadScratch.subarray(0, a);
  if (!gather) return { aad: additional, bodies: buf.subarray(to, to), bodyBytes: o < 0 ? 0 : o };
  if (o < 0) return { aad: additional, bodies: first < 0 ? buf.subarray(to, to) : buf.subarray(first, firstEnd) };
  return { aad: additional, bodies: bodyScratch.subarray(0, o) };
}

/** Copies buf[start, end) to bodyScratch at `at`; returns where the next body goes. */
function gatherBody(buf: Buffer, start: number, end: number, at: number): number {
  if (end - start >= COPY_CALL_BYTES) buf.copy(bodyScratch, at, start, end);
  else copyBytes(views.buf.of(buf), start, end, views.bodies.of(bodyScratch), at);
  return at + end - start;
}

/** The end of the record at buf[pos] (REQUIRES: a record walkGroup accepted). */
function recordEnd(buf: Buffer, pos: number): number {
  return pos + RECORD_HEADER_BYTES + (buf[pos + 6] | (buf[pos + 7] << 8)) + buf.readUInt32LE(pos + 8);
}

/**
 * Seals a group in place. buf[sealPos, sealPos + SEAL_RECORD_BYTES) is room
 * for the SEAL record; the group's records, with plain bodies, fill
 * [sealPos + SEAL_RECORD_BYTES, groupEnd). Encrypts their PUT and DEL bodies,
 * writes the SEAL record, and sets every record's CRC over its stored bytes
 * as the ciphertext is copied into place (one pass: no CRC of plain bytes).
 * `sealOffset` is where the SEAL record will sit in its segment.
 * `bodies`, when given, holds the plain PUT and DEL bodies back to back (a
 * writer that laid them out there as it went: batch.ts): they are encrypted
 * from it, and the bodies' bytes in buf need not be written yet (they are not
 * read, only overwritten).
 * REQUIRES: whole records, none a SEAL (a writer's own layout).
 */
export function sealGroup(buf: Buffer, sealPos: number, groupEnd: number, sealOffset: number, key: KeyObject, bodies?: Buffer): void {
  const from = sealPos + SEAL_RECORD_BYTES;
  const group = walkGroup(buf, sealOffset, from, groupEnd, bodies === undefined);
  if (group === undefined || (bodies !== undefined && group.bodyBytes !== bodies.length)) throw new Error('sealGroup: the group is not whole records');
  // The SEAL record: header, then u32 group length, nonce, tag.
  buf.fill(0, sealPos + 4, sealPos + RECORD_HEADER_BYTES);
  buf[sealPos + 4] = KIND_SEAL;
  buf.writeUInt32LE(SEAL_VALUE_BYTES, sealPos + 8);
  const value = sealPos + RECORD_HEADER_BYTES;
  buf.writeUInt32LE(groupEnd - from, value);
  const nonce = value + 4;
  nextNonce(buf, nonce);
  const c = createCipheriv(CIPHER, key, buf.subarray(nonce, nonce + NONCE_BYTES));
  c.setAAD(group.aad);
  const ct = c.update(bodies ?? group.bodies);
  c.final();
  c.getAuthTag().copy(buf, nonce + NONCE_BYTES);
  buf.writeUInt32LE(crc32(buf, sealPos + 4, from), sealPos);
  const src = views.from.of(ct);
  const dst = views.to.of(buf);
  let o = 0;
  for (let pos = from; pos < groupEnd; ) {
    const body = pos + RECORD_HEADER_BYTES;
    const end = recordEnd(buf, pos);
    const kind = buf[pos + 4];
    if (kind === KIND_PUT || kind === KIND_DEL) {
      crcBegin(buf, pos + 4, body);
      crcCopy(src, o, o + end - body, dst, body);
      crcEnd(dst, pos);
      o += end - body;
    } else {
      buf.writeUInt32LE(crc32(buf, pos + 4, end), pos);
    }
    pos = end;
  }
}

/** The group length a SEAL record at buf[sealPos] names (REQUIRES: a decoded SEAL record). */
export function groupLength(buf: Buffer, sealPos: number): number {
  return buf.readUInt32LE(sealPos + RECORD_HEADER_BYTES);
}

/**
 * Opens the group whose SEAL record is at buf[sealPos] (its records follow
 * it, whole, in buf): checks the tag and returns a copy of the group's
 * records, SEAL excluded, with their bodies decrypted — the same layout, so a
 * record at buf[p] is at copy[p - sealPos - SEAL_RECORD_BYTES]. Its CRCs are
 * those of the stored bytes: check them on buf, decode the copy without.
 * Null when the tag fails or the records do not tile the group.
 */
export function openGroup(buf: Buffer, sealPos: number, sealOffset: number, key: KeyObject): Buffer | null {
  const plain = groupBodies(buf, sealPos, sealOffset, key);
  if (plain === null) return null;
  const from = sealPos + SEAL_RECORD_BYTES;
  const to = from + groupLength(buf, sealPos);
  const out = Buffer.from(buf.subarray(from, to));
  const src = views.from.of(plain);
  const dst = views.to.of(out);
  let o = 0;
  for (let pos = 0; pos < out.length; ) {
    const body = pos + RECORD_HEADER_BYTES;
    const end = recordEnd(out, pos);
    const kind = out[pos + 4];
    if (kind === KIND_PUT || kind === KIND_DEL) {
      if (end - body >= COPY_CALL_BYTES) plain.copy(out, body, o, o + end - body);
      else copyBytes(src, o, o + end - body, dst, body);
      o += end - body;
    }
    pos = end;
  }
  return out;
}

/**
 * Whether the tag of the group whose SEAL record is at buf[sealPos] holds
 * (its records follow it, whole, in buf): openGroup's check without its
 * result, for a reader that needs no plaintext (verify's worker thread). The
 * bodies are deciphered and dropped: no copy of the group is made. False when
 * the tag fails or the records do not tile the group.
 */
export function groupTagHolds(buf: Buffer, sealPos: number, sealOffset: number, key: KeyObject): boolean {
  return groupBodies(buf, sealPos, sealOffset, key) !== null;
}

/** The PUT and DEL bodies of the group whose SEAL record is at buf[sealPos], deciphered back to back, once its tag held; null when it fails or the records do not tile the group. */
function groupBodies(buf: Buffer, sealPos: number, sealOffset: number, key: KeyObject): Buffer | null {
  const from = sealPos + SEAL_RECORD_BYTES;
  const to = from + groupLength(buf, sealPos);
  if (to > buf.length) return null;
  const group = walkGroup(buf, sealOffset, from, to);
  if (group === undefined) return null;
  const value = sealPos + RECORD_HEADER_BYTES;
  return decrypt(key, buf.subarray(value + 4, value + 4 + NONCE_BYTES), group.aad, group.bodies, buf.subarray(value + 4 + NONCE_BYTES, value + SEAL_VALUE_BYTES));
}

// ---------------------------------------------------------------- index blocks

const BLOCK_HEAD = 8;

function blockAad(block: Buffer, fileOffset: number): Buffer {
  const aad = Buffer.allocUnsafe(BLOCK_HEAD + 8);
  block.copy(aad, 0, 0, BLOCK_HEAD);
  writeU64(aad, fileOffset, BLOCK_HEAD);
  return aad;
}

/**
 * Seals an index block in place (docs/format.md "Index runs, version 2").
 * `block` is the whole block, L bytes: its 8-byte header (L included), room
 * for the nonce, the plain entries, room for the tag, room for the CRC.
 * `fileOffset` is where the block sits in its run.
 */
export function sealBlock(block: Buffer, fileOffset: number, key: KeyObject): void {
  const L = block.length;
  const entries = block.subarray(BLOCK_HEAD + NONCE_BYTES, L - TAG_BYTES - 4);
  nextNonce(block, BLOCK_HEAD);
  const c = createCipheriv(CIPHER, key, block.subarray(BLOCK_HEAD, BLOCK_HEAD + NONCE_BYTES));
  c.setAAD(blockAad(block, fileOffset));
  c.update(entries).copy(block, BLOCK_HEAD + NONCE_BYTES);
  c.final();
  c.getAuthTag().copy(block, L - TAG_BYTES - 4);
  block.writeUInt32LE(crc32(block, 0, L - 4), L - 4);
}

/** The plain entries of a sealed block (the whole block, L bytes, CRC already checked); null when its tag fails. */
export function openBlock(block: Buffer, fileOffset: number, key: KeyObject): Buffer | null {
  const L = block.length;
  if (L < BLOCK_HEAD + SEAL_OVERHEAD + 4) return null;
  return decrypt(
    key,
    block.subarray(BLOCK_HEAD, BLOCK_HEAD + NONCE_BYTES),
    blockAad(block, fileOffset),
    block.subarray(BLOCK_HEAD + NONCE_BYTES, L - TAG_BYTES - 4),
    block.subarray(L - TAG_BYTES - 4, L - 4),
  );
}

// ---------------------------------------------------------------- bloom pages

/** A sealed bloom page: nonce, the page encrypted, tag, CRC. */
export const SEALED_PAGE_STRIDE = NONCE_BYTES + 4096 + TAG_BYTES + 4;

function pageAad(index: number): Buffer {
  const aad = Buffer.allocUnsafe(4);
  aad.writeUInt32LE(index, 0);
  return aad;
}

/** Seals bloom page `index` (4096 bytes) into out[pos, pos + SEALED_PAGE_STRIDE). */
export function sealPage(page: Buffer, index: number, key: KeyObject, out: Buffer, pos: number): void {
  const sealed = sealBytes(page, pageAad(index), key);
  sealed.copy(out, pos);
  out.writeUInt32LE(crc32(out, pos, pos + sealed.length), pos + sealed.length);
}

/** The 4096 bytes of sealed page `index` (stored: SEALED_PAGE_STRIDE bytes, CRC already checked); null when its tag fails. */
export function openPage(stored: Buffer, index: number, key: KeyObject): Buffer | null {
  return openBytes(stored.subarray(0, SEALED_PAGE_STRIDE - 4), pageAad(index), key);
}
