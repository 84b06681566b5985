// Sealing: AES-256-GCM over the parts of an encrypted store (docs/format.md
// "Format version 2"): groups of records, index blocks, bloom pages, and
// small strings (a run's key range in the manifest). Pure: Buffers in and out;
// the data key comes from the caller (src/format/store-codec.ts DataKeys).
//
// Every seal takes a fresh random 96-bit nonce (docs/format.md "Nonces").
// An open checks the tag before it returns a byte: a caller never sees
// plaintext that was not authenticated, and gets null when the tag fails.
import { type KeyObject, createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { ViewOf, copyBytes, crc32, writeU64 } from './bytes.js';
import { COMMIT_VALUE_BYTES, KIND_COMMIT, KIND_DEL, KIND_PUT, KIND_SEAL, RECORD_HEADER_BYTES, SEAL_VALUE_BYTES } from './constants.js';

const CIPHER = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What a seal adds to what it seals: its nonce and tag (a sealed block's entries are this much shorter). */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/** A whole SEAL record: header and value (no key). */
export const SEAL_RECORD_BYTES = RECORD_HEADER_BYTES + SEAL_VALUE_BYTES;
/** A writer starts a new group when the next record would take the group past this (docs/format.md "Records, version 2"). */
export const GROUP_TARGET_BYTES = 4096;

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

/**
 * The records of a group at buf[from, to): their additional data (docs/format.md
 * "Records, version 2") and where their bodies are. Returns undefined when the
 * records do not tile the range exactly or include a SEAL (corruption the
 * framing checks report; a seal or open refuses it).
 */
function groupLayout(buf: Buffer, sealOffset: number, from: number, to: number): { aad: Buffer; bodies: number[]; bodyBytes: number } | undefined {
  const headers: number[] = [];
  const bodies: number[] = []; // start, end pairs
  let aadBytes = 8;
  let bodyBytes = 0;
  let pos = from;
  while (pos < to) {
    if (to - pos < RECORD_HEADER_BYTES) return undefined;
    const kind = buf[pos + 4];
    const keyLength = buf[pos + 6] | (buf[pos + 7] << 8);
    const valueLength = buf.readUInt32LE(pos + 8);
    const end = pos + RECORD_HEADER_BYTES + keyLength + valueLength;
    if (end > to || kind === KIND_SEAL) return undefined;
    headers.push(pos);
    aadBytes += 16 + (kind === KIND_COMMIT ? COMMIT_VALUE_BYTES : 0);
    if (kind === KIND_PUT || kind === KIND_DEL) {
      bodies.push(pos + RECORD_HEADER_BYTES, end);
      bodyBytes += end - pos - RECORD_HEADER_BYTES;
    }
    pos = end;
  }
  if (headers.length === 0) return undefined;
  const aad = Buffer.allocUnsafe(aadBytes);
  writeU64(aad, sealOffset, 0);
  let a = 8;
  for (const h of headers) {
    // Bytes 4–19 (and a COMMIT's count): a loop, where a Buffer#copy call per record would cost more.
    const n = buf[h + 4] === KIND_COMMIT ? RECORD_HEADER_BYTES - 4 + COMMIT_VALUE_BYTES : RECORD_HEADER_BYTES - 4;
    for (let i = 0; i < n; i++) aad[a + i] = buf[h + 4 + i];
    a += n;
  }
  return { aad, bodies, bodyBytes };
}

// A group's bodies are gathered into one scratch buffer, reused (a fresh
// 4 KiB buffer per group is an external allocation the garbage collector
// pays for); a short body is copied through DataViews four bytes a step,
// where a Buffer#copy call would cost more than its bytes.
let scratch = Buffer.allocUnsafeSlow(GROUP_TARGET_BYTES * 2);
/** From this many bytes a Buffer#copy call costs less than copying four bytes a step. */
const COPY_CALL_BYTES = 64;
const views = { from: new ViewOf(), to: new ViewOf() };

/** The bodies, back to back: a view of the scratch buffer, valid until the next gather. */
function gather(buf: Buffer, bodies: number[], bodyBytes: number): Buffer {
  if (scratch.length < bodyBytes) scratch = Buffer.allocUnsafeSlow(bodyBytes);
  const src = views.from.of(buf);
  const dst = views.to.of(scratch);
  let o = 0;
  for (let i = 0; i < bodies.length; i += 2) {
    const n = bodies[i + 1] - bodies[i];
    if (n >= COPY_CALL_BYTES) buf.copy(scratch, o, bodies[i], bodies[i + 1]);
    else copyBytes(src, bodies[i], bodies[i + 1], dst, o);
    o += n;
  }
  return scratch.subarray(0, bodyBytes);
}

function scatter(from: Buffer, buf: Buffer, bodies: number[]): void {
  const src = views.from.of(from);
  const dst = views.to.of(buf);
  let o = 0;
  for (let i = 0; i < bodies.length; i += 2) {
    const n = bodies[i + 1] - bodies[i];
    if (n >= COPY_CALL_BYTES) from.copy(buf, bodies[i], o, o + n);
    else copyBytes(src, o, o + n, dst, bodies[i]);
    o += n;
  }
}

function setCrc(buf: Buffer, pos: number, end: number): void {
  buf.writeUInt32LE(crc32(buf, pos + 4, end), pos);
}

/**
 * Seals a group in place. buf[sealPos, sealPos + SEAL_RECORD_BYTES) is room
 * for the SEAL record; the group's records, with plain bodies, fill
 * [sealPos + SEAL_RECORD_BYTES, groupEnd). Encrypts their PUT and DEL bodies,
 * writes the SEAL record, and sets every record's CRC over its stored bytes.
 * `sealOffset` is where the SEAL record will sit in its segment.
 * REQUIRES: whole records, none a SEAL (a writer's own layout).
 */
export function sealGroup(buf: Buffer, sealPos: number, groupEnd: number, sealOffset: number, key: KeyObject): void {
  const from = sealPos + SEAL_RECORD_BYTES;
  const layout = groupLayout(buf, sealOffset, from, groupEnd);
  if (layout === undefined) throw new Error('sealGroup: the group is not whole records');
  // The SEAL record: header, then u32 group length, nonce, tag.
  buf.fill(0, sealPos + 4, sealPos + RECORD_HEADER_BYTES);
  buf[sealPos + 4] = KIND_SEAL;
  buf.writeUInt32LE(SEAL_VALUE_BYTES, sealPos + 8);
  const value = sealPos + RECORD_HEADER_BYTES;
  buf.writeUInt32LE(groupEnd - from, value);
  const nonce = value + 4;
  nextNonce(buf, nonce);
  const c = createCipheriv(CIPHER, key, buf.subarray(nonce, nonce + NONCE_BYTES));
  c.setAAD(layout.aad);
  const ct = c.update(gather(buf, layout.bodies, layout.bodyBytes));
  c.final();
  scatter(ct, buf, layout.bodies);
  c.getAuthTag().copy(buf, nonce + NONCE_BYTES);
  setCrc(buf, sealPos, from);
  for (let pos = from; pos < groupEnd; ) {
    const end = pos + RECORD_HEADER_BYTES + (buf[pos + 6] | (buf[pos + 7] << 8)) + buf.readUInt32LE(pos + 8);
    setCrc(buf, pos, end);
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
  const from = sealPos + SEAL_RECORD_BYTES;
  const to = from + groupLength(buf, sealPos);
  if (to > buf.length) return null;
  const layout = groupLayout(buf, sealOffset, from, to);
  if (layout === undefined) return null;
  const value = sealPos + RECORD_HEADER_BYTES;
  const plain = decrypt(
    key,
    buf.subarray(value + 4, value + 4 + NONCE_BYTES),
    layout.aad,
    gather(buf, layout.bodies, layout.bodyBytes),
    buf.subarray(value + 4 + NONCE_BYTES, value + SEAL_VALUE_BYTES),
  );
  if (plain === null) return null;
  const out = Buffer.from(buf.subarray(from, to));
  scatter(
    plain,
    out,
    layout.bodies.map((p) => p - from),
  );
  return out;
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
