// A process table for tests (src/io/processes.ts): which pids run, and since
// when, is whatever the test says, so a lock holder can die, live on, or have
// its pid recycled without real processes. This process keeps its real pid
// (file names such as a batch's staging file carry it) and always runs.
import type { Processes } from '../../src/io/processes.js';

export class FakeProcesses implements Processes {
  readonly pid = process.pid;
  /** Running pids and their kernel start times ('' = unknown). */
  private readonly running = new Map<number, string>([[process.pid, 'self']]);

  constructor(private hostName = 'this-host') {}

  host(): string {
    return this.hostName;
  }

  startTime(pid: number): string {
    return this.running.get(pid) ?? '';
  }

  alive(pid: number): boolean {
    return this.running.has(pid);
  }

  /** A process `pid` starts (or, when one runs already, the pid is recycled: a new start time). */
  start(pid: number, startTime = `started-${pid}`): this {
    this.running.set(pid, startTime);
    return this;
  }

  /** Process `pid` exits. */
  exit(pid: number): this {
    if (pid === process.pid) throw new Error('this process cannot exit in a test');
    this.running.delete(pid);
    return this;
  }

  /** A holder as a LOCK or a compaction marker records a process of this table. */
  identity(pid: number): { pid: number; host: string; startTime: string } {
    return { pid, host: this.hostName, startTime: this.startTime(pid) };
  }
}
