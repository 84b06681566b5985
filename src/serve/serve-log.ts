// What a server tells its operator: one entry per start, stop and error
// (never one per request: /metrics and INFO count those). serve() hands each
// entry to the embedder's `log` hook; the CLI writes it to stderr as a line of
// text, or as one JSON object per line for journald (--json).

/** One thing worth a line in the server's log. */
export interface ServeLogEntry {
  level: 'info' | 'warn' | 'error';
  /** listening, stopping, stopped, client-error, commit-failed, ... */
  event: string;
  /** A sentence for a person. */
  message: string;
  /** Facts for a machine (addresses, counts, an error's code). */
  fields?: Record<string, unknown>;
}

export type ServeLog = (entry: ServeLogEntry) => void;

/** The entry as one line: text (`tzkv serve: MESSAGE`) or one JSON object {"time","level","event","message",...fields}. */
export function logLine(entry: ServeLogEntry, json: boolean, now: Date = new Date()): string {
  if (!json) return `tzkv serve: ${entry.level === 'info' ? '' : `${entry.level}: `}${entry.message}\n`;
  return `${JSON.stringify({ time: now.toISOString(), level: entry.level, event: entry.event, message: entry.message, ...entry.fields })}\n`;
}
