// A counter (`tzkv incr`, batch's `incr`): a value that is a base-10 integer
// within JavaScript's exact range (docs/cli.md "incr KEY [BY]").

import type { Entry } from '../api.js';
import { TzkvError } from '../errors.js';

const INTEGER = /^[+-]?[0-9]+$/;

/** A base-10 integer within JavaScript's exact range, or undefined. */
export function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The counter `current` holds (a missing key counts as 0) plus `by`;
 * PRECONDITION, naming the key as `shown`, when the value is not such an
 * integer or the sum is past the exact range.
 */
export function incremented(current: Entry | undefined, by: number, shown: string): number {
  const text = current === undefined ? '0' : current.value.toString('utf8');
  const value = parseInteger(text);
  if (value === undefined || (current !== undefined && !Buffer.from(text, 'utf8').equals(current.value))) {
    throw new TzkvError('PRECONDITION', `value of ${JSON.stringify(shown)} is not an integer: left as it was`);
  }
  const sum = value + by;
  if (!Number.isSafeInteger(sum)) {
    throw new TzkvError('PRECONDITION', `${value} + ${by} is beyond the exact integer range: ${JSON.stringify(shown)} left as it was`);
  }
  return sum;
}
