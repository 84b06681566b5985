// How a finished command leaves: by the natural exit, which flushes output;
// should something keep the event loop alive after the command is done, it
// leaves anyway once output is out.

/** How long a finished CLI waits for stray handles before it exits anyway. */
const EXIT_GRACE_MS = 2000;

export function exitWhenDone(): void {
  setTimeout(exitWhenFlushed, EXIT_GRACE_MS).unref();
}

function exitWhenFlushed(): void {
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) setTimeout(exitWhenFlushed, 100).unref();
  else process.exit();
}
