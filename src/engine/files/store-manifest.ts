// The store's MANIFEST (docs/format.md "MANIFEST"), and the one place it
// changes, after LevelDB's VersionSet: every change is a ManifestEdit (LevelDB's
// VersionEdit) that nextManifest applies to the manifest in place, owning what
// every change does (one generation on; the census kept only while valid, and
// stamped), and installManifest puts the result on disk (temp + fsync + rename
// + directory fsync). Nothing else writes a MANIFEST. Reading one, or saying
// why a directory has none, is here too.
import { TzkvError, ioError, isTzkvError } from '../../errors.js';
import { FILE_HEADER_BYTES, MANIFEST_NAME } from '../../format/constants.js';
import { ManifestError, censusValid, cloneManifest, decodeManifest, encodeManifest } from '../../format/manifest.js';
import type { Census, CompactionMarker, CompactionSummary, Counters, FollowerMark, Manifest, RunInfo, SegmentInfo } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile, replaceFile } from '../../io/fs.js';
import { randomHex } from '../../io/random.js';
import { withoutManifest } from './layout.js';

function readManifestBytes(fs: FileSystem, dir: string): Buffer | null {
  try {
    return readWholeFile(fs, `${dir}/${MANIFEST_NAME}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(err, 'cannot read', `${dir}/${MANIFEST_NAME}`);
  }
}

function decodeStoreManifest(dir: string, buf: Buffer): Manifest {
  try {
    return decodeManifest(buf);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    const path = `${dir}/${MANIFEST_NAME}`;
    if (err.newerVersion) throw new TzkvError('VERSION', `${path}: ${err.message}`, { path });
    throw new TzkvError('CORRUPT', `${MANIFEST_NAME}: ${err.message}`, { path, offset: 0 });
  }
}

/** The MANIFEST in `dir`; null when there is none. Throws VERSION (a newer format), CORRUPT (it does not decode), IO. */
export function readManifest(fs: FileSystem, dir: string): Manifest | null {
  const buf = readManifestBytes(fs, dir);
  return buf === null ? null : decodeStoreManifest(dir, buf);
}

/** What a directory holds in place of a manifest, or its manifest. */
type ManifestFound =
  | { kind: 'manifest'; manifest: Manifest }
  /** No store yet: an empty directory, or one of leftovers a writer removes. */
  | { kind: 'none' }
  /** A first replicate into the directory stopped before its manifest: not a store yet (NOT_A_STORE). */
  | { kind: 'unfinished'; error: TzkvError }
  /** The store's files are there, its MANIFEST is not (CORRUPT). */
  | { kind: 'missing'; error: TzkvError }
  /** The MANIFEST does not decode (CORRUPT); `bytes`: its size. */
  | { kind: 'damaged'; error: TzkvError; bytes: number };

/**
 * The store's manifest, or why there is none. Throws VERSION for a newer
 * format, NOT_A_STORE for a directory of other files, IO.
 */
export function findManifest(fs: FileSystem, dir: string): ManifestFound {
  const buf = readManifestBytes(fs, dir);
  if (buf !== null) {
    try {
      return { kind: 'manifest', manifest: decodeStoreManifest(dir, buf) };
    } catch (err) {
      if (isTzkvError(err, 'CORRUPT')) return { kind: 'damaged', error: err, bytes: buf.length };
      throw err;
    }
  }
  const refused = withoutManifest(fs, dir);
  if (!refused) return { kind: 'none' };
  return refused.code === 'CORRUPT' ? { kind: 'missing', error: refused } : { kind: 'unfinished', error: refused };
}

/** The store's manifest; null when there is no store yet. Throws findManifest's errors, and why a store has none it can read. */
export function loadManifest(fs: FileSystem, dir: string): Manifest | null {
  const found = findManifest(fs, dir);
  if (found.kind === 'manifest') return found.manifest;
  if (found.kind === 'none') return null;
  throw found.error;
}

/** A census as an edit gives it: its generation is the manifest's own, stamped on install. */
export type CensusCount = Omit<Census, 'generation'>;

/** What a store was, as its followers know it: a manifest rebuilt without the old one keeps it. */
export interface FormerIdentity {
  storeId: string;
  generation: number;
}

/** What a store is made as, for good (docs/format.md "Format version 2"): both null for a plain (version 1) store. */
export type StoreSettings = Pick<Manifest, 'encryption' | 'compression'>;

/** What the manifest records of a store with `codec`. */
export function settingsOf(codec: StoreCodec): StoreSettings {
  return { encryption: codec.encryption === undefined ? null : { cipher: 'aes-256-gcm' }, compression: codec.compression ?? null };
}

/**
 * The first manifest of a store, or one rebuilt from its files: `segments` in
 * log order, the last one active and indexed from its header; no runs. A
 * rebuilt one keeps the identity its followers know (`former`). `settings`:
 * encrypted and/or compressed (default plain).
 */
export function newManifest(o: { segments: SegmentInfo[]; nextFile: number; now: number; census: CensusCount | null; former?: FormerIdentity | null; settings?: StoreSettings }): Manifest {
  const generation = (o.former?.generation ?? 0) + 1;
  const last = o.segments[o.segments.length - 1];
  return {
    generation,
    nextFile: o.nextFile,
    active: { file: last.file, indexedTo: FILE_HEADER_BYTES },
    segments: o.segments.map((s) => ({ file: s.file, size: s === last ? null : s.size, ...(s.key !== undefined ? { key: s.key } : {}) })),
    runs: [],
    counters: { puts: 0, deletes: 0, deadBytes: 0, expiredDropped: 0, compactedRecords: 0 },
    created: new Date(o.now).toISOString(),
    lastCompaction: null,
    census: o.census && { ...o.census, generation },
    compaction: null,
    lastCompactionReport: null,
    storeId: o.former?.storeId ?? randomHex(8),
    follower: null,
    encryption: o.settings?.encryption ?? null,
    compression: o.settings?.compression ?? null,
    extra: {},
  };
}

/** Files an edit takes out of the manifest (by number, a run of neighbours in its order) and puts in their place. */
interface FileChange<T> {
  remove?: readonly number[];
  add: readonly T[];
}

/**
 * A change to the manifest. Fields left out stay as they are. Files added
 * must be on disk (fsynced, the directory too) before the edit is installed.
 */
export interface ManifestEdit {
  /** Numbers the edit's new files took are below this (FileNumbers): the next `nextFile`. */
  nextFile?: number;
  /** Index runs (newest first): added in the place of those removed; on top (newest) when none are. */
  runs?: FileChange<RunInfo>;
  /** Segments (log order): added in the place of those removed; after the last when none are. The last listed is the active one. */
  segments?: FileChange<SegmentInfo>;
  /** The size the active segment is sealed at, when the edit makes another one active and keeps it. */
  sealedAt?: number;
  /** How far the runs cover the active segment; required when the edit makes another segment active. */
  indexedTo?: number;
  /** Added to the counters. */
  counted?: Partial<Counters>;
  /** The census from now on; null drops it. Left out: kept while valid (docs/format.md "census"). */
  census?: CensusCount | null;
  /** A compaction's marker (its generation is the new manifest's: the snapshot), or null when it ends. */
  compaction?: Omit<CompactionMarker, 'generation'> | null;
  compactionReport?: CompactionSummary;
  /** When the last compaction switched in (ISO). */
  lastCompaction?: string;
  follower?: FollowerMark | null;
  storeId?: string;
}

/** File numbers for an edit's new files, handed out from the manifest's `nextFile` (LevelDB's NewFileNumber). */
export class FileNumbers {
  constructor(public next: number) {}

  take(): number {
    return this.next++;
  }
}

function internal(message: string): TzkvError {
  return new TzkvError('INTERNAL', `manifest edit: ${message}`);
}

function changeFiles<T extends { file: number }>(list: readonly T[], change: FileChange<T>, where: 'top' | 'end', what: string): T[] {
  const add = change.add.map((f) => ({ ...f }));
  const remove = change.remove ?? [];
  if (remove.length === 0) return where === 'top' ? [...add, ...list] : [...list, ...add];
  const at = list.findIndex((f) => f.file === remove[0]);
  if (at < 0 || remove.some((file, i) => list[at + i]?.file !== file)) throw internal(`removes ${what} ${remove.join(', ')}, which the manifest does not list together`);
  return [...list.slice(0, at), ...add, ...list.slice(at + remove.length)];
}

/** The manifest after `edit`: one generation on. `m` is left as it is. */
export function nextManifest(m: Manifest, edit: ManifestEdit): Manifest {
  const next = cloneManifest(m);
  next.generation = m.generation + 1;
  if (edit.nextFile !== undefined) next.nextFile = Math.max(m.nextFile, edit.nextFile);
  if (edit.runs) next.runs = changeFiles(next.runs, edit.runs, 'top', 'runs');
  if (edit.segments) next.segments = changeFiles(next.segments, edit.segments, 'end', 'segments');
  const last = next.segments[next.segments.length - 1];
  if (!last) throw internal('leaves no segment');
  if (last.file !== m.active.file) {
    const sealed = next.segments.find((s) => s.file === m.active.file);
    if (sealed) {
      if (edit.sealedAt === undefined) throw internal(`seals segment ${sealed.file} at no size`);
      sealed.size = edit.sealedAt;
    }
    if (edit.indexedTo === undefined) throw internal(`makes segment ${last.file} active without saying how far it is indexed`);
  }
  last.size = null;
  next.active = { file: last.file, indexedTo: edit.indexedTo ?? m.active.indexedTo };
  for (const f of [...(edit.runs?.add ?? []), ...(edit.segments?.add ?? [])]) {
    if (f.file >= next.nextFile) throw internal(`adds file ${f.file}, not below nextFile ${next.nextFile}`);
  }
  for (const [name, n] of Object.entries(edit.counted ?? {}) as Array<[keyof Counters, number]>) next.counters[name] += n;
  const census = edit.census !== undefined ? edit.census : censusValid(m) ? next.census : null;
  next.census = census && { ...census, ...(census.phantom ? { phantom: { ...census.phantom } } : {}), generation: next.generation };
  if (edit.compaction !== undefined) next.compaction = edit.compaction && { ...edit.compaction, generation: next.generation };
  if (edit.compactionReport) next.lastCompactionReport = { ...edit.compactionReport };
  if (edit.lastCompaction !== undefined) next.lastCompaction = edit.lastCompaction;
  if (edit.follower !== undefined) next.follower = edit.follower;
  if (edit.storeId !== undefined) next.storeId = edit.storeId;
  return next;
}

/** The manifest a follower holds of its leader's cut: the leader's (same generation), without its running compaction, marked. */
export function followerManifest(leader: Manifest, mark: FollowerMark): Manifest {
  const m = cloneManifest(leader);
  m.compaction = null; // the leader's running compaction is not the follower's
  m.follower = mark;
  return m;
}

/**
 * Makes `m` the manifest of the store in `dir`: temp + fsync + rename +
 * directory fsync (io/fs.ts replaceFile), so a crash leaves the old manifest
 * or `m`. `onInstalled` runs right after the rename: from then on `m` is the
 * store, even should the directory fsync fail. Failures are IO errors naming
 * the MANIFEST.
 */
export function installManifest(fs: FileSystem, dir: string, m: Manifest, onInstalled?: () => void): void {
  try {
    replaceFile(fs, dir, MANIFEST_NAME, encodeManifest(m), onInstalled);
  } catch (err) {
    throw ioError(err, 'cannot write', `${dir}/${MANIFEST_NAME}`);
  }
}
