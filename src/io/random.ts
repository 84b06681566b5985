// Random hex for lock tokens and unique file names. Read from /dev/urandom:
// loading node:crypto costs a one-shot command (every `tzkv put`) a millisecond
// or two of start-up (docs/cli.md "Start-up time"). Where there is no
// /dev/urandom (Windows), node:crypto's randomBytes.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buf, 0, bytes, null) === bytes) return buf.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom here
  }
  return randomBytes(bytes).toString('hex');
}
