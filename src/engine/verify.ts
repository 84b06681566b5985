// verify: read every byte of the store and report what is wrong, never throw
// on damaged data (docs/design.md "Verify"). Read-only; takes no lock.
import type { VerifyProblem, VerifyReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { FILE_HEADER_BYTES, KIND_COMMIT, KIND_PUT, MAGIC_SEGMENT, MANIFEST_NAME, RECORD_HEADER_BYTES } from '../format/constants.js';
import { checkFileHeader } from '../format/file-header.js';
import type { Manifest } from '../format/manifest.js';
import { RECORD_BAD, RECORD_OK, RECORD_SHORT, RecordInfo, commitCount, decodeRecord } from '../format/record.js';
import type { FileSystem } from '../io/fs.js';
import { inspectDir, runName, segmentName } from './layout.js';
import { scanLog } from './log-scan.js';
import { ReadWindow } from './read-window.js';
import { RunReader } from './run-reader.js';
import { readManifest } from './view.js';

const CHUNK = 8 * 1024 * 1024;
const WINDOW = 256 * 1024;

/** Offsets of the PUT and DEL records a segment scan found valid, in ascending order. */
class RecordStarts {
  offsets = new Float64Array(1024);
  length = 0;
  push(offset: number): void {
    if (this.length === this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[this.length++] = offset;
  }
  has(offset: number): boolean {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.offsets[mid];
      if (v === offset) return true;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

class Report {
  problems: VerifyProblem[] = [];
  files = 0;
  records = 0;
  bytes = 0;
  /** Per segment: where its valid records start (filled by the scans, used by the index checks). */
  starts = new Map<number, RecordStarts>();
  add(file: string, offset: number | null, kind: string, message: string): void {
    this.problems.push({ file, offset, kind, message });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Scans one segment in chunks; returns the end of its valid prefix. */
function verifySegment(fs: FileSystem, dir: string, file: number, expectedSize: number | null, r: Report, progress: () => void): void {
  const name = segmentName(file);
  let fd: number;
  try {
    fd = fs.openRead(`${dir}/${name}`);
  } catch (err) {
    r.add(name, null, 'missing-file', `listed in the manifest but cannot be opened: ${describe(err)}`);
    return;
  }
  try {
    r.files++;
    const size = fs.size(fd);
    const head = Buffer.allocUnsafe(FILE_HEADER_BYTES);
    const hn = fs.read(fd, head, 0, FILE_HEADER_BYTES, 0);
    const problem = checkFileHeader(head.subarray(0, hn), MAGIC_SEGMENT, file);
    if (problem) {
      r.add(name, 0, problem.kind === 'newer-version' ? 'newer-version' : 'bad-header', problem.message);
      return;
    }
    if (expectedSize !== null && size !== expectedSize) {
      r.add(name, Math.min(size, expectedSize), 'wrong-size', `file is ${size} bytes, the manifest says ${expectedSize}`);
    }
    const end = expectedSize === null ? size : Math.min(size, expectedSize);
    const starts = new RecordStarts();
    r.starts.set(file, starts);
    scanSegment(fs, fd, name, end, expectedSize !== null, r, progress, starts);
  } catch (err) {
    r.add(name, null, 'unreadable', describe(err));
  } finally {
    fs.close(fd);
  }
}

/**
 * Streams the records of a segment in chunks, checking framing, CRCs and
 * batch structure, with memory bounded by the chunk (or the largest record).
 */
function scanSegment(fs: FileSystem, fd: number, name: string, end: number, sealed: boolean, r: Report, progress: () => void, starts: RecordStarts): void {
  const info = new RecordInfo();
  let buf = Buffer.alloc(0);
  // One chunk buffer for the whole scan: fresh memory per read costs page faults.
  let chunk = Buffer.alloc(0);
  let bufAt = FILE_HEADER_BYTES;
  let pos = FILE_HEADER_BYTES;
  let pending = 0;
  let committedEnd = pos;
  const refill = (need: number) => {
    const want = Math.min(Math.max(CHUNK, need), end - pos);
    if (chunk.length < want) chunk = Buffer.allocUnsafe(Math.max(CHUNK, want));
    buf = chunk.subarray(0, fs.read(fd, chunk, 0, want, pos));
    bufAt = pos;
  };
  const damage = (reason: string) => {
    // What follows decides: a torn end (expected after a crash, only in the active segment) or damage.
    const restLength = Math.min(end - pos, 64 * 1024 * 1024);
    const rest = Buffer.allocUnsafe(restLength);
    const scan = scanLog(rest.subarray(0, fs.read(fd, rest, 0, restLength, pos)), pos);
    if (!sealed && scan.end.kind === 'torn' && scan.end.offset === pos) {
      r.add(name, pos, 'torn-tail', `a partial record at the end (${end - pos} bytes)`);
    } else {
      r.add(name, pos, 'corrupt-record', reason);
    }
  };
  while (pos < end) {
    let rel = pos - bufAt;
    if (rel + RECORD_HEADER_BYTES > buf.length) {
      refill(RECORD_HEADER_BYTES);
      rel = 0;
    }
    let status = decodeRecord(buf, rel, buf.length, info, true);
    if (status === RECORD_SHORT && info.length > 0 && pos + info.length <= end && rel + info.length > buf.length) {
      refill(info.length);
      rel = 0;
      status = decodeRecord(buf, rel, buf.length, info, true);
    }
    if (status === RECORD_SHORT) return damage(`record runs past the end of the ${sealed ? 'sealed segment' : 'file'}`);
    if (status === RECORD_BAD) return damage(info.reason);
    r.records++;
    if (info.kind === KIND_COMMIT) {
      const count = commitCount(buf, rel);
      if (count !== pending) return damage(`commit marker counts ${count} records, the batch has ${pending}`);
      pending = 0;
      committedEnd = pos + info.length;
    } else if (info.batch) {
      starts.push(pos);
      pending++;
    } else {
      starts.push(pos);
      if (pending > 0) return damage('a record follows a batch that has no commit marker');
      committedEnd = pos + info.length;
    }
    pos += info.length;
    r.bytes += info.length;
    if ((r.records & 0xffff) === 0) progress();
  }
  if (pending > 0) {
    r.add(name, committedEnd, sealed ? 'corrupt-record' : 'uncommitted-batch', `${pending} records of a batch without commit marker`);
  }
  progress();
}

/** Checks a run's blocks and that every entry points at a record of its key. */
function verifyRun(fs: FileSystem, dir: string, m: Manifest, index: number, r: Report): void {
  const info = m.runs[index];
  const name = runName(info.file);
  let reader: RunReader;
  try {
    reader = RunReader.open(fs, dir, info.file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    r.add(name, err instanceof TzkvError ? (err.offset ?? null) : null, e.code === 'ENOENT' ? 'missing-file' : 'bad-header', describe(err));
    return;
  }
  r.files++;
  const segments = new Map(m.segments.map((s) => [s.file, s]));
  const fds = new Map<number, number>();
  const infoRec = new RecordInfo();
  let count = 0;
  let last: Buffer | null = null;
  const window = new ReadWindow(WINDOW, true);
  try {
    for (const e of reader.cursor(Buffer.alloc(0))) {
      count++;
      if (last && Buffer.compare(last, e.key) >= 0) r.add(name, null, 'index-order', `keys out of order at entry ${count}`);
      last = e.key;
      const seg = segments.get(e.segment);
      if (!seg) {
        r.add(name, null, 'index-mismatch', `entry for key ${JSON.stringify(e.key.toString())} points at segment ${e.segment}, not in the store`);
        continue;
      }
      let fd = fds.get(e.segment);
      if (fd === undefined) {
        fd = fs.openRead(`${dir}/${segmentName(e.segment)}`);
        fds.set(e.segment, fd);
      }
      const buf = window.read(fs, fd, e.segment, e.offset, e.length);
      const n = buf.length;
      // A record the segment scan already found valid at this offset needs no second CRC pass.
      const known = r.starts.get(e.segment)?.has(e.offset) === true;
      const ok = n === e.length && decodeRecord(buf, 0, n, infoRec, !known) === RECORD_OK && infoRec.length === e.length;
      if (!ok || !buf.subarray(20, 20 + infoRec.keyLength).equals(e.key) || infoRec.kind !== e.kind) {
        r.add(
          segmentName(e.segment),
          e.offset,
          'index-mismatch',
          `${name} entry for key ${JSON.stringify(e.key.toString())} does not point at a valid record of that key${infoRec.reason ? ` (${infoRec.reason})` : ''}`,
        );
      } else if (e.kind === KIND_PUT && infoRec.expiresAt !== e.expiresAt) {
        r.add(name, null, 'index-mismatch', `entry for key ${JSON.stringify(e.key.toString())} has an expiry different from its record`);
      }
    }
    if (count !== reader.header.entries || count !== info.entries) {
      r.add(name, null, 'index-count', `holds ${count} entries, its header says ${reader.header.entries}, the manifest ${info.entries}`);
    }
  } catch (err) {
    r.add(name, err instanceof TzkvError ? (err.offset ?? null) : null, 'corrupt-index', describe(err));
  } finally {
    reader.close();
    for (const fd of fds.values()) fs.close(fd);
  }
}

export function verifyStore(
  fs: FileSystem,
  dir: string,
  now: number,
  onProgress?: (done: number, total: number) => void,
): VerifyReport {
  const started = Date.now();
  const r = new Report();
  const finish = (): VerifyReport => ({
    ok: r.problems.length === 0,
    files: r.files,
    records: r.records,
    bytes: r.bytes,
    problems: r.problems,
    durationMs: Date.now() - started,
  });
  let m: Manifest | null;
  try {
    if (inspectDir(fs, dir) === 'missing') {
      r.add('', null, 'no-store', `no tzkv store at ${dir}`);
      return finish();
    }
    m = readManifest(fs, dir);
  } catch (err) {
    r.add(MANIFEST_NAME, 0, err instanceof TzkvError && err.code === 'VERSION' ? 'newer-version' : 'bad-manifest', describe(err));
    return finish();
  }
  if (!m) return finish();
  r.files++;
  let total = 0;
  for (const s of m.segments) total += s.size ?? fs.stat(`${dir}/${segmentName(s.file)}`)?.size ?? 0;
  const progress = () => onProgress?.(r.bytes, total);
  for (const s of m.segments) verifySegment(fs, dir, s.file, s.size, r, progress);
  for (let i = 0; i < m.runs.length; i++) verifyRun(fs, dir, m, i, r);
  void now;
  return finish();
}
