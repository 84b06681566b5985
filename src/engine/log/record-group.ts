// A SEAL record's group (docs/format.md "Records, version 2"): the checks a
// group must pass before any of its records counts, shared by the scanner
// (record-scan.ts) and the search for a place to resume after damage
// (record-boundary.ts), so both judge a group alike.
import { KIND_SEAL, MAX_KEY_BYTES, MAX_VALUE_BYTES, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { RECORD_BAD, RECORD_OK, type RecordInfo, decodeRecord } from '../../format/record.js';
import { GROUP_TARGET_BYTES, SEAL_RECORD_BYTES, groupLength, groupTagHolds, openGroup } from '../../format/seal.js';
import type { SegmentFormat } from './segment-format.js';

/** The largest group a reader accepts: a writer's GROUP_TARGET_BYTES, or one record of the largest size alone, with room for a COMMIT. */
export const MAX_GROUP_BYTES = GROUP_TARGET_BYTES + RECORD_HEADER_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES;

/** A group that failed: why, and whether its bytes could be a torn write ('bad': a record's CRC or header) or not ('framing'). */
export interface GroupFailure {
  reason: string;
  how: 'bad' | 'framing';
}

/**
 * The group length the SEAL record at buf[sealPos] names, or a failure when
 * no writer makes a group that long. REQUIRES: a decoded SEAL record.
 */
export function sealedGroupLength(buf: Buffer, sealPos: number): number | GroupFailure {
  const g = groupLength(buf, sealPos);
  if (g < RECORD_HEADER_BYTES || g > MAX_GROUP_BYTES) return { reason: `seal record names a group of ${g} bytes, outside ${RECORD_HEADER_BYTES}..${MAX_GROUP_BYTES}`, how: 'bad' };
  return g;
}

const SEAL_FAILS: GroupFailure = Object.freeze({ reason: 'the group fails its seal: authentication failed', how: 'framing' });

/**
 * Checks the group of the SEAL record at buf[sealPos] (absolute offset
 * `sealAt`), held whole in buf[sealPos, sealPos + SEAL_RECORD_BYTES + G): its
 * records tile it exactly, none is a SEAL, each passes framing (and its CRC
 * when `checkCrc`), and with the key its tag. Returns the group's records
 * with their bodies opened (openGroup's copy, laid out as buf from the first
 * record after the SEAL) when the format has the key, null when it has none
 * or checks tags only (the records stay sealed), or the failure. `info` is scratch.
 */
export function checkGroup(buf: Buffer, sealPos: number, sealAt: number, format: SegmentFormat, checkCrc: boolean, info: RecordInfo): Buffer | null | GroupFailure {
  const from = sealPos + SEAL_RECORD_BYTES;
  const to = from + groupLength(buf, sealPos);
  for (let p = from; p < to; p += info.length) {
    const status = decodeRecord(buf, p, to, info, checkCrc, true);
    const inside = `at offset ${sealAt + p - sealPos} inside the group of the seal record`;
    if (status === RECORD_BAD) return { reason: `${info.reason} ${inside}`, how: 'bad' };
    if (status !== RECORD_OK) return { reason: `the group does not end on a record boundary (a record ${inside} runs past it)`, how: 'framing' };
    if (info.kind === KIND_SEAL) return { reason: `a seal record ${inside}`, how: 'framing' };
  }
  if (format.key === undefined) return null;
  if (format.tagsOnly) return groupTagHolds(buf, sealPos, sealAt, format.key) ? null : SEAL_FAILS;
  return openGroup(buf, sealPos, sealAt, format.key) ?? SEAL_FAILS;
}

export function isGroupFailure(r: Buffer | null | number | GroupFailure): r is GroupFailure {
  return r !== null && typeof r === 'object' && !Buffer.isBuffer(r);
}
