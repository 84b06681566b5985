// Incremental replication of a local store to a follower (docs/design.md
// "Replication"). Takes no lock: sealed segments and index runs never change,
// the active segment only grows, so a leader view (manifest + the tail's valid
// end) is a consistent cut. Every byte range is checked on arrival; the
// follower's manifest is switched last, atomically.
import type { ReplicateReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { MANIFEST_NAME, RUN_EXT, SEGMENT_EXT, TMP_SUFFIX } from '../format/constants.js';
import { parseFileName } from '../format/bytes.js';
import { cloneManifest, encodeManifest } from '../format/manifest.js';
import type { Manifest } from '../format/manifest.js';
import type { FileSystem } from '../io/fs.js';
import { runName, segmentName } from '../engine/layout.js';
import { scanLog } from '../engine/log-scan.js';
import { RunReader } from '../engine/run-reader.js';
import { View } from '../engine/view.js';
import type { ReplicationTarget } from './target.js';

const RETRIES = 8;
const CHUNK = 8 * 1024 * 1024;

export interface FollowerMark {
  leader: string;
  leaderId: string;
  generation: number;
  replicatedAt: string;
}

export function storeIdOf(m: Manifest): string {
  return typeof m.extra.storeId === 'string' ? m.extra.storeId : `created:${m.created}`;
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

/** Checks that segment bytes [from, to) are whole committed records. */
function checkSegmentRange(name: string, buf: Buffer, from: number): void {
  const scan = scanLog(buf, from, buf.length, false);
  if (scan.end.kind !== 'clean') {
    const offset = 'offset' in scan.end ? scan.end.offset : from;
    throw new TzkvError('CORRUPT', `${name} offset ${offset}: leader bytes failed their check while replicating (${scan.end.kind})`, { offset });
  }
}

export function replicate(
  fs: FileSystem,
  leaderDir: string,
  target: ReplicationTarget,
  now: number,
  onProgress?: (done: number, total: number) => void,
): ReplicateReport {
  for (let attempt = 0; ; attempt++) {
    try {
      return replicateOnce(fs, leaderDir, target, now, onProgress);
    } catch (err) {
      // A leader file vanished under us (index merge, compaction): start over from a fresh cut.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < RETRIES) continue;
      throw err;
    }
  }
}

function replicateOnce(
  fs: FileSystem,
  leaderDir: string,
  target: ReplicationTarget,
  now: number,
  onProgress?: (done: number, total: number) => void,
): ReplicateReport {
  const started = Date.now();
  if (target.location === leaderDir) throw new TzkvError('INVALID_ARGUMENT', `cannot replicate ${leaderDir} onto itself`);
  const view = View.load(fs, leaderDir);
  try {
    const m = view.manifest;
    if (!m) throw new TzkvError('INVALID_ARGUMENT', `store ${leaderDir} is empty: nothing to replicate yet`, { path: leaderDir });
    if (view.tailState.kind === 'corrupt') {
      throw new TzkvError('CORRUPT', `store ${leaderDir} has damage in its active segment at offset ${view.tailState.offset}; run \`tzkv verify\``);
    }
    const leaderId = storeIdOf(m);
    const current = target.open();
    const mark = current?.extra.follower as FollowerMark | undefined;
    if (current && !mark) {
      throw new TzkvError('NOT_A_STORE', `${target.location} is an independent tzkv store, not a follower: refusing to overwrite it`, { path: target.location });
    }
    if (mark && mark.leaderId !== leaderId) {
      throw new TzkvError('NOT_A_STORE', `${target.location} is a follower of another store (${mark.leader}): refusing to overwrite it`, { path: target.location });
    }
    const activeEnd = view.tailEnd;
    // What to ship: [name, from, to, kind], with `from` > 0 for appends to a growing segment.
    const plan: Array<{ name: string; from: number; to: number; segment: boolean }> = [];
    for (const s of m.segments) {
      const name = segmentName(s.file);
      const to = s.size ?? activeEnd;
      const have = target.size(name);
      // A follower's file can only have grown as a prefix of ours; anything else is shipped whole.
      if (have === to && current?.segments.some((c) => c.file === s.file)) continue;
      // The follower's active segment grows by appending: from its indexed end, a record
      // boundary (a replicate killed mid-append may have left a partial record after it).
      const appendable = have !== undefined && current !== null && current.active.file === s.file && current.active.indexedTo <= to;
      plan.push({ name, from: appendable ? current.active.indexedTo : 0, to, segment: true });
    }
    for (const r of m.runs) {
      const name = runName(r.file);
      const size = fs.stat(`${leaderDir}/${name}`)?.size;
      if (size === undefined) throw Object.assign(new Error(`${name} vanished`), { code: 'ENOENT' });
      if (target.size(name) === size && current?.runs.some((c) => c.file === r.file)) continue;
      plan.push({ name, from: 0, to: size, segment: false });
    }
    const total = plan.reduce((n, p) => n + (p.to - p.from), 0);
    let done = 0;
    for (const p of plan) {
      const path = `${leaderDir}/${p.name}`;
      if (p.segment && p.from > 0) {
        const bytes = readRange(fs, path, p.from, p.to);
        checkSegmentRange(p.name, bytes, p.from);
        target.appendFile(p.name, p.from, bytes);
      } else if (p.segment) {
        const header = readRange(fs, path, 0, Math.min(16, p.to));
        const chunks: Buffer[] = [header];
        for (let at = 16; at < p.to; ) {
          const end = Math.min(p.to, at + CHUNK);
          chunks.push(readRange(fs, path, at, end));
          at = end;
        }
        // Check the records whole (a record may straddle two chunks).
        checkSegmentRange(p.name, Buffer.concat(chunks.slice(1)), 16);
        target.writeFile(p.name, chunks);
      } else {
        target.writeFile(p.name, [readRange(fs, path, 0, p.to)]);
      }
      done += p.to - p.from;
      onProgress?.(done, total);
    }
    target.syncNames();
    // Runs are checked on arrival: header, every block's CRC, every entry in order.
    for (const p of plan) {
      if (p.segment) continue;
      const file = parseFileName(p.name, RUN_EXT);
      const reader = RunReader.open(fs, target.location, file);
      try {
        let count = 0;
        for (const _ of reader.cursor(Buffer.alloc(0))) count++;
        if (count !== reader.header.entries) throw new TzkvError('CORRUPT', `${p.name}: ${count} entries arrived, its header says ${reader.header.entries}`);
      } finally {
        reader.close();
      }
    }
    const follower = cloneManifest(m);
    follower.extra.follower = {
      leader: leaderDir,
      leaderId,
      generation: m.generation,
      replicatedAt: new Date(now).toISOString(),
    } satisfies FollowerMark;
    target.switchManifest(encodeManifest(follower));
    const listed = new Set([...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file))]);
    let removed = 0;
    for (const name of target.list()) {
      const ours = name.endsWith(TMP_SUFFIX) || parseFileName(name, SEGMENT_EXT) > 0 || parseFileName(name, RUN_EXT) > 0;
      if (ours && name !== `${MANIFEST_NAME}${TMP_SUFFIX}` && !listed.has(name)) {
        target.remove(name);
        removed++;
      }
    }
    return {
      target: target.location,
      initial: current === null,
      filesShipped: plan.length,
      bytesShipped: total,
      filesRemoved: removed,
      position: { generation: m.generation, segment: m.active.file, offset: activeEnd },
      durationMs: Date.now() - started,
    };
  } finally {
    view.close();
  }
}
