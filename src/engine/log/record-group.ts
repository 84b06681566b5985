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
export function checkGroup(buf: Buffer, sealPos: number, sealAt: number, format: SegmentFormat, checkCrc: boolean, info: RecordInfo, headers?: GroupHeaders): Buffer | null | GroupFailure {
  const from = sealPos + SEAL_RECORD_BYTES;
  const to = from + groupLength(buf, sealPos);
  if (headers) headers.count = 0;
  for (let p = from; p < to; p += info.length) {
    const status = decodeRecord(buf, p, to, info, checkCrc, true);
    if (status !== RECORD_OK || info.kind === KIND_SEAL) {
      const inside = `at offset ${sealAt + p - sealPos} inside the group of the seal record`;
      if (status === RECORD_BAD) return { reason: `${info.reason} ${inside}`, how: 'bad' };
      if (status !== RECORD_OK) return { reason: `the group does not end on a record boundary (a record ${inside} runs past it)`, how: 'framing' };
      return { reason: `a seal record ${inside}`, how: 'framing' };
    }
    headers?.add(info);
  }
  if (format.key === undefined) return null;
  if (format.tagsOnly) return groupTagHolds(buf, sealPos, sealAt, format.key) ? null : SEAL_FAILS;
  return openGroup(buf, sealPos, sealAt, format.key) ?? SEAL_FAILS;
}

/**
 * The headers of a group's records as checkGroup decoded them, in order
 * (valid until the next checkGroup into it), so that the scanner reports a
 * group's records without decoding each again. Reused: one per scanner.
 */
export class GroupHeaders {
  count = 0;
  private kinds = new Uint8Array(256);
  private flags = new Uint8Array(256);
  private keyLengths = new Uint16Array(256);
  private valueLengths = new Uint32Array(256);
  private expiries = new Float64Array(256);

  add(info: RecordInfo): void {
    const i = this.count++;
    if (i === this.kinds.length) this.grow();
    this.kinds[i] = info.kind;
    this.flags[i] = info.flags;
    this.keyLengths[i] = info.keyLength;
    this.valueLengths[i] = info.valueLength;
    this.expiries[i] = info.expiresAt;
  }

  /** Fills `info` with the i-th record's header, as decodeRecord did when it passed. */
  load(i: number, info: RecordInfo): void {
    info.kind = this.kinds[i];
    info.flags = this.flags[i];
    info.keyLength = this.keyLengths[i];
    info.valueLength = this.valueLengths[i];
    info.expiresAt = this.expiries[i];
    info.length = RECORD_HEADER_BYTES + this.keyLengths[i] + this.valueLengths[i];
    info.reason = '';
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const widen = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.kinds = widen(this.kinds, (k) => new Uint8Array(k));
    this.flags = widen(this.flags, (k) => new Uint8Array(k));
    this.keyLengths = widen(this.keyLengths, (k) => new Uint16Array(k));
    this.valueLengths = widen(this.valueLengths, (k) => new Uint32Array(k));
    this.expiries = widen(this.expiries, (k) => new Float64Array(k));
  }
}

export function isGroupFailure(r: Buffer | null | number | GroupFailure): r is GroupFailure {
  return r !== null && typeof r === 'object' && !Buffer.isBuffer(r);
}
