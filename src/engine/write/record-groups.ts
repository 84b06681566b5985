// Laying records out in sealed groups for an encrypted segment (docs/format.md
// "Records, version 2"): room for a SEAL record, then records while the group
// stays within GROUP_TARGET_BYTES (a larger record has a group of its own; a
// single write is one, sealedAlone),
// then one seal per group. A group's seal takes the SEAL's absolute offset in
// its segment, so groups laid out before their place is known (a batch built
// before the lock) are sealed when it is.
import type { KeyObject } from 'node:crypto';
import { GROUP_TARGET_BYTES, SEAL_RECORD_BYTES, sealGroup } from '../../format/seal.js';

/** One record (plain body, CRC not needed) as a group of its own: a SEAL record then the record, sealed for offset `sealOffset`. */
export function sealedAlone(record: Buffer, sealOffset: number, key: KeyObject): Buffer {
  const out = Buffer.allocUnsafe(SEAL_RECORD_BYTES + record.length);
  record.copy(out, SEAL_RECORD_BYTES);
  sealGroup(out, 0, out.length, sealOffset, key);
  return out;
}

/** A group laid out and not sealed yet: buf[sealPos, end), at `offset` from the start of the records being laid out. */
interface LaidOutGroup {
  buf: Buffer;
  sealPos: number;
  end: number;
  offset: number;
}

/**
 * The groups of records being laid out into chunks (a batch: batch.ts). The
 * layout reserves SEAL_RECORD_BYTES before a group's first record; a group
 * never spans two chunks. Offsets are relative to the first byte laid out.
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

  /** Opens a group whose SEAL record goes at buf[sealPos], `offset` from the start (close() the open one first). */
  begin(buf: Buffer, sealPos: number, offset: number): void {
    this.open = { buf, sealPos, end: sealPos + SEAL_RECORD_BYTES, offset };
    this.bytes = 0;
  }

  /** A record of `length` bytes was laid out at the end of the open group. */
  grow(length: number): void {
    this.open!.end += length;
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
    for (const g of this.unsealed) sealGroup(g.buf, g.sealPos, g.end, base + g.offset, key);
    this.unsealed.length = 0;
    return n;
  }
}
