// Who holds a lock, and whether that process still runs (docs/design.md
// "Locking"): the holder record LOCK holds, judged through the Processes seam.
// The lock (lockfile.ts) and anything that names its process the same way (a
// compaction marker, a lock's private temp file) ask here.
import type { Processes, ProcessIdentity } from '../io/processes.js';

export interface LockHolder extends ProcessIdentity {
  acquiredAt: string;
  command: string;
  token: string;
}

/** Tokens of the locks this process holds now: any other lock naming this process is a leftover. */
export const heldTokens = new Set<string>();

export type HolderState = 'alive' | 'dead' | 'foreign';

/**
 * Whether the holder of a lock (or of anything that names its process the
 * same way, such as a compaction marker) still runs. 'foreign': on another
 * host, so unknowable. `ownTokens`: the tokens this process holds now.
 */
export function holderState(
  holder: Pick<LockHolder, 'host' | 'pid' | 'startTime' | 'token'>,
  processes: Processes,
  ownTokens: ReadonlySet<string> = heldTokens,
): HolderState {
  if (holder.host !== processes.host()) return 'foreign';
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return 'dead';
  if (holder.pid === processes.pid) {
    // Our own pid: live only if it is a token we hold now (or a recycled pid's: start times differ).
    return ownTokens.has(holder.token) ? 'alive' : 'dead';
  }
  if (!processes.alive(holder.pid)) return 'dead';
  const now = processes.startTime(holder.pid);
  if (now !== '' && holder.startTime !== '' && now !== holder.startTime) return 'dead'; // pid reused
  return 'alive';
}

export function parseHolder(buf: Buffer): LockHolder | undefined {
  try {
    const h = JSON.parse(buf.toString('utf8')) as LockHolder;
    if (typeof h?.pid !== 'number' || typeof h.token !== 'string') return undefined;
    return {
      pid: h.pid,
      host: String(h.host ?? ''),
      startTime: String(h.startTime ?? ''),
      acquiredAt: String(h.acquiredAt ?? ''),
      command: String(h.command ?? ''),
      token: h.token,
    };
  } catch {
    return undefined;
  }
}

/**
 * Why `dir` cannot be locked: who holds it since when (a date and how long
 * ago), and what to do. The holder is alive (a dead one on this host is
 * broken, never reported) or on another host, where tzkv cannot judge it.
 */
export function describeHolder(dir: string, h: LockHolder, now: number, processes: Processes): string {
  const at = Date.parse(h.acquiredAt);
  const since = Number.isNaN(at) ? 'since an unknown time' : `since ${new Date(at).toISOString()} (${elapsed(now - at)} ago)`;
  const base = `store ${dir} is locked by pid ${h.pid} (${h.command || 'unknown command'}) ${since}`;
  if (h.host !== processes.host()) {
    return `${base} on host ${h.host}; a lock from another host is never broken automatically: if that process is gone, run \`tzkv unlock --force --dir ${dir}\``;
  }
  return `${base}, which is still running: wait for it to finish, or allow a longer lock timeout (--lock-timeout)`;
}

/** A time span for people: 45s, 3m12s, 2h05m, 3d4h. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor(s / 3600) % 24}h`;
}

/** The holder as the public API describes it. */
export function holderInfo(h: LockHolder, processes: Processes): { pid: number; host: string; command: string; since: string | null; state: 'alive' | 'dead' | 'unknown' } {
  const state = holderState(h, processes);
  return {
    pid: h.pid,
    host: h.host,
    command: h.command,
    since: Number.isNaN(Date.parse(h.acquiredAt)) ? null : h.acquiredAt,
    state: state === 'foreign' ? 'unknown' : state,
  };
}
