// Incremental replication of a local store to a follower (docs/design.md
// "Replication"). Takes no lock: sealed segments and index runs never change,
// the active segment only grows, so a leader view (manifest + the tail's valid
// end) is a consistent cut. Every byte range is checked on arrival; the
// follower's manifest is switched last, atomically.
import type { ReplicateOptions, ReplicateReport } from '../api.js';
import { REPAIR_HINT, TzkvError } from '../errors.js';
import { undoneError } from '../engine/files/leftovers.js';
import { FILE_HEADER_BYTES, KEYRING_NAME, MAGIC_SEGMENT, MANIFEST_NAME, REPLICATING_NAME, RUN_EXT, SEGMENT_EXT } from '../format/constants.js';
import { checkFileHeader, fileVersion } from '../format/file-header.js';
import { segmentFormat } from '../engine/log/segment-format.js';
import { decodeKeyring } from '../format/keyring.js';
import { parseFileName } from '../format/bytes.js';
import type { Manifest } from '../format/manifest.js';
import type { StoreCodec } from '../format/store-codec.js';
import type { FileSystem } from '../io/fs.js';
import { readWholeFile } from '../io/fs.js';
import { keyringOp } from '../engine/files/keyring-file.js';
import { runName, segmentName } from '../engine/files/layout.js';
import { fileKind, leftoverUnlessListed } from '../engine/files/file-kinds.js';
import { listedNames } from '../engine/files/manifest-files.js';
import { followerManifest } from '../engine/files/store-manifest.js';
import { RecordScanner } from '../engine/log/record-scan.js';
import { RunReader } from '../engine/runs/run-reader.js';
import { readTtlRemoves, ttlSection } from '../engine/runs/run-ttl.js';
import { View } from '../engine/read/view.js';
import { keysGiven } from '../engine/keys-given.js';
import { runProblemsWithoutKeys } from '../engine/verify/verify-runs-keyless.js';
import { isRecordedFollower, recordFollower } from './follower-record.js';
import type { ReplicationTarget } from './target.js';

const RETRIES = 8;
const CHUNK = 8 * 1024 * 1024;

/** Who a leader is to its followers: its store id (a store older than ids: when it was created). */
function storeIdOf(m: Manifest): string {
  return m.storeId ?? `created:${m.created}`;
}

function readRange(fs: FileSystem, path: string, from: number, to: number): Buffer {
  const fd = fs.openRead(path);
  try {
    const buf = Buffer.allocUnsafe(to - from);
    const n = fs.read(fd, buf, 0, to - from, from);
    if (n !== to - from) throw new TzkvError('CORRUPT', `${path}: shorter than the manifest says (${from + n} < ${to})`, { path });
    return buf;
  } finally {
    fs.close(fd);
  }
}

/**
 * Reads segment bytes [from, to) chunk by chunk, checking each record as it
 * passes (framing, CRC, batch commits; memory bounded by the chunk and one
 * record), and yields the chunks to be written. The range must end on a
 * committed record. `counted.records` gets the records seen. The yielded
 * buffer is reused: a consumer must be done with it before asking for the next.
 */
function* checkedSegmentChunks(fs: FileSystem, dir: string, codec: StoreCodec, name: string, from: number, to: number, counted: { records: number }): Generator<Buffer> {
  const path = `${dir}/${name}`;
  const fd = fs.openRead(path);
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, to - from)));
    // The records are framed as the segment's header says (an encrypted one's in sealed groups, checked by CRCs and tiling).
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    const hn = fs.read(fd, header, 0, FILE_HEADER_BYTES, 0);
    const format = hn === FILE_HEADER_BYTES && checkFileHeader(header, MAGIC_SEGMENT, parseFileName(name, SEGMENT_EXT)) === undefined ? segmentFormat(fileVersion(header), codec, path, false) : undefined;
    let at = from;
    if (at === 0) {
      // The file header is checked by the follower's readers; it is shipped as it is.
      const n = fs.read(fd, buf, 0, Math.min(FILE_HEADER_BYTES, to), 0);
      if (n !== Math.min(FILE_HEADER_BYTES, to)) throw shortRead(path, n, to);
      at = n;
      yield buf.subarray(0, n);
    }
    // Replicate works WITHOUT the key (docs/format.md: it copies sealed bytes, seals nothing): nothing here may call codec.encryption.keys().
    const scanner = new RecordScanner(at, codec, {}, to, true, format);
    while (at < to) {
      const want = Math.min(buf.length, to - at);
      const n = fs.read(fd, buf, 0, want, at);
      if (n !== want) throw shortRead(path, at + n, to);
      scanner.push(buf, 0, n);
      if (scanner.failure) break;
      at += n;
      yield buf.subarray(0, n);
    }
    const end = scanner.finish();
    if (end.kind !== 'clean') {
      const offset = 'offset' in end ? end.offset : from;
      throw new TzkvError('CORRUPT', `${name} offset ${offset}: leader bytes failed their check while replicating (${end.kind})`, { offset });
    }
    counted.records += scanner.records;
  } finally {
    fs.close(fd);
  }
}

