// What a name in a store directory is (docs/format.md "The store directory"):
// the one place that decides whether a file is tzkv's, and which of its files
// it is. What a caller then does with it (remove it as a leftover, take it as
// a sign that a store lived here, warn about it) is the caller's rule; the
// names are built in layout.ts, and test/unit/file-kinds.test.ts holds every
// name built there against this file.
import { parseFileName } from '../../format/bytes.js';
import {
  FOLLOWERS_DIR,
  KEYRING_NAME,
  LOCK_NAME,
  MANIFEST_NAME,
  QUARANTINE_EXT,
  QUARANTINE_PREFIX,
  REPLICATING_NAME,
  RUN_EXT,
  SEGMENT_EXT,
  TMP_SUFFIX,
  TTL_SCRATCH_EXT,
  VERIFIED_NAME,
} from '../../format/constants.js';

export type FileKind =
  | 'manifest'
  /** An encrypted store's wrapped data keys. */
  | 'keyring'
  | 'segment'
  | 'run'
  | 'lock'
  /** `LOCK.break`: a breaker of a stale lock holds it. */
  | 'lock-break'
  | 'replicating'
  | 'verified'
  | 'quarantine'
  /** The `followers/` directory of a leader. */
  | 'followers'
  /** `followers/HHHHHHHHHHHHHHHH.json`: a leader's record of one follower. */
  | 'follower-record'
  // Files being written aside: `NAME.tmp` of the kind above, renamed over NAME
  // once whole (VERIFIED also as `VERIFIED.PID.tmp`, by a verify of process PID;
  // the lock as `LOCK.TOKEN.tmp`, hard-linked to LOCK).
  | 'manifest-temp'
  | 'keyring-temp'
  | 'segment-temp'
  | 'run-temp'
  | 'lock-temp'
  | 'replicating-temp'
  | 'verified-temp'
  | 'quarantine-temp'
  | 'follower-record-temp'
  /** `stage-PID-HEX.tmp`: a large batch process PID is staging. */
  | 'stage'
  /** `compact-PID-NNNNNNNN.tzds.tmp` or `.tzix.tmp`: a compaction's output. */
  | 'compaction-output'
  /** `compact-PID-NNNNNNNN.ttl.tmp`: the TTL scratch of a run a compaction or a repair writes. */
  | 'ttl-scratch'
  /** Any other `*.tmp`: a writer removes it as a leftover, but tzkv writes no such name. */
  | 'other-temp'
  /** Not a name tzkv writes: never touched. */
  | 'foreign';

export interface StoreFile {
  kind: FileKind;
  /** The file number the name carries (a segment, a run, one being written, a compaction's file); 0 when none. */
  file: number;
  /** The process the name belongs to (a staging, compaction output, TTL scratch or `VERIFIED.PID.tmp` file); 0 when none. */
  pid: number;
  /** A `*.tmp` name: a file being written, read by nobody but its writer. */
  temp: boolean;
}

const ASIDE: Partial<Record<FileKind, FileKind>> = {
  manifest: 'manifest-temp',
  keyring: 'keyring-temp',
  segment: 'segment-temp',
  run: 'run-temp',
  replicating: 'replicating-temp',
  verified: 'verified-temp',
  quarantine: 'quarantine-temp',
  'follower-record': 'follower-record-temp',
};

const STAGE = /^stage-([0-9]+)-[0-9a-f]+\.tmp$/;
const COMPACT = /^compact-([0-9]+)-(.+)\.tmp$/;
const COMPACT_KINDS: ReadonlyArray<[string, FileKind]> = [
  [SEGMENT_EXT, 'compaction-output'],
  [RUN_EXT, 'compaction-output'],
  [TTL_SCRATCH_EXT, 'ttl-scratch'],
];
const LOCK_ASIDE = new RegExp(`^${LOCK_NAME}\\.[0-9a-f]+\\.tmp$`);
const VERIFIED_ASIDE = new RegExp(`^${VERIFIED_NAME}\\.([0-9]+)\\.tmp$`);
const FOLLOWER_RECORD = /^[0-9a-f]{16}\.json$/;

/** The kinds named `*.tmp`. */
const TEMP_KINDS = new Set<FileKind>([...Object.values(ASIDE), 'lock-temp', 'stage', 'compaction-output', 'ttl-scratch', 'other-temp']);

function named(kind: FileKind, file = 0, pid = 0): StoreFile {
  return { kind, file, pid, temp: TEMP_KINDS.has(kind) };
}

/**
 * What `name` is: a name in a store directory, or `followers/NAME` for one in
 * its followers directory. Decided by the name alone, without looking at the file.
 */
export function fileKind(name: string): StoreFile {
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const entry = name.slice(slash + 1);
    if (name.slice(0, slash) !== FOLLOWERS_DIR) return named('foreign');
    return entry.endsWith(TMP_SUFFIX) ? aside(entry, true) : whole(entry, true);
  }
  return name.endsWith(TMP_SUFFIX) ? aside(name, false) : whole(name, false);
}

/** A name that does not end in `.tmp`. */
function whole(name: string, inFollowers: boolean): StoreFile {
  if (inFollowers) return named(FOLLOWER_RECORD.test(name) ? 'follower-record' : 'foreign');
  switch (name) {
    case MANIFEST_NAME:
      return named('manifest');
    case KEYRING_NAME:
      return named('keyring');
    case LOCK_NAME:
      return named('lock');
    case `${LOCK_NAME}.break`:
      return named('lock-break');
    case REPLICATING_NAME:
      return named('replicating');
    case VERIFIED_NAME:
      return named('verified');
    case FOLLOWERS_DIR:
      return named('followers');
  }
  if (name.startsWith(QUARANTINE_PREFIX) && name.endsWith(QUARANTINE_EXT)) return named('quarantine');
  const segment = parseFileName(name, SEGMENT_EXT);
  if (segment > 0) return named('segment', segment);
  const run = parseFileName(name, RUN_EXT);
  if (run > 0) return named('run', run);
  return named('foreign');
}

/** A name that ends in `.tmp`. */
function aside(name: string, inFollowers: boolean): StoreFile {
  const base = whole(name.slice(0, -TMP_SUFFIX.length), inFollowers);
  const asideKind = ASIDE[base.kind];
  if (asideKind) return named(asideKind, base.file);
  if (inFollowers) return named('foreign');
  const stage = STAGE.exec(name);
  if (stage && Number(stage[1]) > 0) return named('stage', 0, Number(stage[1]));
  const compact = COMPACT.exec(name);
  if (compact && Number(compact[1]) > 0) {
    for (const [ext, kind] of COMPACT_KINDS) {
      const file = parseFileName(compact[2], ext);
      if (file > 0) return named(kind, file, Number(compact[1]));
    }
  }
  if (LOCK_ASIDE.test(name)) return named('lock-temp');
  const verified = VERIFIED_ASIDE.exec(name);
  if (verified) return named('verified-temp', 0, Number(verified[1]));
  return named('other-temp');
}

/** Whether tzkv writes files by this name ('other-temp' and 'foreign' it does not). */
export function isTzkvFile(f: StoreFile): boolean {
  return f.kind !== 'foreign' && f.kind !== 'other-temp';
}

/**
 * Whether a writer removes the file when no manifest lists it (docs/format.md
 * "Recovery rules" 1): a segment, a run, any `*.tmp`. Whether its writer still
 * runs (a live process's staging file or VERIFIED note, a running compaction's
 * files, a waiting writer's lock file) the caller checks.
 */
export function leftoverUnlessListed(f: StoreFile): boolean {
  return f.temp || f.kind === 'segment' || f.kind === 'run';
}
