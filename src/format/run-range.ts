// A run's key range in the MANIFEST of an encrypted store (docs/format.md
// "MANIFEST, version 2"): `minKey` and `maxKey` sealed under the run's data
// key, with additional data ASCII `min` or `max` and the run's file number
// (u32), so a range cannot be moved to another run or swapped. Pure.
import type { KeyObject } from 'node:crypto';
import { openBytes, sealBytes } from './seal.js';

/** Which end of the range. */
export type RangeEnd = 'min' | 'max';

function rangeAad(end: RangeEnd, file: number): Buffer {
  const aad = Buffer.allocUnsafe(7);
  aad.write(end, 0, 3, 'latin1');
  aad.writeUInt32LE(file, 3);
  return aad;
}

/** The stored form of run `file`'s smallest (`min`) or largest (`max`) key. */
export function sealRangeKey(end: RangeEnd, file: number, key: Uint8Array, dataKey: KeyObject): Buffer {
  return sealBytes(key, rangeAad(end, file), dataKey);
}

/** The key sealRangeKey sealed; null when the tag fails (changed bytes, another run's range, another key). */
export function openRangeKey(end: RangeEnd, file: number, stored: Uint8Array, dataKey: KeyObject): Buffer | null {
  return openBytes(stored, rangeAad(end, file), dataKey);
}