function shortRead(path: string, got: number, to: number): TzkvError {
  return new TzkvError('CORRUPT', `${path}: shorter than the manifest says (${got} < ${to})`, { path });
}

/**
 * `codec`: the leader's. Replication must work without the store's key (an
 * encrypted leader is replicated by whoever can read its files): its keys()
 * may throw KEY_REQUIRED, and nothing on this path may ask for them.
 */
export function replicate(
  fs: FileSystem,
  leaderDir: string,
  codec: StoreCodec,
  target: ReplicationTarget,
  now: number,
  options: ReplicateOptions = {},
): ReplicateReport {
  for (let attempt = 0; ; attempt++) {
    try {
      return replicateOnce(fs, leaderDir, codec, target, now, options);
    } catch (err) {
      // A leader file vanished under us (index merge, compaction): start over from a fresh cut.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < RETRIES) continue;
      throw err;
    }
  }
}


/** Names whose bytes equal the leader's, per a byte-by-byte comparison; the rest are returned. */
function differing(fs: FileSystem, leaderDir: string, target: ReplicationTarget, names: Array<{ name: string; to: number }>, counted: { bytes: number }): Set<string> {
  const out = new Set<string>();
  for (const { name, to } of names) {
    for (let at = 0; at < to; at += CHUNK) {
      const end = Math.min(to, at + CHUNK);
      const theirs = target.read(name, at, end - at);
      counted.bytes += theirs.length;
      if (!theirs.equals(readRange(fs, `${leaderDir}/${name}`, at, end))) {
        out.add(name);
        break;
      }
    }
  }
  return out;
}

