// verify: read every byte of the store and report what is wrong, never throw
// on damaged data (docs/design.md "Verify"). Read-only; takes no lock.
import type { VerifyProblem, VerifyReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { FILE_HEADER_BYTES, KIND_PUT, MAGIC_SEGMENT, MANIFEST_NAME } from '../format/constants.js';
import { checkFileHeader } from '../format/file-header.js';
import type { Manifest } from '../format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../format/record.js';
import type { FileSystem } from '../io/fs.js';
import { inspectDir, runName, segmentName } from './layout.js';
import { scanLog } from './log-scan.js';
import { RunReader } from './run-reader.js';
import { readManifest } from './view.js';

const CHUNK = 8 * 1024 * 1024;

class Report {
  problems: VerifyProblem[] = [];
  files = 0;
  records = 0;
  bytes = 0;
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
    let pos = FILE_HEADER_BYTES;
    const end = expectedSize === null ? size : Math.min(size, expectedSize);
    let want = CHUNK;
    while (pos < end) {
      want = Math.min(want, end - pos);
      let buf = Buffer.allocUnsafe(want);
      const n = fs.read(fd, buf, 0, want, pos);
      buf = buf.subarray(0, n);
      const isLastChunk = pos + n >= end;
      const scan = scanLog(buf, pos, n, false);
      const consumed = scan.validEnd - pos;
      if (scan.end.kind === 'corrupt') {
        r.records += scan.records;
        r.add(name, scan.end.offset, 'corrupt-record', scan.end.reason);
        return;
      }
      if (isLastChunk) {
        r.records += scan.records;
        if (scan.end.kind === 'torn') r.add(name, scan.end.offset, 'torn-tail', `a partial record at the end (${end - scan.end.offset} bytes)`);
        if (scan.end.kind === 'uncommitted') r.add(name, scan.end.offset, 'uncommitted-batch', `${scan.end.records} records of a batch without commit marker`);
        r.bytes += n;
        progress();
        return;
      }
      if (consumed <= 0) {
        // One record or batch is larger than the chunk: read it whole.
        want *= 2;
        continue;
      }
      const again = scanLog(buf, pos, consumed, false);
      r.records += again.records;
      r.bytes += consumed;
      pos += consumed;
      want = CHUNK;
      progress();
    }
  } catch (err) {
    r.add(name, null, 'unreadable', describe(err));
  } finally {
    fs.close(fd);
  }
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
  try {
    for (const e of reader.cursor(Buffer.alloc(0))) {
      count++;
      if (last && Buffer.compare(last, e.key) >= 0) r.add(name, null, 'index-order', `keys out of order at entry ${count}`);
      last = Buffer.from(e.key);
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
      const buf = Buffer.allocUnsafe(e.length);
      const n = fs.read(fd, buf, 0, e.length, e.offset);
      const ok = n === e.length && decodeRecord(buf, 0, n, infoRec, true) === RECORD_OK && infoRec.length === e.length;
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
