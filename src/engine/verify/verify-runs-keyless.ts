// verify's pass over the index runs of an encrypted store verified without its
// key (docs/design.md "Audit without the secret"): what the stored bytes show
// without the plaintext. Each run's header and layout, every leaf and branch
// block's framing and CRC (an encrypted run's entries are sealed: counted by
// the blocks' plain headers, never read), every bloom page's CRC, and the TTL
// section's CRC and order. The checks that need the plaintext keys (entries
// against the records, key order, the bloom filter's bits, branch children,
// the TTL adds against the entries, the newest records, the census) are not
// made: verify.ts reports them skipped (KEYS_NOT_CHECKED).
import type { Manifest } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { BloomScratch } from './bloom-check.js';
import { openRun } from './open-run.js';
import type { Spill } from './open-run.js';
import { checkBranches, checkEntryCount, checkTtlSection } from './verify-run-parts.js';
import type { VerifyLog } from './verify-log.js';

/** What VerifyReport.skipped says of an encrypted store verified without its key. */
export const KEYS_NOT_CHECKED =
  'keys not checked: no key given (the index against the records, key order, bloom filter contents, the newest records, the census and the authentication tags need the key; give it with --key-file, TZKV_KEY_FILE or TZKV_PASSPHRASE)';

/** Checks every run of `m` as far as its stored bytes allow without the key. */
export function verifyRunsWithoutKeys(fs: FileSystem, dir: string, codec: StoreCodec, m: Manifest, log: VerifyLog, spill: Spill): void {
  const bloomScratch = new BloomScratch();
  for (const info of m.runs) {
    const r = openRun(fs, dir, codec, info.file, info.entries, log, bloomScratch, null, spill, true);
    if (!r) continue;
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
}
