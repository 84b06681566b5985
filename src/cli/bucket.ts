// The bucket convention: `-b users` puts key `42` at `users:42`. Commands
// show and take keys relative to their bucket.

import { TzkvError } from '../errors.js';

const SEPARATOR = ':';

/** What every stored key of `bucket` starts with ('' for no bucket). */
export function bucketPrefix(bucket: string | undefined): string {
  if (bucket === undefined) return '';
  if (bucket === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --bucket "": a bucket name cannot be empty');
  return `${bucket}${SEPARATOR}`;
}

/** The stored key for `key` in `bucket` (none: the key itself). */
export function bucketKey(bucket: string | undefined, key: string): string {
  return bucketPrefix(bucket) + key;
}

/** The stored key as the user sees it inside `bucket`; REQUIRES: it starts with the bucket's prefix. */
export function keyInBucket(bucket: string | undefined, stored: Buffer): Buffer {
  return bucket === undefined ? stored : stored.subarray(Buffer.byteLength(bucket) + SEPARATOR.length);
}
