// The VERIFIED note (docs/format.md "VERIFIED"): when verify last ran and
// what it found, for `tzkv stats`. Written lock-free by temp + rename, so a
// reader sees the old note or the new one; not fsynced (after a power loss it
// may be the previous one or missing: it is a record, not data).
import type { VerifyRecord } from '../../api.js';
import { TMP_SUFFIX, VERIFIED_NAME } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile, writeFileAside } from '../../io/fs.js';

/** Records a verify's result; false when it could not be written (a read-only store, a racing writer's cleanup). */
export function writeVerified(fs: FileSystem, dir: string, record: VerifyRecord): boolean {
  try {
    const data = Buffer.from(`${JSON.stringify(record)}\n`);
    writeFileAside(fs, dir, VERIFIED_NAME, [data], { tmpName: `${VERIFIED_NAME}.${process.pid}${TMP_SUFFIX}`, fsync: false });
    return true;
  } catch {
    return false;
  }
}

/** The last verify's record, or null when there is none (or it is unreadable). */
export function readVerified(fs: FileSystem, dir: string): VerifyRecord | null {
  try {
    const raw = JSON.parse(readWholeFile(fs, `${dir}/${VERIFIED_NAME}`).toString('utf8')) as VerifyRecord;
    if (typeof raw?.verifiedAt !== 'string' || typeof raw.ok !== 'boolean') return null;
    return { verifiedAt: raw.verifiedAt, ok: raw.ok, problems: Number(raw.problems) || 0, bytes: Number(raw.bytes) || 0, durationMs: Number(raw.durationMs) || 0 };
  } catch {
    return null;
  }
}
