// `tzkv lock NAME -- COMMAND...` (docs/cli.md "lock"): COMMAND run while the
// lock is held, renewed while it runs, released when it ends. What is done to
// the store is src/cli/lock-action.ts.

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { type LockHolder, type LockWait, acquireLock, releaseLock, renewLock } from './lock-action.js';

/** COMMAND could not be started: exit 127 (not found) or 126 (found, not executable), as a shell says it. */
class CommandNotRun extends TzkvError {
  constructor(
    private readonly status: 126 | 127,
    message: string,
  ) {
    super('INVALID_ARGUMENT', message);
  }

  override get exitCode(): number {
    return this.status;
  }
}

/**
 * Checks that `program` can be started as spawn() would find it: a path
 * (with a "/") as it is, a bare name in PATH's folders. Throws CommandNotRun
 * otherwise, so that a mistyped COMMAND neither waits for a lock nor takes one.
 */
export function checkRunnable(program: string, path = process.env.PATH ?? ''): void {
  const isPath = program.includes('/');
  const candidates = program === '' ? [] : isPath ? [program] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  let denied: string | undefined;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) {
        if (isPath) denied ??= `${file} is not a file`;
        continue;
      }
    } catch {
      continue; // not there
    }
    try {
      accessSync(file, fsConstants.X_OK);
      return;
    } catch {
      denied ??= `${file} is not executable`;
    }
  }
  const what = JSON.stringify(program);
  if (denied !== undefined) throw new CommandNotRun(126, `cannot run COMMAND ${what}: permission denied (${denied})`);
  throw new CommandNotRun(127, `cannot run COMMAND ${what}: ${isPath ? 'no such file' : 'command not found (not in any folder of PATH)'}`);
}

/** The signals that, sent to tzkv, go on to COMMAND: tzkv ends when COMMAND has, and releases the lock. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Takes the lock (as acquireLock), runs `argv` (no shell, stdio passed
 * through) while holding it, renewing it every TTL/3, and releases it when
 * COMMAND ends. Resolves to COMMAND's exit code (128 + signal number when a
 * signal ended it). A lock found taken by another at a renewal, or not
 * renewed before its expiry, is lost: COMMAND gets SIGTERM, and this throws LOCKED.
 */
export async function runLocked(store: Store, name: string, holder: LockHolder, wait: LockWait, argv: string[]): Promise<number> {
  let expiresAt = await acquireLock(store, name, holder, wait);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  let lost: string | undefined;
  const renew = async () => {
    try {
      if (await renewLock(store, name, holder)) expiresAt = Date.now() + holder.ttlMs;
      else lost = `lost lock "${name}": another holder took it (this one was not renewed in time)`;
    } catch (err) {
      if (Date.now() >= expiresAt) lost = `lost lock "${name}": it could not be renewed before it expired (${(err as Error).message})`;
    }
    if (lost !== undefined) child.kill('SIGTERM');
  };
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(renew);
  }, Math.max(1, Math.floor(holder.ttlMs / 3)));
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', (err: NodeJS.ErrnoException) => {
        const status = err.code === 'ENOENT' ? 127 : 126;
        reject(new CommandNotRun(status, `cannot run COMMAND ${JSON.stringify(argv[0])}: ${err.message}`));
      });
      child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
    clearInterval(timer);
    await renewing;
    if (lost !== undefined) throw new TzkvError('LOCKED', lost);
    return code;
  } finally {
    clearInterval(timer);
    for (const signal of FORWARDED) process.off(signal, forward);
    // Expired meanwhile, or lost: nothing of ours to release.
    if (lost === undefined) await releaseLock(store, name, holder.token).catch(() => undefined);
  }
}
