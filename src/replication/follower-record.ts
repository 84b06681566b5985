// What the leader remembers of its followers (docs/format.md "followers/"):
// one small JSON file per follower, so two replicates to different followers
// never race on one file, and stats can list them without touching followers.
import { createHash } from 'node:crypto';
import type { FollowerInfo } from '../api.js';
import type { FormerIdentity } from '../engine/files/store-manifest.js';
import { readManifest } from '../engine/files/store-manifest.js';
import { FOLLOWERS_DIR } from '../format/constants.js';
import type { FileSystem } from '../io/fs.js';
import { replaceFile } from '../io/fs.js';
import type { FollowerMark } from '../format/manifest.js';
import { DEFAULT_STORE_MODE } from '../engine/files/permissions.js';
import { fileKind } from '../engine/files/file-kinds.js';


function recordName(location: string): string {
  return `${createHash('sha256').update(location).digest('hex').slice(0, 16)}.json`;
}

/**
 * Records that `info.location` caught up. Best effort: a leader on a
 * read-only mount can still be replicated, it just cannot remember it.
 */
export function recordFollower(fs: FileSystem, leaderDir: string, info: FollowerInfo): boolean {
  const dir = `${leaderDir}/${FOLLOWERS_DIR}`;
  try {
    fs.mkdirp(dir, (fs.stat(leaderDir)?.mode ?? DEFAULT_STORE_MODE) & 0o2777); // as private or shared as the store
    replaceFile(fs, dir, recordName(info.location), Buffer.from(`${JSON.stringify(info)}\n`));
    return true;
  } catch {
    return false; // replaceFile left no temporary file behind
  }
}

/** The followers recorded in a leader store, oldest catch-up first; unreadable records are skipped. */
export function readFollowers(fs: FileSystem, leaderDir: string): FollowerInfo[] {
  const dir = `${leaderDir}/${FOLLOWERS_DIR}`;
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch {
    return [];
  }
  const out: FollowerInfo[] = [];
  for (const name of names) {
    if (fileKind(`${FOLLOWERS_DIR}/${name}`).kind !== 'follower-record') continue;
    try {
      const fd = fs.openRead(`${dir}/${name}`);
      try {
        const buf = Buffer.allocUnsafe(64 * 1024);
        const raw = JSON.parse(buf.toString('utf8', 0, fs.read(fd, buf, 0, buf.length, 0))) as FollowerInfo;
        if (typeof raw.location === 'string' && typeof raw.replicatedAt === 'string' && Number.isSafeInteger(raw.generation)) out.push(raw);
      } finally {
        fs.close(fd);
      }
    } catch {
      // a record being replaced, or damaged: it is rewritten by the next replicate to that follower
    }
  }
  return out.sort((a, b) => (a.replicatedAt < b.replicatedAt ? -1 : a.replicatedAt > b.replicatedAt ? 1 : 0));
}

/**
 * The store id and manifest generation a leader had, as the followers it
 * records hold them (the newest such cut); null when no follower names this
 * directory as its leader. A leader rebuilding a lost manifest keeps them, so
 * its followers still take it for theirs.
 */
export function formerLeaderIdentity(fs: FileSystem, leaderDir: string): FormerIdentity | null {
  let found: FormerIdentity | null = null;
  for (const { location } of readFollowers(fs, leaderDir)) {
    let mark: FollowerMark | null | undefined;
    try {
      mark = readManifest(fs, location)?.follower;
    } catch {
      continue; // a follower that cannot say
    }
    if (mark?.leader !== leaderDir || mark.leaderId === '') continue;
    if (!found || mark.generation > found.generation) found = { storeId: mark.leaderId, generation: mark.generation };
  }
  return found;
}

/** Whether this leader has replicated to `location` (it keeps a record of it). */
export function isRecordedFollower(fs: FileSystem, leaderDir: string, location: string): boolean {
  return readFollowers(fs, leaderDir).some((f) => f.location === location);
}