function replicateOnce(
  fs: FileSystem,
  leaderDir: string,
  codec: StoreCodec,
  target: ReplicationTarget,
  now: number,
  options: ReplicateOptions,
): ReplicateReport {
  const started = Date.now();
  if (target.location === leaderDir) throw new TzkvError('INVALID_ARGUMENT', `cannot replicate ${leaderDir} onto itself`);
  // Replicate works WITHOUT the key (docs/format.md: it copies sealed bytes, seals nothing): nothing here may call codec.encryption.keys().
  const view = View.load(fs, leaderDir, codec, false);
  try {
    const m = view.manifest;
    if (!m) throw new TzkvError('INVALID_ARGUMENT', `store ${leaderDir} is empty: nothing to replicate yet`, { path: leaderDir });
    if (view.tailState.kind === 'corrupt') {
      throw new TzkvError('CORRUPT', `store ${leaderDir} has damage in its active segment at offset ${view.tailState.offset}; ${REPAIR_HINT}`);
    }
    const leaderId = storeIdOf(m);
    const opened = target.open();
    const current = opened.manifest;
    const mark = current?.follower;
    if (current && !mark) {
      throw new TzkvError('NOT_A_STORE', `${target.location} is an independent tzkv store, not a follower: refusing to overwrite it`, { path: target.location });
    }
    if (mark && mark.leaderId !== leaderId) {
      throw new TzkvError('NOT_A_STORE', `${target.location} is a follower of another store (${mark.leader}): refusing to overwrite it`, { path: target.location });
    }
    // Without a readable manifest a store's files cannot say whose they are: only a follower this leader
    // has replicated to, or one a replicate was filling (REPLICATING), is filled again.
    if (opened.damaged && opened.interrupted === null && !isRecordedFollower(fs, leaderDir, target.location)) {
      throw new TzkvError(
        'CORRUPT',
        `${target.location} holds a tzkv store without a readable MANIFEST, and ${leaderDir} never replicated to it: refusing to overwrite it (\`tzkv verify --repair -d ${target.location}\` rebuilds its manifest)`,
        { path: `${target.location}/${MANIFEST_NAME}` },
      );
    }
    const resynced = new Set<string>(opened.damaged ? [MANIFEST_NAME] : []);
    // A previous replicate that was killed changed these names itself: a changed fingerprint there is ours.
    const ours = new Set(opened.interrupted ?? []);
    const recorded = mark?.files;
    const activeEnd = view.tailEnd;
    const listedThere = current ? listedNames(current) : new Set<string>();
    /** Whether the follower's copy is as the last replicate left it. Followers from before fingerprints: by size. */
    const intact = (name: string): boolean => {
      if (!listedThere.has(name)) return false;
      if (!recorded) return true;
      if (recorded[name] !== undefined && recorded[name] === target.fingerprint(name)) return true;
      if (!ours.has(name)) resynced.add(name);
      return false;
    };
    const leaderSizes = new Map<string, number>();
    for (const s of m.segments) leaderSizes.set(segmentName(s.file), s.size ?? activeEnd);
    for (const r of m.runs) {
      const name = runName(r.file);
      const size = fs.stat(`${leaderDir}/${name}`)?.size;
      if (size === undefined) throw Object.assign(new Error(`${name} vanished`), { code: 'ENOENT' });
      leaderSizes.set(name, size);
    }
    const runEntries = new Map(m.runs.map((r) => [runName(r.file), r.entries]));
    const counted = { bytes: 0 };
    const bad = options.check
      ? differing(fs, leaderDir, target, [...leaderSizes].filter(([name]) => listedThere.has(name)).map(([name, to]) => ({ name, to: Math.min(to, target.size(name) ?? 0) })), counted)
      : new Set<string>();
    for (const name of bad) resynced.add(name);
    // What to ship: [name, from, to, kind], with `from` > 0 for appends to a growing segment.
    const plan: Array<{ name: string; from: number; to: number; segment: boolean }> = [];
    for (const s of m.segments) {
      const name = segmentName(s.file);
      const to = leaderSizes.get(name)!;
      const have = target.size(name);
      const same = intact(name) && !bad.has(name);
      if (same && have === to) continue;
      // The follower's active segment grows by appending. From where the last replicate left
      // it when the fingerprint proves the file is as it was left (whole records); else from
      // its indexed end, a record boundary (a replicate killed mid-append may have left a
      // partial record after it).
      const appendable =
        (same || (ours.has(name) && !resynced.has(name) && !bad.has(name))) &&
        have !== undefined && have <= to && current !== null && current.active.file === s.file && current.active.indexedTo <= to;
      const from = !appendable ? 0 : same && recorded ? have : current.active.indexedTo;
      plan.push({ name, from, to, segment: true });
    }
    for (const r of m.runs) {
      const name = runName(r.file);
      const size = leaderSizes.get(name)!;
      if (intact(name) && !bad.has(name) && target.size(name) === size) continue;
      plan.push({ name, from: 0, to: size, segment: false });
    }
    const keyring = changedKeyring(fs, leaderDir, m, target);
    // The follower's manifest in place: a failure before the switch takes back everything written for it.
    let listed = current;
    const total = plan.reduce((n, p) => n + (p.to - p.from), 0);
    const shipped = { records: 0 };
    try {
      if (plan.length > 0) target.writeFile(REPLICATING_NAME, [Buffer.from(`${JSON.stringify(plan.map((p) => p.name))}\n`)]);
      let done = 0;
      for (const p of plan) {
        if (p.segment) {
          const chunks = checkedSegmentChunks(fs, leaderDir, codec, p.name, p.from, p.to, shipped);
          if (p.from > 0) target.appendFile(p.name, p.from, chunks);
          else target.writeFile(p.name, chunks);
        } else {
          // A run is checked whole once it has arrived (checkRunArrived); it travels in chunks too.
          const path = `${leaderDir}/${p.name}`;
          target.writeFile(p.name, (function* () {
            for (let at = 0; at < p.to; at += CHUNK) yield readRange(fs, path, at, Math.min(p.to, at + CHUNK));
          })());
        }
        done += p.to - p.from;
        options.onProgress?.(done, total);
      }
      target.syncNames();
      for (const p of plan) if (!p.segment) checkRunArrived(fs, target.location, codec, p.name, runEntries.get(p.name)!);
      const files: Record<string, string> = {};
      for (const name of leaderSizes.keys()) files[name] = target.fingerprint(name) ?? '';
      const follower = followerManifest(m, { leader: leaderDir, leaderId, generation: m.generation, replicatedAt: new Date(now).toISOString(), activeEnd, files });
      // An encrypted store's KEYRING travels too (docs/format.md "KEYRING"): before the switch when it opens every file the
      // follower lists now, so the follower opens with the leader's secret throughout; else (keys the follower still names were
      // dropped) right after it: a replicate killed between the two leaves a follower the next replicate completes.
      const early = keyring !== null && opensEveryFile(keyring, current);
      if (early) shipKeyring(target, keyring);
      target.switchManifest(follower, () => (listed = follower));
      if (keyring !== null && !early) shipKeyring(target, keyring);
    } catch (err) {
      const left = target.undo(listed);
      throw left.length > 0 && err instanceof TzkvError ? undoneError(err, left) : err;
    }
    let removed = 0;
    for (const name of target.list()) {
      const f = fileKind(name);
      if (leftoverUnlessListed(f) && f.kind !== 'manifest-temp' && !leaderSizes.has(name) && !target.inUse(name)) {
        target.remove(name);
        removed++;
      }
    }
    target.remove(REPLICATING_NAME);
    const report: ReplicateReport = {
      target: target.location,
      initial: current === null && !opened.damaged,
      filesShipped: plan.length + (keyring ? 1 : 0),
      bytesShipped: total + (keyring?.length ?? 0),
      records: shipped.records,
      filesRemoved: removed,
      resynced: [...resynced].sort(),
      checkedBytes: counted.bytes,
      position: { generation: m.generation, segment: m.active.file, offset: activeEnd },
      durationMs: Date.now() - started,
    };
    recordFollower(fs, leaderDir, {
      location: target.location,
      replicatedAt: new Date(now).toISOString(),
      generation: m.generation,
      position: report.position,
      bytesShipped: total,
    });
    return report;
  } finally {
    view.close();
  }
}

