// What verify found, as it finds it: problems (the store is damaged),
// warnings (files that do not belong, leftovers), the unreadable byte ranges
// repair would move to quarantine, and the counts of the summary.
import type { VerifyProblem } from '../../api.js';
import type { FileSystem } from '../../io/fs.js';

/** Problems kept in a report; beyond this they are only counted (garbage can produce millions). */
export const MAX_KEPT = 1000;

export interface UnreadableRange {
  file: string;
  from: number;
  to: number;
}

/** What a log held at some point: rollback() returns to it. */
type LogMark = Pick<VerifyLog, 'problemCount' | 'files' | 'records' | 'bytes'> & { problems: number; warnings: number; unreadable: number };

export class VerifyLog {
  readonly problems: VerifyProblem[] = [];
  readonly warnings: VerifyProblem[] = [];
  readonly unreadableRanges: UnreadableRange[] = [];
  /** Checks not made, and why (VerifyReport.skipped). */
  readonly skipped: string[] = [];
  problemCount = 0;
  files = 0;
  records = 0;
  bytes = 0;
  /** Set when a file says it was written by a newer format version. */
  newer = false;
  private nextProgress = 0;

  constructor(
    private readonly onProgress: ((done: number, total: number) => void) | undefined,
    public total = 0,
  ) {}

  problem(file: string, offset: number | null, kind: string, message: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_KEPT) this.problems.push({ file, offset, kind, message });
  }

  warning(file: string, offset: number | null, kind: string, message: string): void {
    if (this.warnings.length < MAX_KEPT) this.warnings.push({ file, offset, kind, message });
  }

  newerVersion(file: string, message: string): void {
    this.newer = true;
    this.problem(file, 0, 'newer-version', `${message}: written by a newer tzkv; upgrade tzkv to verify it`);
  }

  /** Drops what was found in one file (it is about to be checked again). */
  forget(file: string): void {
    const kept = this.problems.filter((p) => p.file !== file);
    this.problemCount -= this.problems.length - kept.length;
    this.problems.splice(0, this.problems.length, ...kept);
    const ranges = this.unreadableRanges.filter((r) => r.file !== file);
    this.unreadableRanges.splice(0, this.unreadableRanges.length, ...ranges);
  }

  mark(): LogMark {
    const { problemCount, files, records, bytes } = this;
    return { problemCount, files, records, bytes, problems: this.problems.length, warnings: this.warnings.length, unreadable: this.unreadableRanges.length };
  }

  /** Forgets everything found since `m` (the same checks are about to run again). */
  rollback(m: LogMark): void {
    Object.assign(this, { problemCount: m.problemCount, files: m.files, records: m.records, bytes: m.bytes });
    this.problems.length = m.problems;
    this.warnings.length = m.warnings;
    this.unreadableRanges.length = m.unreadable;
  }

  unreadable(file: string, from: number, to: number): void {
    if (to > from) this.unreadableRanges.push({ file, from, to });
  }

  /** Counts `n` bytes read and tells the progress callback now and then. */
  progress(n: number): void {
    this.bytes += n;
    if (this.onProgress && this.bytes >= this.nextProgress) {
      this.nextProgress = this.bytes + 16 * 1024 * 1024;
      this.onProgress(this.bytes, Math.max(this.total, this.bytes));
    }
  }

  /** Opens a file the manifest lists and counts it; null (reported) when it cannot be opened. */
  openListed(fs: FileSystem, dir: string, name: string): number | null {
    try {
      const fd = fs.openRead(`${dir}/${name}`);
      this.files++;
      return fd;
    } catch (err) {
      this.problem(name, null, 'missing-file', `listed in the manifest but cannot be opened: ${this.describe(err)}`);
      return null;
    }
  }

  describe(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
  }
}
