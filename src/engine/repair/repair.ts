// verify --repair (docs/design.md "Repair"). REQUIRES: the writer lock.
// Nothing readable is ever deleted: unreadable byte ranges of segments are
// first copied into a quarantine file; a torn end of the active segment is
// then cut off in place; a segment with damage inside is rewritten without it
// (with every later segment, under new numbers, so file order stays log
// order); the index is rebuilt from the data into one run when any of it is
// damaged or offsets moved, and the census recomputed from it. Every new file
// is written under a temporary name, fsynced and renamed, the directory
// fsynced, and the manifest switched last: a crash before the switch leaves
// the old store (its new files unlisted, removed by the next writer).
import type { RepairReport } from '../../api.js';
import { TzkvError, ioError } from '../../errors.js';
import { FILE_HEADER_BYTES, MAGIC_SEGMENT, MANIFEST_NAME, QUARANTINE_EXT, QUARANTINE_PREFIX, RUN_EXT, SEGMENT_EXT } from '../../format/constants.js';
import { encodeFileHeader, fileVersionFor } from '../../format/file-header.js';
import { dataKey } from '../data-key.js';
import { resealedRange } from './resealed-ranges.js';
import type { Manifest } from '../../format/manifest.js';
import { encodeQuarantineEntry, encodeQuarantineHeader, QUARANTINE_HEADER_BYTES } from '../../format/quarantine.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { cutFileBack, removeQuietly, writeFileAside } from '../../io/fs.js';
import type { Processes } from '../../io/processes.js';
import { fileKind } from '../files/file-kinds.js';
import { runName, segmentName } from '../files/layout.js';
import { highestFileNumber } from '../files/manifest-files.js';
import { rebuildIndex } from './index-rebuild.js';
import { verifyStore } from '../verify/verify.js';
import type { UnreadableRange } from '../verify/verify-log.js';
import { findManifest, installManifest, newManifest, nextManifest, settingsOf } from '../files/store-manifest.js';
import { segmentVersion } from '../files/made-as.js';
import type { FormerIdentity, ManifestEdit } from '../files/store-manifest.js';
import { removeOwnLeftovers, undoneError } from '../files/leftovers.js';
import { requireKeys } from '../keys-given.js';

const CHUNK = 4 * 1024 * 1024;

/** Problem kinds that mean the index does not match the data: the runs are rebuilt. */
const INDEX_KINDS = new Set(['index-mismatch', 'index-order', 'index-count', 'corrupt-index', 'bloom-mismatch', 'not-indexed', 'census-mismatch']);

/** Runs one file step; a failure comes out as tzkv's IO error, "WHAT PATH: reason" (errors.ts ioError). */
function wrapIoErrors<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw ioError(err, what, path);
  }
}

/** writeFileAside (temp + fsync + rename), its failure worded as tzkv's. */
function writeNewFile(fs: FileSystem, dir: string, name: string, chunks: Iterable<Buffer>): number {
  return wrapIoErrors('cannot write', `${dir}/${name}.tmp`, () => writeFileAside(fs, dir, name, chunks));
}

/** Bytes [from, to) of a file, in chunks read into `buf` (what is yielded is a view of it, valid until the next chunk). */
function* fileBytes(fs: FileSystem, path: string, from: number, to: number, buf: Buffer): Generator<Buffer> {
  const fd = fs.openRead(path);
  try {
    for (let at = from; at < to; ) {
      const n = fs.read(fd, buf, 0, Math.min(buf.length, to - at), at);
      if (n === 0) return;
      yield buf.subarray(0, n);
      at += n;
    }
  } finally {
    fs.close(fd);
  }
}

function quarantineName(fs: FileSystem, dir: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  for (let n = 0; ; n++) {
    const name = `${QUARANTINE_PREFIX}${stamp}${n === 0 ? '' : `-${n}`}${QUARANTINE_EXT}`;
    if (fs.stat(`${dir}/${name}`) === undefined) return name;
  }
}

