// Laying records out in sealed groups for an encrypted segment (docs/format.md
// "Records, version 2"): room for a SEAL record, then records while the group
// stays within GROUP_TARGET_BYTES (a larger record has a group of its own; a
// single write is one, sealedAlone),
// then one seal per group. A group's seal takes the SEAL's absolute offset in
// its segment, so groups laid out before their place is known (a batch built
// before the lock) are sealed when it is.
import type { KeyObject } from 'node:crypto';
import { RECORD_HEADER_BYTES } from '../../format/constants.js';
import { GROUP_TARGET_BYTES, SEAL_RECORD_BYTES, sealGroup } from '../../format/seal.js';

/** One record (plain body, CRC not needed) as a group of its own: a SEAL record then the record, sealed for offset `sealOffset`. */
export function sealedAlone(record: Buffer, sealOffset: number, key: KeyObject): Buffer {
  const out = Buffer.allocUnsafe(SEAL_RECORD_BYTES + record.length);
  record.copy(out, SEAL_RECORD_BYTES);
  sealGroup(out, 0, out.length, sealOffset, key);
  return out;
}

/**
 * A group laid out and not sealed yet: buf[sealPos, end), at `offset` from
 * the start of the records being laid out; its records' plain bodies, back
 * to back, are bodies[bodiesStart, bodiesEnd) (their place in buf is filled
 * when it is sealed).
 */
interface LaidOutGroup {
  buf: Buffer;
  sealPos: number;
  end: number;
  offset: number;
  bodies: Buffer;
  bodiesStart: number;
  bodiesEnd: number;
}

/**
 * The groups of records being laid out into chunks (a batch: batch.ts). The
 * layout reserves SEAL_RECORD_BYTES before a group's first record; a group
 * never spans two chunks. Offsets are relative to the first byte laid out.
 * The writer lays a record's header in its chunk and its plain body (key,
 * value) in a bodies buffer of its own, where the group's bodies lie back to
 * back as the cipher takes them: sealing encrypts them from there into the
 * chunk, with no gathering of bodies from between headers.
 */
export class GroupLayout {
  private open: LaidOutGroup | undefined;
  /** Records (bytes) in the open group. */
  private bytes = 0;
  private readonly unsealed: LaidOutGroup[] = [];

  /** Whether a record of `length` bytes starts a new group; `newChunk`: it will not go in the open group's chunk. */
  startsGroup(length: number, newChunk: boolean): boolean {
    return this.open === undefined || newChunk || this.bytes + length > GROUP_TARGET_BYTES;
  }

  /**
   * Opens a group whose SEAL record goes at buf[sealPos], `offset` from the
   * start, and whose bodies will follow one another from bodies[bodiesStart]
   * (close() the open one first). REQUIRES: neither buffer's bytes from there
   * are changed by anyone else until the group is sealed.
   */
  begin(buf: Buffer, sealPos: number, offset: number, bodies: Buffer, bodiesStart: number): void {
    this.open = { buf, sealPos, end: sealPos + SEAL_RECORD_BYTES, offset, bodies, bodiesStart, bodiesEnd: bodiesStart };
    this.bytes = 0;
  }

  /** A record of `length` bytes was laid out at the end of the open group, its body (`length` less its header) at the end of its bodies. */
  grow(length: number): void {
    const g = this.open!;
    g.end += length;
    g.bodiesEnd += length - RECORD_HEADER_BYTES;
    this.bytes += length;
  }

  /** Closes the open group; returns its length (SEAL record and records), 0 when none was open. */
  close(): number {
    const g = this.open;
    if (g === undefined) return 0;
    this.open = undefined;
    this.unsealed.push(g);
    return g.end - g.sealPos;
  }

  /** Seals every closed group, each with its SEAL at absolute offset `base` + its offset; returns how many. REQUIRES: close() called. */
  sealAll(base: number, key: KeyObject): number {
    const n = this.unsealed.length;
    for (const g of this.unsealed) sealGroup(g.buf, g.sealPos, g.end, base + g.offset, key, g.bodies.subarray(g.bodiesStart, g.bodiesEnd));
    this.unsealed.length = 0;
    return n;
  }
}
