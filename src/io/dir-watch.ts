// Being told that something in a directory changed: node:fs's watch (inotify
// on Linux), the one place tzkv asks the operating system for it. Only a hint:
// a watcher also looks on a timer (docs/design.md "Watch"), since
// notifications can be lost (an inotify queue that overflowed, a network file
// system that sends none) or unavailable (the inotify watch limit reached).
import { watch } from 'node:fs';

/** Stops the notifications. */
type StopWatching = () => void;

/** Calls `onChange` soon after anything in `dir` is created, written, renamed or removed; when the system cannot tell, never. */
export type DirectoryWatch = (dir: string, onChange: () => void) => StopWatching;

export const watchDirectory: DirectoryWatch = (dir, onChange) => {
  try {
    const watcher = watch(dir, { persistent: false }, () => onChange());
    // An error (the directory removed, a queue overflow) ends the notifications; the timer still looks.
    watcher.on('error', () => watcher.close());
    return () => watcher.close();
  } catch {
    return () => undefined;
  }
};
