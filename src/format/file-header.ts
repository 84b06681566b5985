// The 16-byte header every .tzds and .tzix file starts with (docs/format.md
// "Common file header"). Pure: Buffers in, Buffers out.
import { crc32 } from './bytes.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, VERSION_2 } from './constants.js';
import type { StoreCodec } from './store-codec.js';
import { writtenVersion } from './store-codec.js';

/** What a file header says beyond its magic and number: its format version, and in version 2 the data key id (0: not encrypted). */
export interface FileVersion {
  version: number;
  keyId: number;
}

/** A version 1 file: what a plain store writes. */
export const V1_FILE: FileVersion = Object.freeze({ version: FORMAT_VERSION, keyId: 0 });

/** What a new file of a store with `codec` says: its version, and the current data key when the store is encrypted (KEY_REQUIRED without the secret). */
export function fileVersionFor(codec: StoreCodec): FileVersion {
  return { version: writtenVersion(codec), keyId: codec.encryption === undefined ? 0 : codec.encryption.keys().current };
}

export function encodeFileHeader(magic: string, fileNumber: number, out = Buffer.alloc(FILE_HEADER_BYTES), as: FileVersion = V1_FILE): Buffer {
  out.write(magic, 0, 4, 'latin1');
  out.writeUInt16LE(as.version, 4);
  out.writeUInt16LE(as.keyId, 6);
  out.writeUInt32LE(fileNumber, 8);
  out.writeUInt32LE(crc32(out, 0, 12), 12);
  return out;
}

export type HeaderProblem =
  | { kind: 'short'; message: string }
  | { kind: 'bad-magic'; message: string }
  | { kind: 'newer-version'; message: string; version: number }
  | { kind: 'bad-header'; message: string };

/** Checks a file header; returns undefined when it is valid. */
export function checkFileHeader(buf: Buffer, magic: string, fileNumber: number): HeaderProblem | undefined {
  if (buf.length < FILE_HEADER_BYTES) {
    return { kind: 'short', message: `file is ${buf.length} bytes, shorter than its ${FILE_HEADER_BYTES}-byte header` };
  }
  const found = buf.toString('latin1', 0, 4);
  if (found !== magic) {
    return { kind: 'bad-magic', message: `wrong magic ${JSON.stringify(found)}, expected ${magic}` };
  }
  if (crc32(buf, 0, 12) !== buf.readUInt32LE(12)) {
    return { kind: 'bad-header', message: 'header CRC mismatch' };
  }
  const version = buf.readUInt16LE(4);
  if (version > VERSION_2) {
    return {
      kind: 'newer-version',
      version,
      message: `format version ${version} is newer than this tzkv understands (${VERSION_2})`,
    };
  }
  if (version < 1) return { kind: 'bad-header', message: `invalid format version ${version}` };
  // Bytes 6–7: flags in version 1 (must be 0), the data key id in version 2 (docs/format.md "Common file header, version 2").
  if (version === FORMAT_VERSION && buf.readUInt16LE(6) !== 0) return { kind: 'bad-header', message: 'unknown header flags' };
  const num = buf.readUInt32LE(8);
  if (num !== fileNumber) {
    return { kind: 'bad-header', message: `header names file number ${num}, the file name says ${fileNumber}` };
  }
  return undefined;
}

/** The version and data key id of a header checkFileHeader accepted. */
export function fileVersion(buf: Buffer): FileVersion {
  const version = buf.readUInt16LE(4);
  return { version, keyId: version === FORMAT_VERSION ? 0 : buf.readUInt16LE(6) };
}
