// What a store that lost its MANIFEST was made as (docs/design.md "Repair",
// "A lost manifest"): plain, encrypted and/or compressed, read from the files
// that say so themselves: KEYRING, the segments' headers, their records' flags.
// open() gives such a store this codec, so verify --repair rebuilds its
// manifest as the same kind of store and later writes stay sealed/compressed.
import { FILE_HEADER_BYTES, KEYRING_NAME, MAGIC_SEGMENT } from '../../format/constants.js';
import { checkFileHeader, fileVersion } from '../../format/file-header.js';
import type { FileVersion } from '../../format/file-header.js';
import { compressionCode } from '../../format/compression.js';
import { COMPRESSION_ALGORITHMS, DEFAULT_COMPRESSION, DEFAULT_COMPRESSION_MIN_BYTES, PLAIN } from '../../format/store-codec.js';
import type { CompressionSetting } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { RecordScanner } from '../log/record-scan.js';
import { segmentFormat } from '../log/segment-format.js';
import { fileKind } from './file-kinds.js';
import { segmentName } from './layout.js';
import type { StoreSettings } from './store-manifest.js';

const CHUNK = 1024 * 1024;

/** The version and data key id the header of segment `path` (number `file`) names; null when it cannot be read or is damaged. */
export function segmentVersion(fs: FileSystem, path: string, file: number): FileVersion | null {
  return fileVersionAt(fs, path, MAGIC_SEGMENT, file);
}

/**
 * The version and data key id the header of the file at `path` names, when
 * it is a valid header with `magic` and number `file` (null: whatever number
 * it names, a stage file's); null when it cannot be read or is damaged.
 */
export function fileVersionAt(fs: FileSystem, path: string, magic: string, file: number | null): FileVersion | null {
  const head = Buffer.alloc(FILE_HEADER_BYTES);
  try {
    const fd = fs.openRead(path);
    try {
      if (fs.read(fd, head, 0, FILE_HEADER_BYTES, 0) !== FILE_HEADER_BYTES) return null;
    } finally {
      fs.close(fd);
    }
  } catch {
    return null;
  }
  return checkFileHeader(head, magic, file ?? head.readUInt32LE(8)) === undefined ? fileVersion(head) : null;
}

/**
 * The compression the first compressed record met names (segments newest
 * first, each from its start; stops at that record's chunk), with the default
 * minBytes (a record cannot say it); undefined when no record is compressed.
 * Record headers are plain in every kind of store: no key is needed.
 */
function compressionOfRecords(fs: FileSystem, dir: string, segments: { file: number; header: FileVersion }[]): CompressionSetting | undefined {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const { file, header } of [...segments].reverse()) {
    if (header.version < 2) continue;
    const path = `${dir}/${segmentName(file)}`;
    let code = 0;
    const scanner = new RecordScanner(FILE_HEADER_BYTES, PLAIN, { record: (_b, _p, _a, info) => (code ||= compressionCode(info.flags)) }, Infinity, false, segmentFormat(header, PLAIN, path, false));
    try {
      const fd = fs.openRead(path);
      try {
        for (let at = FILE_HEADER_BYTES; code === 0 && scanner.failure === null; ) {
          const n = fs.read(fd, buf, 0, CHUNK, at);
          if (n === 0) break;
          scanner.push(buf, 0, n);
          at += n;
        }
      } finally {
        fs.close(fd);
      }
    } catch {
      continue; // an unreadable segment says nothing: verify reports it
    }
    const algorithm = COMPRESSION_ALGORITHMS[code - 1];
    if (algorithm !== undefined) return { algorithm, minBytes: DEFAULT_COMPRESSION_MIN_BYTES };
  }
  return undefined;
}

/**
 * What the store in `dir`, which has no MANIFEST it can read, was made as:
 * encrypted when it has a KEYRING or a segment header names a data key;
 * compressed with the algorithm its compressed records name (minBytes the
 * default), or with the defaults when no record is compressed but the
 * segments are version 2 without a data key (compression is then the only
 * reason for version 2); plain when every readable header says version 1.
 */
export function settingsFromFiles(fs: FileSystem, dir: string): StoreSettings {
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch {
    return { encryption: null, compression: null };
  }
  const segments = names
    .map(fileKind)
    .filter((f) => f.kind === 'segment')
    .map((f) => ({ file: f.file, header: segmentVersion(fs, `${dir}/${segmentName(f.file)}`, f.file) }))
    .filter((s): s is { file: number; header: FileVersion } => s.header !== null)
    .sort((a, b) => a.file - b.file);
  const encrypted = names.includes(KEYRING_NAME) || segments.some((s) => s.header.keyId > 0);
  const version2 = encrypted || segments.some((s) => s.header.version >= 2);
  if (!version2) return { encryption: null, compression: null };
  const compression = compressionOfRecords(fs, dir, segments) ?? (encrypted ? undefined : { algorithm: DEFAULT_COMPRESSION, minBytes: DEFAULT_COMPRESSION_MIN_BYTES });
  return { encryption: encrypted ? { cipher: 'aes-256-gcm' } : null, compression: compression ?? null };
}