/** Ranges per file, sorted and merged. */
function byFile(ranges: UnreadableRange[]): Map<string, UnreadableRange[]> {
  const out = new Map<string, UnreadableRange[]>();
  for (const r of [...ranges].sort((a, b) => a.file.localeCompare(b.file) || a.from - b.from)) {
    const list = out.get(r.file) ?? [];
    const last = list[list.length - 1];
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else list.push({ ...r });
    out.set(r.file, list);
  }
  return out;
}

/**
 * A manifest for a store that has none it can read, from the files on disk
 * (docs/design.md "Repair"): every segment, in file-number order (which is log
 * order), the last one active; no runs (the caller rebuilds the index from the
 * data); `nextFile` past every number on disk. A store left without any segment
 * gets a new, empty one. The store stays the kind `codec` says (open() made
 * it from the files: made-as.ts), each segment listed with the data key its
 * header names.
 */
function manifestFromFiles(fs: FileSystem, dir: string, codec: StoreCodec, now: number, former: FormerIdentity | null): Manifest {
  const names = wrapIoErrors('cannot read', dir, () => fs.readdir(dir));
  const files = names.map(fileKind).filter((f) => f.kind === 'segment').map((f) => f.file).sort((a, b) => a - b);
  let nextFile = highestFileNumber(names) + 1;
  if (files.length === 0) {
    const file = nextFile++;
    writeNewFile(fs, dir, segmentName(file), [encodeFileHeader(MAGIC_SEGMENT, file, undefined, fileVersionFor(codec))]);
    files.push(file);
  }
  const last = files[files.length - 1];
  const segments = files.map((file) => {
    const path = `${dir}/${segmentName(file)}`;
    const key = segmentVersion(fs, path, file)?.keyId ?? 0;
    return { file, size: file === last ? null : (fs.stat(path)?.size ?? 0), ...(key > 0 ? { key } : {}) };
  });
  return newManifest({ segments, nextFile, now, census: null, former, settings: settingsOf(codec) });
}

/**
 * The store's manifest; `lost` when the store has none it can read (with the
 * size of the damaged one, 0 when it is missing), null for an empty store.
 */
function ownManifest(fs: FileSystem, dir: string): Manifest | { lost: number } | null {
  const found = findManifest(fs, dir);
  if (found.kind === 'unfinished') throw found.error;
  if (found.kind === 'none') return null;
  return found.kind === 'manifest' ? found.manifest : { lost: found.kind === 'damaged' ? found.bytes : 0 };
}

/**
 * Repairs what the verify it starts with found. Returns what it did and, when
 * it changed nothing, that verify's report (the store is as it was checked:
 * no second verify is needed). `codec`: the store's; the verify and the index
 * rebuild read with it. An encrypted store opened without its secret is
 * refused (KEY_REQUIRED) before anything is read or written: a repair rewrites records.
 */
