// verify's pass over one data segment: header, then every record through the
// shared RecordScanner in big reads; damage is reported and skipped to the
// next valid record, so one bad record does not hide the rest of the file.
// The indexed records go into a RecordTable for the index walk.
import { FILE_HEADER_BYTES, KIND_COMMIT, KIND_PUT, MAGIC_SEGMENT, RECORD_HEADER_BYTES } from '../format/constants.js';
import { checkFileHeader } from '../format/file-header.js';
import { RECORD_OK, RECORD_SHORT, RecordInfo, decodeRecord } from '../format/record.js';
import type { FileSystem } from '../io/fs.js';
import { segmentName } from './layout.js';
import { RecordScanner } from './record-scan.js';
import type { ScanVisitor } from './record-scan.js';
import { RecordTable, fingerprint, keyHashOf } from './record-table.js';
import type { VerifyLog } from './verify-log.js';

const SEARCH_WINDOW = 1024 * 1024;
/** A candidate record longer than this is not read alone while searching past damage. */
const SEARCH_RECORD_MAX = 16 * 1024 * 1024;

/** The first offset in (from, end) where a whole, CRC-valid record starts, or -1. */
function findNextRecord(fs: FileSystem, fd: number, from: number, end: number): number {
  const win = Buffer.allocUnsafe(Math.min(SEARCH_WINDOW, Math.max(0, end - from)));
  const info = new RecordInfo();
  for (let base = from + 1; base + RECORD_HEADER_BYTES <= end; ) {
    const n = fs.read(fd, win, 0, Math.min(win.length, end - base), base);
    if (n < RECORD_HEADER_BYTES) return -1;
    for (let q = 0; q + RECORD_HEADER_BYTES <= n; q++) {
      const kind = win[q + 4];
      if (kind < KIND_PUT || kind > KIND_COMMIT) continue;
      const status = decodeRecord(win, q, n, info, true);
      if (status === RECORD_OK) return base + q;
      if (status === RECORD_SHORT && info.length > 0 && info.length <= SEARCH_RECORD_MAX && base + q + info.length <= end) {
        const one = Buffer.allocUnsafe(info.length);
        if (fs.read(fd, one, 0, info.length, base + q) === info.length && decodeRecord(one, 0, info.length, info, true) === RECORD_OK) return base + q;
      }
    }
    base += n - RECORD_HEADER_BYTES + 1;
  }
  return -1;
}

export interface SegmentPlan {
  file: number;
  /** The manifest's size for a sealed segment; null for the active one. */
  size: number | null;
  /** Records before this offset are covered by the index runs. */
  indexedTo: number;
  /** False when a worker thread checks the records' CRCs (framing only here). */
  checkCrc: boolean;
  /** A follower's active segment: where its leader's cut ends (view.ts followerCut). */
  cut?: number;
}

/**
 * Checks one segment. Returns the table of its valid indexed records, or
 * null when the file could not be read at all. `chunk` is a scratch buffer
 * the caller reuses across segments.
 */
export function verifySegment(fs: FileSystem, dir: string, plan: SegmentPlan, chunk: Buffer, log: VerifyLog): RecordTable | null {
  const name = segmentName(plan.file);
  const fd = log.openListed(fs, dir, name);
  if (fd === null) return null;
  try {
    const size = fs.size(fd);
    const hn = fs.read(fd, chunk, 0, FILE_HEADER_BYTES, 0);
    const problem = checkFileHeader(chunk.subarray(0, hn), MAGIC_SEGMENT, plan.file);
    if (problem?.kind === 'newer-version') {
      log.newerVersion(name, problem.message);
      return null;
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
      if (size < plan.cut) log.problem(name, size, 'wrong-size', `file is ${size} bytes, shorter than the follower's cut at ${plan.cut}`);
      else if (size > plan.cut) leftoverTail(log, name, plan.cut, size, "the follower's cut (left by an interrupted replicate); the next replicate replaces them");
      end = Math.min(size, plan.cut);
    }
    return scanRecords(fs, fd, name, sealed, end, plan, chunk, log);
  } catch (err) {
    log.problem(name, null, 'unreadable', log.describe(err));
    return null;
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

function scanRecords(fs: FileSystem, fd: number, name: string, sealed: boolean, end: number, plan: SegmentPlan, chunk: Buffer, log: VerifyLog): RecordTable {
  const { indexedTo, checkCrc } = plan;
  const table = new RecordTable(Math.min(1 << 20, Math.max(16, Math.ceil(end / 64))));
  const visitor: ScanVisitor = {
    record(buf, pos, at, info) {
      if (at >= indexedTo) return;
      const keyHash = keyHashOf(buf, pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength);
      table.push(at, fingerprint(keyHash, info.kind, info.length, info.expiresAt), keyHash, info.kind === KIND_PUT);
    },
  };
  let at = FILE_HEADER_BYTES;
  let scanner = new RecordScanner(at, visitor, end, checkCrc);
  const count = () => {
    log.records += scanner.records;
  };
  let resync = true;
  while (at < end) {
    const n = fs.read(fd, chunk, 0, Math.min(chunk.length, end - at), at);
    if (n === 0) break;
    scanner.push(chunk, 0, n);
    log.progress(n);
    at += n;
    const f = scanner.failure;
    if (!f || !resync) continue;
    const next = findNextRecord(fs, fd, f.offset, end);
    if (next < 0 && !sealed) {
      // No valid record after it in the active segment: feed the rest, the scanner tells torn from damaged.
      resync = false;
      continue;
    }
    count();
    log.problem(name, f.offset, 'corrupt-record', next < 0 ? `${f.reason} (${end - f.offset} bytes unreadable up to the end)` : `${f.reason} (${next - f.offset} bytes unreadable up to the next valid record)`);
    log.unreadable(name, Math.min(f.offset, scanner.validEnd), next < 0 ? end : next);
    if (next < 0) return table;
    at = next;
    scanner = new RecordScanner(at, visitor, end, checkCrc);
  }
  const result = scanner.finish();
  count();
  // A partial record or an unclosed batch after the last committed record, past the indexed end: bytes no
  // manifest or index ever named, so never acknowledged (a record fsynced whole before it was acknowledged).
  // With sync off, a power loss inside the loss window can leave the same (docs/design.md "Failures").
  const refused = !sealed && scanner.validEnd >= indexedTo && (result.kind === 'uncommitted' || (result.kind === 'torn' && result.partial));
  if (refused) {
    leftoverTail(log, name, scanner.validEnd, end, 'the last committed record (left by a write that failed); the next write removes them');
    log.unreadable(name, scanner.validEnd, end); // what verify --repair cuts, as the next write would
  } else if (result.kind === 'torn') {
    if (sealed) log.problem(name, result.offset, 'corrupt-record', `record runs past the end of the sealed segment`);
    else log.problem(name, result.offset, 'torn-tail', `a partial record at the end (${end - result.offset} bytes)`);
    log.unreadable(name, scanner.validEnd, end);
  } else if (result.kind === 'corrupt') {
    log.problem(name, result.offset, 'corrupt-record', result.reason);
    log.unreadable(name, scanner.validEnd, end);
  } else if (result.kind === 'uncommitted') {
    log.problem(name, result.offset, sealed ? 'corrupt-record' : 'uncommitted-batch', `${result.records} records of a batch without commit marker`);
    log.unreadable(name, result.offset, end);
  }
  return table;
}
