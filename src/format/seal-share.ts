// A record's share of its group's SEAL record (docs/design.md "Stats of
// version 2 stores"): what the census counts for a live record of an
// encrypted segment. A group whose records are all live counts its SEAL
// record live, one whose records are all dead counts it dead, and a group
// partly live counts its live records' share, about what a compaction, which
// packs them into full groups again, keeps of it. Pure.
import { SEAL_RECORD_BYTES } from './seal.js';

/**
 * The bytes the census counts for the record at `offset`, `length` bytes, in
 * the group whose SEAL record is at `group` (SEAL record and records:
 * `groupLength` bytes; 0: in no group, a segment that is not encrypted). The
 * shares of the records that tile a group add up to SEAL_RECORD_BYTES
 * exactly: each is the SEAL bytes up to the record's end less those up to its
 * start, in proportion to the records' bytes.
 */
export function censusLength(offset: number, length: number, group: number, groupLength: number): number {
  const body = groupLength - SEAL_RECORD_BYTES;
  if (groupLength === 0 || body <= 0) return length;
  const start = offset - group - SEAL_RECORD_BYTES;
  return length + Math.floor((SEAL_RECORD_BYTES * (start + length)) / body) - Math.floor((SEAL_RECORD_BYTES * start) / body);
}

/** censusLength of an entry (an IndexEntry, a LogEntry) that says where its record and its group are. */
export function censusLengthOf(e: { offset: number; length: number; group: number; groupLength: number }): number {
  return censusLength(e.offset, e.length, e.group, e.groupLength);
}
