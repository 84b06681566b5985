// Repair's copy of an encrypted segment's readable ranges into a new segment
// (docs/design.md "Repair"): the bytes after a range that was moved out shift
// to lower offsets, and a group's tag covers its SEAL record's offset, so each
// group is opened at its old offset and sealed again at its new one, with the
// same data key (a repair rotates nothing). Records outside groups (COMMIT
// markers) are copied as they are: their CRC does not depend on their place.
import type { KeyObject } from 'node:crypto';
import { REPAIR_HINT, TzkvError } from '../../errors.js';
import { KIND_SEAL, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { SEAL_RECORD_BYTES, groupLength, openGroup, sealGroup } from '../../format/seal.js';
import type { FileSystem } from '../../io/fs.js';

/**
 * The units (a SEAL record with its group, or a record outside any group) of
 * segment `path` in [from, to), each group sealed again for an offset `shift`
 * bytes lower. REQUIRES: [from, to) starts and ends on unit boundaries and
 * holds only whole, valid units (what verify left readable).
 */
export function* resealedRange(fs: FileSystem, path: string, from: number, to: number, key: KeyObject, shift: number): Generator<Buffer> {
  const fd = fs.openRead(path);
  try {
    const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 4);
    for (let at = from; at < to; ) {
      if (fs.read(fd, head, 0, head.length, at) < RECORD_HEADER_BYTES) throw damaged(path, at, 'record header runs past end of file');
      const length =
        head[4] === KIND_SEAL ? SEAL_RECORD_BYTES + groupLength(head, 0) : RECORD_HEADER_BYTES + (head[6] | (head[7] << 8)) + head.readUInt32LE(8);
      if (at + length > to) throw damaged(path, at, 'a record or group runs past the readable range');
      const unit = Buffer.allocUnsafe(length);
      fs.read(fd, unit, 0, length, at);
      if (head[4] === KIND_SEAL) {
        const plain = openGroup(unit, 0, at, key);
        if (plain === null) throw damaged(path, at, 'group authentication failed');
        plain.copy(unit, SEAL_RECORD_BYTES);
        sealGroup(unit, 0, length, at - shift, key);
      }
      yield unit;
      at += length;
    }
  } finally {
    fs.close(fd);
  }
}

function damaged(path: string, offset: number, what: string): TzkvError {
  return new TzkvError('CORRUPT', `${path} offset ${offset}: ${what}, though verify found it readable; ${REPAIR_HINT}`, { path, offset });
}
