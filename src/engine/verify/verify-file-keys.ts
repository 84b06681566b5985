// verify's check of what every file header says of its format version and data
// key (docs/format.md "Common file header, version 2"), against the store: a
// plain store's files are version 1; an encrypted or compressed store's are
// version 2, an encrypted one's naming a data key KEYRING holds (≥ 1), a
// compressed-only one's key 0, the key its manifest entry names. Works without
// the key: the ids KEYRING holds are in its plain body. The rest of each header (magic, CRC, number) is
// checked where the file is read (verify-segments.ts, open-run.ts).
import { FILE_HEADER_BYTES, MAGIC_RUN, MAGIC_SEGMENT, MANIFEST_NAME } from '../../format/constants.js';
import { checkFileHeader, fileVersion } from '../../format/file-header.js';
import type { Manifest } from '../../format/manifest.js';
import { writtenVersion } from '../../format/store-codec.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { isTzkvError } from '../../errors.js';
import { runName, segmentName } from '../files/layout.js';
import { keyRange } from '../runs/run-range.js';
import type { VerifyLog } from './verify-log.js';

/**
 * Reports each file of `m` whose header's version or data key does not fit
 * the store. `keyIds`: the data key ids KEYRING holds (null: unknown, only
 * "≥ 1" is checked). A header that is unreadable or damaged is left to the
 * file's own check.
 */
export function checkFileKeys(fs: FileSystem, dir: string, codec: StoreCodec, m: Manifest, keyIds: ReadonlySet<number> | null, log: VerifyLog): void {
  const version = writtenVersion(codec);
  const encrypted = codec.encryption !== undefined;
  const head = Buffer.alloc(FILE_HEADER_BYTES);
  const files = [
    ...m.segments.map((s) => ({ name: segmentName(s.file), file: s.file, listed: s.key, magic: MAGIC_SEGMENT })),
    ...m.runs.map((r) => ({ name: runName(r.file), file: r.file, listed: r.key, magic: MAGIC_RUN })),
  ];
  for (const { name, file, listed, magic } of files) {
    let n: number;
    try {
      const fd = fs.openRead(`${dir}/${name}`);
      try {
        n = fs.read(fd, head, 0, FILE_HEADER_BYTES, 0);
      } finally {
        fs.close(fd);
      }
    } catch {
      continue; // reported where the file is read
    }
    if (checkFileHeader(head.subarray(0, n), magic, file) !== undefined) continue;
    const found = fileVersion(head);
    const problem = keyProblem(found, version, encrypted, keyIds);
    if (problem) log.problem(name, 4, 'bad-header', problem);
    // docs/format.md "MANIFEST, version 2": an encrypted store's manifest names each file's key as its header does.
    else if (encrypted && listed !== found.keyId) log.problem(MANIFEST_NAME, null, 'bad-manifest', `lists ${name} with data key ${listed ?? 'none'}, its header names ${found.keyId}`);
  }
}

function keyProblem(v: { version: number; keyId: number }, version: number, encrypted: boolean, keyIds: ReadonlySet<number> | null): string | undefined {
  const store = encrypted ? 'an encrypted store' : version === 2 ? 'a compressed store' : 'a plain (version 1) store';
  if (v.version !== version) return `header says format version ${v.version}, the file of ${store} must say ${version}`;
  if (!encrypted && v.keyId !== 0) return `header names data key ${v.keyId}, but the store is not encrypted`;
  if (encrypted && v.keyId === 0) return `header names no data key (0): every file of an encrypted store is encrypted`;
  if (encrypted && keyIds !== null && !keyIds.has(v.keyId)) return `header names data key ${v.keyId}, which KEYRING does not hold`;
  return undefined;
}

/**
 * With the key: opens every sealed key range of an encrypted store's manifest
 * (docs/format.md "MANIFEST, version 2"), reporting each whose tag fails.
 */
export function checkKeyRanges(codec: StoreCodec, m: Manifest, dir: string, log: VerifyLog): void {
  for (const run of m.runs) {
    if (run.key === undefined) continue;
    try {
      keyRange(run, codec, dir);
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT')) throw err;
      log.problem(MANIFEST_NAME, null, 'bad-manifest', String(err.info?.reason ?? err.message));
    }
  }
}
