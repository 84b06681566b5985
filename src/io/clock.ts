// Time as the writer lock sees it: a wall clock for what people read and
// what is compared with file times, a monotonic one for deadlines, and
// waiting. The lock asks only through Clock, so tests make time jump either
// way, or pass without waiting (test/helpers/fake-clock.ts).

export interface Clock {
  /** Wall-clock ms since the epoch (Date.now): for timestamps and comparisons with file times. It may jump either way. */
  now(): number;
  /** Monotonic ms: for deadlines and durations. Never goes back. */
  monotonic(): number;
  /** Resolves after `ms` of monotonic time. */
  sleep(ms: number): Promise<void>;
}

/**
 * A monotonic clock in milliseconds for measuring how long something took
 * (the lock held, a compaction). process.hrtime rather than performance.now():
 * the global `performance` loads node:perf_hooks, about a millisecond of every
 * write command's start-up.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: monotonicMs,
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};
