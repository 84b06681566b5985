// verify's pass over the index runs of an encrypted store verified without its
// key (docs/design.md "Audit without the secret"): what the stored bytes show
// without the plaintext. Each run's header and layout, every leaf and branch
// block's framing and CRC (an encrypted run's entries are sealed: counted by
// the blocks' plain headers, never read), every bloom page's CRC, and the TTL
// section's CRC and order. The checks that need the plaintext keys (entries
// against the records, key order, the bloom filter's bits, branch children,
// the TTL adds against the entries, the newest records, the census) are not
// made: verify.ts reports them skipped (KEYS_NOT_CHECKED).
import type { VerifyProblem } from '../../api.js';
import type { Manifest } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { BloomScratch } from './bloom-check.js';
import { openRun } from './open-run.js';
import type { Spill } from './open-run.js';
import { checkBranches, checkEntryCount, checkTtlSection } from './verify-run-parts.js';
import { VerifyLog } from './verify-log.js';
import { DEFAULT_LIMITS, Scratch } from './scratch.js';

/** What VerifyReport.skipped says of an encrypted store verified without its key. */
export const KEYS_NOT_CHECKED =
  'keys not checked: no key given (the index against the records, key order, bloom filter contents, the newest records, the census and the authentication tags need the key; give it with --key-file, TZKV_KEY_FILE or TZKV_PASSPHRASE)';

/** Checks every run of `m` as far as its stored bytes allow without the key. */
export function verifyRunsWithoutKeys(fs: FileSystem, dir: string, codec: StoreCodec, m: Manifest, log: VerifyLog, spill: Spill): void {
  const bloomScratch = new BloomScratch();
  for (const info of m.runs) checkRun(fs, dir, codec, info.file, info.entries, log, bloomScratch, spill);
}

function checkRun(fs: FileSystem, dir: string, codec: StoreCodec, file: number, entries: number, log: VerifyLog, bloomScratch: BloomScratch, spill: Spill): void {
  const r = openRun(fs, dir, codec, file, entries, log, bloomScratch, null, spill, true);
  if (!r) return;
  try {
    while (r.cursor.nextBlock()) r.entries += r.cursor.blockEntries;
    checkEntryCount(r, log);
    checkBranches(fs, r, log);
    checkTtlSection(fs, r, log);
  } finally {
    fs.close(r.fd);
    r.ttlAdds.dispose();
  }
}

/**
 * What is wrong with run `file` of `dir`, holding `entries` entries, as far as
 * its stored bytes show without the key (a replicate checking a run that
 * arrived at a follower): empty when nothing is. Nothing is spilled (nothing
 * is held per entry without the key).
 */
export function runProblemsWithoutKeys(fs: FileSystem, dir: string, codec: StoreCodec, file: number, entries: number): VerifyProblem[] {
  const log = new VerifyLog(undefined);
  const scratch = new Scratch(fs);
  try {
    checkRun(fs, dir, codec, file, entries, log, new BloomScratch(), { scratch, limits: DEFAULT_LIMITS });
  } finally {
    scratch.dispose();
  }
  return log.problems;
}
