// verify's pass over one data segment: header, then every record through the
// shared RecordScanner in big reads; damage is reported and stepped over to
// the next provable record boundary (resync.ts, the rule readers use too), so
// one bad record does not hide the rest of the file.
// The indexed records go to the RecordJoin, for the index walk.
import { FILE_HEADER_BYTES, KIND_PUT, MAGIC_SEGMENT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { type FileVersion, checkFileHeader, fileVersion } from '../../format/file-header.js';
import { isTzkvError } from '../../errors.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { segmentName } from '../files/layout.js';
import type { ScanVisitor } from '../log/record-scan.js';
import { scanSegment } from '../log/resync.js';
import { type SegmentFormat, segmentFormat } from '../log/segment-format.js';
import type { RecordJoin } from './record-join.js';
import { fingerprint, keyHashOf } from './record-table.js';
import { SealedKeyHashes } from './sealed-key-hashes.js';
import type { VerifyLog } from './verify-log.js';
import type { VerifyWorker } from './verify-worker.js';

export interface SegmentPlan {
  file: number;
  /** The manifest's size for a sealed segment; null for the active one. */
  size: number | null;
  /** Records before this offset are covered by the index runs. */
  indexedTo: number;
  /** The worker thread that checks the records' CRCs, reading through it (framing only here); none: all checked here. */
  worker?: VerifyWorker;
  /** A follower's active segment: where its leader's cut ends (view.ts followerCut). */
  cut?: number;
}

/**
 * Checks one segment. Its valid indexed records go to `records` (none: a
 * check again), which is told when the file could not be read at all.
 * `chunk` is a scratch buffer the caller reuses across segments.
 */
export function verifySegment(fs: FileSystem, dir: string, codec: StoreCodec, plan: SegmentPlan, chunk: Buffer, log: VerifyLog, records: RecordJoin | null): void {
  const name = segmentName(plan.file);
  const fd = log.openListed(fs, dir, name);
  if (fd === null) {
    records?.unreadable(plan.file);
    return;
  }
  try {
    const size = fs.size(fd);
    const hn = fs.read(fd, chunk, 0, FILE_HEADER_BYTES, 0);
    const problem = checkFileHeader(chunk.subarray(0, hn), MAGIC_SEGMENT, plan.file);
    if (problem?.kind === 'newer-version') {
      log.newerVersion(name, problem.message);
      records?.unreadable(plan.file);
      return;
    }
    if (problem) {
      // The records after a damaged header are still checked (and kept by a repair).
      log.problem(name, 0, 'bad-header', problem.message);
      log.unreadable(name, 0, Math.min(size, FILE_HEADER_BYTES));
    }
    const sealed = plan.size !== null;
    if (sealed && size !== plan.size) {
      log.problem(name, Math.min(size, plan.size!), 'wrong-size', `file is ${size} bytes, the manifest says ${plan.size}`);
      log.unreadable(name, plan.size!, size);
    } else if (!sealed && size < plan.indexedTo) {
      log.problem(name, size, 'wrong-size', `file is ${size} bytes, shorter than its indexed length ${plan.indexedTo}`);
    }
    let end = sealed ? Math.min(size, plan.size!) : size;
    if (!sealed && plan.cut !== undefined && plan.cut >= plan.indexedTo) {
      // What readers of the follower see ends at the cut.
      if (size < plan.cut) log.problem(name, size, 'wrong-size', `file is ${size} bytes, shorter than the follower's cut at ${plan.cut}; the next replicate from the leader copies it again`);
      else if (size > plan.cut) leftoverTail(log, name, plan.cut, size, "the follower's cut (left by an interrupted replicate); the next replicate replaces them");
      end = Math.min(size, plan.cut);
    }
    records?.begin(plan.file, Math.ceil(end / 64));
    const format = problem ? undefined : verifiedFormat(fileVersion(chunk), codec, `${dir}/${name}`);
    scanRecords(fs, codec, fd, name, sealed, end, plan, chunk, log, records, format);
    records?.end();
  } catch (err) {
    if (records?.owns(err)) throw err;
    log.problem(name, null, 'unreadable', log.describe(err));
    records?.unreadable(plan.file);
  } finally {
    fs.close(fd);
  }
}

/**
 * Bytes at the end of the active segment that no reader sees and no manifest
 * or index names, which the next write (or replicate) replaces: a warning,
 * not damage. `after`: what they follow, why they are there, and what happens to them.
 */
function leftoverTail(log: VerifyLog, name: string, from: number, to: number, after: string): void {
  log.warning(name, from, 'leftover', `${to - from} bytes after ${after}`);
}

/**
 * The format a segment is checked in (segment-format.ts): with its data key
 * when the store was opened with its secret, else without (framing, CRCs and
 * group tiling only). The #17 maint part decides what else verify checks without the key.
 */
function verifiedFormat(header: FileVersion, codec: StoreCodec, path: string): SegmentFormat {
  try {
    return segmentFormat(header, codec, path, true);
  } catch (err) {
    if (!isTzkvError(err, 'KEY_REQUIRED')) throw err;
    return segmentFormat(header, codec, path, false);
  }
}

function scanRecords(fs: FileSystem, codec: StoreCodec, fd: number, name: string, sealed: boolean, end: number, plan: SegmentPlan, chunk: Buffer, log: VerifyLog, records: RecordJoin | null, format: SegmentFormat | undefined): void {
  const { indexedTo, worker } = plan;
  // The worker opens an encrypted segment's groups (their tags); here they are read sealed, the keys decrypted in bulk.
  const hashes = worker && format?.key && records ? new SealedKeyHashes(format.key, records) : null;
  if (hashes) format = { ...format!, key: undefined };
  const visitor: ScanVisitor = {
    record(buf, pos, at, info, group) {
      if (hashes) return hashes.record(buf, pos, at, info, group, at < indexedTo);
      if (at >= indexedTo || !records) return;
      const keyHash = keyHashOf(buf, pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength);
      records.push(at, fingerprint(keyHash, info.kind, info.length, info.expiresAt), keyHash, info.kind === KIND_PUT);
    },
  };
  const read = worker?.segmentBytes(fs, fd, plan.file) ?? ((at: number, length: number) => chunk.subarray(0, fs.read(fd, chunk, 0, Math.min(length, chunk.length), at)));
  const scan = scanSegment(read, FILE_HEADER_BYTES, end, {
    visitor,
    codec,
    format,
    checkCrc: !worker,
    sealed,
    chunkBytes: chunk.length,
    onRead: (n) => log.progress(n),
    onDamage(d) {
      log.problem(name, d.offset, 'corrupt-record', d.message);
      log.unreadable(name, d.from, d.to);
    },
  });
  hashes?.flush();
  log.records += scan.records;
  const result = scan.end;
  // A partial record or an unclosed batch after the last committed record, past the indexed end: bytes no
  // manifest or index ever named, so never acknowledged (a record fsynced whole before it was acknowledged).
  // With sync off, a power loss inside the loss window can leave the same (docs/design.md "Failures").
  const refused = !sealed && scan.validEnd >= indexedTo && (result.kind === 'uncommitted' || (result.kind === 'torn' && result.partial));
  if (refused) {
    leftoverTail(log, name, scan.validEnd, end, 'the last committed record (left by a write that failed); the next write removes them');
    log.unreadable(name, scan.validEnd, end); // what verify --repair cuts, as the next write would
  } else if (result.kind === 'torn') {
    if (sealed) log.problem(name, result.offset, 'corrupt-record', `record runs past the end of the sealed segment`);
    else log.problem(name, result.offset, 'torn-tail', `a partial record at the end (${end - result.offset} bytes)`);
    log.unreadable(name, scan.validEnd, end);
  } else if (result.kind === 'corrupt') {
    log.problem(name, result.offset, 'corrupt-record', result.reason);
    log.unreadable(name, scan.validEnd, end);
  } else if (result.kind === 'uncommitted') {
    log.problem(name, result.offset, sealed ? 'corrupt-record' : 'uncommitted-batch', `${result.records} records of a batch without commit marker`);
    log.unreadable(name, result.offset, end);
  }
}
