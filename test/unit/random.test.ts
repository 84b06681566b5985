import { describe, expect, test } from 'vitest';
import { monotonicMs } from '../../src/io/clock.js';
import { randomHex } from '../../src/io/random.js';

describe('randomHex and monotonicMs', () => {
  test('randomHex gives the asked number of random bytes as hex, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const hex = randomHex(12);
      expect(hex).toMatch(/^[0-9a-f]{24}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(1000);
    expect(randomHex(1)).toMatch(/^[0-9a-f]{2}$/);
  });

  test('monotonicMs counts milliseconds and never goes back', async () => {
    const a = monotonicMs();
    await new Promise((r) => setTimeout(r, 25));
    const b = monotonicMs();
    expect(b - a).toBeGreaterThanOrEqual(20);
    expect(b - a).toBeLessThan(5000);
  });
});
