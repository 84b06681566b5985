// A clock for tests (src/io/clock.ts): sleeping takes no real time, only
// moves the clock on, and the wall clock can jump either way while the
// monotonic one keeps counting, as an NTP step or a person with `date -s`
// would make it.
import type { Clock } from '../../src/io/clock.js';

export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  /** Called after every sleep, with the monotonic ms slept so far: where a test makes time jump. */
  onSleep?: (sleptMs: number) => void;

  constructor(wallMs = Date.now()) {
    this.wall = wallMs;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  async sleep(ms: number): Promise<void> {
    this.mono += ms;
    this.wall += ms;
    this.onSleep?.(this.mono);
    // Let other callbacks run, as a real sleep does, without waiting.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** The wall clock jumps by `ms` (negative: back); the monotonic clock does not. */
  jump(ms: number): void {
    this.wall += ms;
  }
}