/**
 * An encrypted leader's KEYRING when the follower's differs from it (it is
 * shipped), else null. Read without the secret: replicate never opens it.
 */
function changedKeyring(fs: FileSystem, leaderDir: string, m: Manifest, target: ReplicationTarget): Buffer | null {
  if (m.encryption === null) return null;
  const path = `${leaderDir}/${KEYRING_NAME}`;
  let bytes: Buffer;
  try {
    bytes = readWholeFile(fs, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new TzkvError('CORRUPT', `${KEYRING_NAME} is missing from ${leaderDir}, an encrypted store: without it the data cannot be read`, { path });
  }
  keyringOp(() => decodeKeyring(bytes, path)); // a damaged one is not shipped
  const size = target.size(KEYRING_NAME);
  return size === bytes.length && target.read(KEYRING_NAME, 0, size).equals(bytes) ? null : bytes;
}

/** Whether `keyring` holds every data key the files of the follower's manifest `m` name (none yet: true). */
function opensEveryFile(keyring: Buffer, m: Manifest | null): boolean {
  if (m === null) return true;
  const ids = new Set(decodeKeyring(keyring, KEYRING_NAME).keys.map((k) => k.id));
  return [...m.segments, ...m.runs].every((f) => f.key === undefined || ids.has(f.key));
}

/** Makes `keyring` the follower's KEYRING: written aside, fsynced, renamed, the directory fsynced. */
function shipKeyring(target: ReplicationTarget, keyring: Buffer): void {
  target.writeFile(KEYRING_NAME, [keyring]);
  target.syncNames();
}

/**
 * Runs are checked on arrival: header, every block's CRC, every entry in
 * order, the TTL section. An encrypted store's without its key: as verify
 * checks them without it (framing, CRCs, counts; the entries are sealed).
 */
function checkRunArrived(fs: FileSystem, dir: string, codec: StoreCodec, name: string, entries: number): void {
  const file = parseFileName(name, RUN_EXT);
  // Replicate works WITHOUT the key (docs/format.md: it copies sealed bytes, seals nothing): keysGiven() asks without failing.
  if (keysGiven(codec) === null) {
    const problem = runProblemsWithoutKeys(fs, dir, codec, file, entries)[0];
    if (problem) throw new TzkvError('CORRUPT', `${name}${problem.offset === null ? '' : ` offset ${problem.offset}`}: ${problem.message}`, { path: `${dir}/${name}` });
    return;
  }
  const reader = RunReader.open(fs, dir, file, codec);
  try {
    let count = 0;
    for (const _ of reader.cursor(Buffer.alloc(0))) count++;
    if (count !== reader.header.entries) throw new TzkvError('CORRUPT', `${name}: ${count} entries arrived, its header says ${reader.header.entries}`);
    const section = ttlSection(reader);
    if (section) readTtlRemoves(reader, section);
  } finally {
    reader.close();
  }
}
