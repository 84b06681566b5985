// A monotonic clock in milliseconds for measuring how long something took
// (the lock held, a compaction). process.hrtime rather than performance.now():
// the global `performance` loads node:perf_hooks, about a millisecond of every
// write command's start-up.

export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
