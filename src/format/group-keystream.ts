// Parts of sealed groups' bodies, decrypted without checking their tags, in
// bulk (docs/format.md "Records, version 2"; docs/design.md "Verify"): for
// verify's main thread, which needs the records' keys for its index check
// while its worker thread opens every group and checks its tag. AES-256-GCM
// encrypts a group's bodies in counter mode (NIST SP 800-38D: with a 96-bit
// nonce, body block i is XORed with AES(key, nonce ‖ u32be(i + 2))), so the
// keystream for any bytes of any number of groups comes from one AES-256-ECB
// call over their counter blocks, where opening each group costs a GCM
// message of its own. Pure: Buffers in and out.
//
// UNAUTHENTICATED: what this returns is plaintext only once every tag of the
// groups it was read from has been checked. Its one caller, verify, uses it
// for key hashes, and discards them unless the worker found every tag good.
import { type KeyObject, createCipheriv } from 'node:crypto';
import { RECORD_HEADER_BYTES } from './constants.js';

const BLOCK = 16;
const NONCE_BYTES = 12;
/** The counter of a body's first block (1 is the tag's). */
const FIRST_COUNTER = 2;
/** Where a SEAL record's nonce is: after its header and its u32 group length. */
export const SEAL_NONCE_AT = RECORD_HEADER_BYTES + 4;

/**
 * Collects byte ranges of groups' bodies, then decrypts them all at once:
 * want() each range (its ciphertext copied in), then run(), then plain() of
 * each range once. Reused after run().
 */
export class GroupKeystream {
  private counters: Buffer = Buffer.allocUnsafe(BLOCK * 4096);
  private view = new DataView(this.counters.buffer, this.counters.byteOffset, this.counters.length);
  private blocks = 0;
  private text: Buffer = Buffer.allocUnsafe(BLOCK * 4096);
  /** The last run()'s keystream. */
  private stream: Buffer = Buffer.alloc(0);
  /** The nonce of the group want() reads from, as three u32 (little-endian) words. */
  private nonce0 = 0;
  private nonce1 = 0;
  private nonce2 = 0;

  constructor(private readonly key: KeyObject) {}

  /** Starts the ranges of the group whose nonce is at buf[noncePos] (SEAL_NONCE_AT past its SEAL record). */
  group(buf: Buffer, noncePos: number): void {
    this.nonce0 = buf.readUInt32LE(noncePos);
    this.nonce1 = buf.readUInt32LE(noncePos + 4);
    this.nonce2 = buf.readUInt32LE(noncePos + 8);
  }

  /**
   * Wants the `length` body bytes at `bodyOffset` of the group last started,
   * whose ciphertext is cipher[from, from + length). Returns where run()'s
   * result holds their plaintext.
   */
  want(bodyOffset: number, length: number, cipher: Buffer, from: number): number {
    const first = Math.floor(bodyOffset / BLOCK);
    const count = Math.floor((bodyOffset + length - 1) / BLOCK) - first + 1;
    const room = (this.blocks + count) * BLOCK;
    if (this.counters.length < room) this.grow(room);
    const view = this.view;
    let o = this.blocks * BLOCK;
    const at = o + (bodyOffset - first * BLOCK);
    for (let i = 0; i < count; i++, o += BLOCK) {
      view.setUint32(o, this.nonce0, true);
      view.setUint32(o + 4, this.nonce1, true);
      view.setUint32(o + 8, this.nonce2, true);
      view.setUint32(o + NONCE_BYTES, (first + i + FIRST_COUNTER) >>> 0, false);
    }
    // A key is a few bytes: a loop, where a Buffer#copy call would cost more.
    const text = this.text;
    for (let i = 0; i < length; i++) text[at + i] = cipher[from + i];
    this.blocks += count;
    return at;
  }

  /**
   * Makes the keystream of every range wanted since the last run(); then
   * plain(at, length) decrypts each, where want() said, in the buffer it
   * returns (valid until the next want()).
   */
  run(): void {
    const n = this.blocks * BLOCK;
    this.blocks = 0;
    if (n === 0) return;
    const ecb = createCipheriv('aes-256-ecb', this.key, null);
    ecb.setAutoPadding(false);
    this.stream = ecb.update(this.counters.subarray(0, n));
  }

  /** The plaintext of a range wanted before the last run(), at [at, at + length) of the buffer returned. */
  plain(at: number, length: number): Buffer {
    const text = this.text;
    const stream = this.stream;
    for (let i = at; i < at + length; i++) text[i] ^= stream[i];
    return text;
  }

  private grow(room: number): void {
    const keep = this.blocks * BLOCK;
    this.counters = grown(this.counters, room, keep);
    this.view = new DataView(this.counters.buffer, this.counters.byteOffset, this.counters.length);
    this.text = grown(this.text, room, keep);
  }
}

function grown(buf: Buffer, room: number, keep: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(room, buf.length * 2));
  buf.copy(next, 0, 0, keep);
  return next;
}
