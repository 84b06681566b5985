// Reading a record of an encrypted segment (docs/format.md "Records,
// version 2"): its whole group is read, checked and opened (tag checked)
// before a byte of it is used, and a listing keeps the group it opened last,
// so the records after it in the same group cost no second read or open.
import { KIND_SEAL } from '../../format/constants.js';
import { RECORD_OK, type RecordInfo, decodeRecord } from '../../format/record.js';
import { SEAL_RECORD_BYTES, groupLength } from '../../format/seal.js';
import { checkGroup, isGroupFailure } from '../log/record-group.js';
import type { SegmentFormat } from '../log/segment-format.js';

/** A group read and opened: its bytes as stored (SEAL record first), and its records with their bodies plain (SEAL record excluded). */
export interface OpenedGroup {
  stored: Buffer;
  plain: Buffer;
}

/**
 * Checks and opens the group stored at `stored` (read from its SEAL record at
 * `offset`, `length` bytes asked): framing, CRCs, tiling and tag. Returns
 * why it cannot be used when it fails (a tag that fails says "authentication
 * failed"). REQUIRES: format.key (the reader holds the data key).
 */
export function openedGroup(stored: Buffer, offset: number, length: number, format: SegmentFormat, info: RecordInfo): OpenedGroup | string {
  if (stored.length !== length) return 'group runs past end of file';
  if (decodeRecord(stored, 0, stored.length, info, true, true) !== RECORD_OK || info.kind !== KIND_SEAL) {
    return `no valid seal record where the index entry puts the record's group${info.reason ? ` (${info.reason})` : ''}`;
  }
  if (SEAL_RECORD_BYTES + groupLength(stored, 0) !== length) return 'the seal record names a group of another length than the index entry';
  const plain = checkGroup(stored, 0, offset, format, true, info);
  if (isGroupFailure(plain)) return plain.reason;
  if (plain === null) throw new Error('openedGroup: the format has no key');
  return { stored, plain };
}

/** The group a listing opened last (one: a listing reads in log order, roughly). */
export class OpenedGroups {
  private segment = -1;
  private offset = -1;
  private group: OpenedGroup | undefined;

  get(segment: number, offset: number): OpenedGroup | undefined {
    return segment === this.segment && offset === this.offset ? this.group : undefined;
  }

  keep(segment: number, offset: number, group: OpenedGroup): void {
    this.segment = segment;
    this.offset = offset;
    this.group = group;
  }

  clear(): void {
    this.group = undefined;
    this.segment = -1;
  }
}
