// The processes tzkv judges: this one, and whether one that left its name in
// a LOCK, a compaction marker or a staging file's name still runs
// (docs/design.md "Locking"). The lock and the engine ask only through this
// interface, so tests inject a dead holder, a live one or a recycled pid
// without real processes (test/helpers/fake-processes.ts).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Processes {
  /** This process's id. */
  readonly pid: number;
  /** This machine's name: a process recorded under another host's name cannot be seen from here. */
  host(): string;
  /**
   * The kernel's start time of `pid` (field 22 of /proc/PID/stat), or '' when
   * unknown. With the pid it names one process: a recycled pid has another.
   */
  startTime(pid: number): string;
  /** Whether a process with this pid runs on this machine; a zombie (killed, not yet reaped) does not. */
  alive(pid: number): boolean;
}

/** Who a process is, as a LOCK and a compaction marker record it. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  startTime: string;
}

/** This process as `processes` sees it. */
export function ownIdentity(processes: Processes): ProcessIdentity {
  return { pid: processes.pid, host: processes.host(), startTime: processes.startTime(processes.pid) };
}

/** Fields 3.. of /proc/PID/stat (state first), or undefined when unknown. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

let ownStartTime: string | undefined;

/** The processes of this machine, through kill(pid, 0) and /proc. */
export const realProcesses: Processes = {
  pid: process.pid,
  host: () => hostname(),
  startTime: (pid) => {
    // Ours never changes: read once (every write takes the lock).
    if (pid === process.pid) return (ownStartTime ??= procStat(pid)?.[19] ?? '');
    return procStat(pid)?.[19] ?? '';
  },
  alive: (pid) => {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      // EPERM: the process exists but belongs to someone else.
    }
    const state = procStat(pid)?.[0];
    return state !== 'Z' && state !== 'X';
  },
};
