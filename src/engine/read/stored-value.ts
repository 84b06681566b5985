// A PUT's value as stored, made the value a reader gets (docs/format.md
// "Records, version 2": flags bits 1–2 say how it is compressed). The one
// place readers of values turn stored bytes into values (decrypt, then
// decompress: a group's tag and a record's CRC cover the stored bytes).
import { DamagedValueError, decompressValue } from '../../format/compression.js';
import type { TzkvError } from '../../errors.js';

/**
 * The value of a PUT whose flags are `flags` and stored value `stored` (the
 * same Buffer when it is not compressed). `where` names the record (file and
 * offset); `damaged` makes the CORRUPT error naming it, for a value that does
 * not decompress as its record says.
 */
export function storedValue(flags: number, stored: Buffer, where: string, damaged: (reason: string) => TzkvError): Buffer {
  try {
    return decompressValue(stored, flags, where);
  } catch (err) {
    if (err instanceof DamagedValueError) throw damaged(err.reason);
    throw err;
  }
}