export function repairStore(
  fs: FileSystem,
  dir: string,
  codec: StoreCodec,
  now: number,
  processes: Processes,
  former: () => FormerIdentity | null = () => null,
  rebuildChunkKeys?: number,
): { repair: RepairReport; unchanged: ReturnType<typeof verifyStore> | null } {
  requireKeys(codec);
  const report: RepairReport = { quarantine: null, moved: [], truncated: [], rewritten: [], rebuiltRun: null, removed: [], census: 'kept', rebuiltManifest: null };
  let found = verifyStore(fs, dir, codec, undefined, undefined, undefined, processes);
  if (found.newerVersion) throw new TzkvError('VERSION', `${dir}: written by a newer tzkv; repair refused`, { path: dir });
  // A clean store may still end in bytes a failed write left (a warning): the repair cuts them.
  const own = found.ok && found.unreadable.length === 0 ? null : ownManifest(fs, dir);
  if (!own) return { repair: report, unchanged: found };
  const rebuilt = 'lost' in own;
  const damagedManifestBytes = rebuilt ? own.lost : 0;
  let m: Manifest;
  const replaced: string[] = [];
  if (rebuilt) {
    const identity = former();
    m = manifestFromFiles(fs, dir, codec, now, identity);
    // Checked again against the rebuilt manifest: what the segments hold, and what they need repaired.
    found = verifyStore(fs, dir, codec, undefined, m, undefined, processes);
    if (found.newerVersion) throw new TzkvError('VERSION', `${dir}: written by a newer tzkv; repair refused`, { path: dir });
    report.rebuiltManifest = { segments: m.segments.map((s) => segmentName(s.file)), storeId: identity ? 'kept' : 'new' };
    // The runs on disk index the data under a manifest that is gone: the rebuilt index replaces them.
    replaced.push(...wrapIoErrors('cannot read', dir, () => fs.readdir(dir)).filter((n) => fileKind(n).kind === 'run'));
  } else {
    m = own;
  }
  const missing = found.problems.find((p) => p.kind === 'missing-file' && p.file.endsWith(SEGMENT_EXT));
  if (missing) throw new TzkvError('CORRUPT', `${missing.file} is missing: a store without one of its segments cannot be repaired`, { path: `${dir}/${missing.file}` });
  const damage = byFile(found.unreadable.filter((r) => r.file.endsWith(SEGMENT_EXT)));
  const sizeOf = (name: string) => fs.stat(`${dir}/${name}`)?.size ?? 0;
  const active = segmentName(m.active.file);
  const shortSealed = found.problems.filter((p) => p.kind === 'wrong-size' && p.file !== active).map((p) => p.file);

  // The manifest in place: a failure before the switch takes back what the repair wrote (docs/design.md "Failures").
  let listed = m;
  // One buffer for every copy: one per file would be megabytes of garbage each, freed late.
  const copying = Buffer.allocUnsafe(CHUNK);
  try {
    // 1. Every unreadable range (and an unreadable manifest) into the quarantine file, durably, before anything else changes.
    const moved = [...(damagedManifestBytes > 0 ? [{ file: MANIFEST_NAME, from: 0, to: damagedManifestBytes }] : []), ...[...damage.values()].flat()];
    if (moved.length > 0) {
      const name = quarantineName(fs, dir, now);
      let at = QUARANTINE_HEADER_BYTES;
      const chunks: Buffer[] = [encodeQuarantineHeader(moved.length)];
      for (const r of moved) {
        const bytes = Buffer.concat([...fileBytes(fs, `${dir}/${r.file}`, r.from, r.to, copying)].map((b) => Buffer.from(b)));
        const entry = encodeQuarantineEntry({ file: r.file, offset: r.from, bytes });
        report.moved.push({ file: r.file, offset: r.from, bytes: bytes.length, quarantineOffset: at + entry[0].length });
        at += entry.reduce((n, b) => n + b.length, 0);
        chunks.push(...entry);
      }
      report.quarantine = name;
      writeNewFile(fs, dir, name, chunks);
      wrapIoErrors('cannot fsync', dir, () => fs.fsyncDir(dir));
    }

    // 2. A torn end of the active segment is cut in place; damage anywhere else rewrites from that segment on.
    const activeRanges = damage.get(active) ?? [];
    const tailOnly = shortSealed.length === 0 && [...damage.keys()].every((n) => n === active) && activeRanges.length === 1 && activeRanges[0].to === sizeOf(active) && activeRanges[0].from >= m.active.indexedTo;
    const segments = m.segments.map((s) => ({ ...s }));
    let nextFile = m.nextFile;
    let activeEnd = sizeOf(active);
    if (tailOnly) {
      const cut = activeRanges[0].from;
      report.truncated.push({ file: active, from: cut, to: activeEnd });
      wrapIoErrors('cannot truncate', `${dir}/${active}`, () => cutFileBack(fs, `${dir}/${active}`, cut));
      activeEnd = cut;
    } else if (damage.size > 0 || shortSealed.length > 0) {
      const first = segments.findIndex((s) => damage.has(segmentName(s.file)) || shortSealed.includes(segmentName(s.file)));
      for (let i = first; i < segments.length; i++) {
        const old = segmentName(segments[i].file);
        const end = segments[i].size === null ? sizeOf(old) : Math.min(segments[i].size!, sizeOf(old));
        const file = nextFile++;
        const name = segmentName(file);
        const skip = damage.get(old) ?? [];
        // The new segment says what the old one said (its version and data key); an encrypted one's groups are sealed again where they land.
        const version = segmentVersion(fs, `${dir}/${old}`, segments[i].file) ?? fileVersionFor(codec);
        const key = version.keyId > 0 ? dataKey(codec, version.keyId, `${dir}/${old}`) : undefined;
        const kept = function* () {
          yield encodeFileHeader(MAGIC_SEGMENT, file, undefined, version);
          let at = FILE_HEADER_BYTES;
          let shift = 0;
          for (const r of [...skip, { file: old, from: end, to: end }]) {
            const until = Math.min(r.from, end);
            if (until > at) yield* key ? resealedRange(fs, `${dir}/${old}`, at, until, key, shift) : fileBytes(fs, `${dir}/${old}`, at, until, copying);
            shift += Math.max(at, r.to) - Math.max(at, until);
            at = Math.max(at, r.to);
          }
        };
        const size = writeNewFile(fs, dir, name, kept());
        report.rewritten.push({ from: old, to: name });
        replaced.push(old);
        segments[i] = { file, size: i === segments.length - 1 ? null : size, copied: size, copiedFrom: m.active.file, ...(version.keyId > 0 ? { key: version.keyId } : {}) };
        if (i === segments.length - 1) activeEnd = size;
      }
      wrapIoErrors('cannot fsync', dir, () => fs.fsyncDir(dir));
    }

    // 3. The index, rebuilt from the data when it does not match it (or offsets moved).
    const rebuild = rebuilt || replaced.length > 0 || found.problems.some((p) => p.file.endsWith(RUN_EXT) || INDEX_KINDS.has(p.kind));
    const edit: ManifestEdit = {
      segments: { remove: m.segments.map((s) => s.file), add: segments },
      indexedTo: Math.min(m.active.indexedTo, activeEnd),
    };
    if (rebuild) {
      const built = rebuildIndex({ fs, dir, codec, take: () => nextFile++ }, segments, activeEnd, rebuildChunkKeys);
      wrapIoErrors('cannot fsync', dir, () => fs.fsyncDir(dir));
      edit.runs = { remove: m.runs.map((r) => r.file), add: [built.run] };
      edit.indexedTo = activeEnd;
      edit.census = { keys: built.keys, bytes: built.bytes };
      report.rebuiltRun = runName(built.run.file);
      report.census = 'recomputed';
      replaced.push(...m.runs.map((r) => runName(r.file)));
      // A rebuilt manifest counts from zero: the operations the rebuilt index covers.
      if (rebuilt) edit.counted = { puts: built.counts.puts, deletes: built.counts.deletes };
    }
    edit.nextFile = nextFile;
    const next = nextManifest(m, edit);

    // 4. The switch, then the old files (all their readable bytes are in the new ones or the quarantine).
    installManifest(fs, dir, next, () => (listed = next));
  } catch (err) {
    const left: string[] = [];
    // A quarantine file is a copy of bytes still in their files, unless a cut tail was moved into it.
    if (report.quarantine && report.truncated.length === 0 && listed === m) removeQuietly(fs, `${dir}/${report.quarantine}`);
    removeOwnLeftovers(fs, dir, listed, processes, left);
    throw undoneError(ioError(err, 'cannot repair', dir), left);
  }
  for (const name of replaced) {
    removeQuietly(fs, `${dir}/${name}`);
    report.removed.push(name);
  }
  wrapIoErrors('cannot fsync', dir, () => fs.fsyncDir(dir));
  return { repair: report, unchanged: null };
}
