// Paths the user names on the command line. An empty one is a mistake (an
// unset variable, usually): taken as it is, it would mean the default store,
// or the current directory, without a word.

import { TzkvError } from '../errors.js';

/** `value` unchanged, unless it is empty: then a usage error naming the flag or argument, with `rule` as the explanation. */
export function givenPath<T extends string | undefined>(value: T, name: string, rule: string): T {
  if (value === '') throw new TzkvError('INVALID_ARGUMENT', `invalid ${name} "": ${rule}`);
  return value;
}
