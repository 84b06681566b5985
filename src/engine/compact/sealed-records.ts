// Compaction of an encrypted store (docs/format.md "Records, version 2"): the
// snapshot's records are read by opening their groups, and written again in
// new groups sealed with the current data key at their new offsets (a group's
// tag covers its SEAL's offset, so a record cannot be copied as stored).
//   SourceGroups: an entry's record, plain, from its group (opened once and
//     kept while the merge visits its other records).
//   GroupBuilder: the records of the group being filled, and their index
//     entries, which get the group's place once it is sealed.
import type { KeyObject } from 'node:crypto';
import { REPAIR_HINT, TzkvError } from '../../errors.js';
import { FILE_HEADER_BYTES, FLAG_BATCH } from '../../format/constants.js';
import { fileVersion } from '../../format/file-header.js';
import type { IndexEntry } from '../../format/index-block.js';
import { GROUP_TARGET_BYTES, SEAL_RECORD_BYTES, openGroup, sealGroup } from '../../format/seal.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { dataKey } from '../data-key.js';
import { segmentName } from '../files/layout.js';

/** Opened groups kept at once: key order visits a group's records far apart. */
const KEPT_GROUPS = 256;

/** The plain records of the snapshot's groups, read through `read` (segment, offset, length → stored bytes). */
export class SourceGroups {
  private readonly keys = new Map<number, KeyObject>();
  private readonly opened = new Map<string, Buffer>();

  constructor(
    private readonly dir: string,
    private readonly codec: StoreCodec,
    /** Stored bytes of a segment, valid until its next call. */
    private readonly read: (segment: number, offset: number, length: number) => Buffer,
  ) {}

  /** The record entry `e` points at, its body plain (its CRC is of the stored bytes: not to be checked). REQUIRES: e.groupLength > 0. */
  record(e: IndexEntry): Buffer {
    const id = `${e.segment}:${e.group}`;
    let plain = this.opened.get(id);
    if (plain) this.opened.delete(id);
    else {
      const key = this.keyOf(e.segment); // first: what read() returns is valid only until its next call
      const stored = this.read(e.segment, e.group, e.groupLength);
      plain = (stored.length === e.groupLength ? openGroup(stored, 0, e.group, key) : null) ?? undefined;
      if (plain === undefined) {
        throw new TzkvError('CORRUPT', `${segmentName(e.segment)} offset ${e.group}: group authentication failed; compaction stopped, nothing changed; ${REPAIR_HINT}`, { offset: e.group });
      }
      if (this.opened.size >= KEPT_GROUPS) this.opened.delete(this.opened.keys().next().value!);
    }
    this.opened.set(id, plain);
    const at = e.offset - e.group - SEAL_RECORD_BYTES;
    return plain.subarray(at, at + e.length);
  }

  /** The data key segment `file` is encrypted with, from its header. */
  private keyOf(file: number): KeyObject {
    let key = this.keys.get(file);
    if (key === undefined) {
      const path = `${this.dir}/${segmentName(file)}`;
      const head = this.read(file, 0, FILE_HEADER_BYTES);
      key = dataKey(this.codec, fileVersion(head).keyId, path);
      this.keys.set(file, key);
    }
    return key;
  }
}

/** An index entry waiting for its group's place. */
interface Pending {
  key: string;
  /** Offset of the record in the group, from the SEAL record's start. */
  at: number;
  length: number;
  expiresAt: number;
}

/**
 * The group being filled: room for its SEAL record, then plain records. A
 * record that would take it past GROUP_TARGET_BYTES closes it first (a record
 * larger than that has a group of its own).
 */
export class GroupBuilder {
  private buf = Buffer.allocUnsafe(SEAL_RECORD_BYTES + GROUP_TARGET_BYTES * 2);
  private end = SEAL_RECORD_BYTES;
  private readonly pending: Pending[] = [];

  constructor(private readonly key: KeyObject) {}

  /** Whether a record of `length` bytes goes to a new group (close() this one first). */
  full(length: number): boolean {
    return this.pending.length > 0 && this.end - SEAL_RECORD_BYTES + length > GROUP_TARGET_BYTES;
  }

  /** Adds a record (plain body) of key `key`; `clearBatch`: it was part of a batch, and is committed by itself here. */
  add(record: Buffer, key: string, expiresAt: number, clearBatch: boolean): void {
    const need = this.end + record.length;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    record.copy(this.buf, this.end);
    if (clearBatch) this.buf[this.end + 5] &= ~FLAG_BATCH; // the compression bits stay
    this.pending.push({ key, at: this.end, length: record.length, expiresAt });
    this.end = need;
  }

  /** The sealed group's length once sealed: its SEAL record and records. */
  get length(): number {
    return this.end;
  }

  get empty(): boolean {
    return this.pending.length === 0;
  }

  /**
   * Seals the group for its SEAL record at `sealOffset` of its segment; returns
   * its bytes (valid until the next add) and tells `index` each record's entry.
   */
  seal(sealOffset: number, index: (key: string, offset: number, length: number, expiresAt: number, group: number, groupLength: number) => void): Buffer {
    sealGroup(this.buf, 0, this.end, sealOffset, this.key);
    for (const p of this.pending) index(p.key, sealOffset + p.at, p.length, p.expiresAt, sealOffset, this.end);
    const sealed = this.buf.subarray(0, this.end);
    this.pending.length = 0;
    this.end = SEAL_RECORD_BYTES;
    return sealed;
  }
}
