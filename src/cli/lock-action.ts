// What the `tzkv lock` commands do (docs/cli.md "lock"): named locks for
// scripts, kept as ordinary keys under LOCK_PREFIX and changed only through
// Store.update(), the one conditional write both backends make atomic (a
// directory store under its writer lock, etcd in a transaction). A lock's
// expiry is its TTL: an expired entry reads as absent, so a holder that dies
// loses the lock when its TTL runs out (on etcd its lease does it).

import { spawn } from 'node:child_process';
import { constants, hostname } from 'node:os';
import type { Entry, Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { randomHex } from '../io/random.js';
import { parseDuration, parseTtl } from './duration.js';

/** Every lock's key starts with this; `lock` NAME is the key LOCK_PREFIX + NAME. */
const LOCK_PREFIX = '.tzkv-lock/';

/** A lock's value: who holds it, with the token that proves it. */
export interface LockHolder {
  token: string;
  pid: number;
  host: string;
  command: string;
  /** When it was taken (ISO). */
  since: string;
  ttlMs: number;
}

/** One held lock, as `lock list` shows it. */
export interface HeldLock extends Omit<LockHolder, 'ttlMs'> {
  name: string;
  expiresAt: string | null;
}

/** Checks a lock NAME: 1 to 200 bytes of printable ASCII other than space. */
function lockKey(name: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(name)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid lock name "${name}": expected 1 to 200 printable ASCII characters, no spaces`);
  }
  return LOCK_PREFIX + name;
}

/** A new holder record for this process, with a fresh 128-bit token. */
export function newHolder(command: string, ttlMs: number, now = Date.now()): LockHolder {
  return { token: randomHex(16), pid: process.pid, host: hostname(), command, since: new Date(now).toISOString(), ttlMs };
}

/** The holder an entry records; a value that is not one (someone wrote the key by hand) is a holder with no token. */
function holderOf(entry: Entry): LockHolder {
  try {
    const h = JSON.parse(entry.value.toString('utf8')) as Partial<LockHolder>;
    if (typeof h.token === 'string') return { pid: 0, host: '', command: '', since: '', ttlMs: 0, ...h, token: h.token };
  } catch {
    // not ours: below
  }
  return { token: '', pid: 0, host: '', command: 'a value not written by tzkv lock', since: '', ttlMs: 0 };
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The holder in words, for "is held by ...". */
function describe(name: string, holder: LockHolder, expiresAt: number | null): string {
  const who = holder.pid === 0 ? holder.command : `pid ${holder.pid} on ${holder.host} (${holder.command})`;
  const since = holder.since ? ` since ${holder.since}` : '';
  const until = expiresAt === null ? ', with no expiry' : `, until ${isoOrNull(expiresAt)} unless renewed`;
  return `lock "${name}" is held by ${who}${since}${until}`;
}

type Attempt = { taken: true; expiresAt: number } | { taken: false; holder: LockHolder; expiresAt: number | null };

/** Takes the lock if nobody holds it (an expired entry counts as nobody). */
async function tryTake(store: Store, key: string, holder: LockHolder): Promise<Attempt> {
  let expiresAt = 0;
  const entry = await store.update(key, (current) => {
    if (current !== undefined) return undefined;
    expiresAt = Date.now() + holder.ttlMs;
    return { value: JSON.stringify(holder), expiresAt };
  });
  if (entry === undefined) throw new TzkvError('INTERNAL', `lock "${key}": update wrote nothing and read nothing`);
  const now = holderOf(entry);
  return now.token === holder.token ? { taken: true, expiresAt } : { taken: false, holder: now, expiresAt: entry.expiresAt };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock NAME for `holder`, polling every 50–150 ms while another
 * holds it, for at most `waitMs` (undefined: for ever). LOCKED, naming the
 * holder, when the wait runs out. Resolves to the expiry it holds the lock until.
 */
export async function acquireLock(store: Store, name: string, holder: LockHolder, waitMs: number | undefined): Promise<number> {
  const key = lockKey(name);
  const deadline = waitMs === undefined ? Infinity : Date.now() + waitMs;
  for (;;) {
    const attempt = await tryTake(store, key, holder);
    if (attempt.taken) return attempt.expiresAt;
    if (Date.now() >= deadline) throw new TzkvError('LOCKED', describe(name, attempt.holder, attempt.expiresAt));
    await sleep(Math.min(50 + Math.random() * 100, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Rewrites the lock's entry with `expiresAt`, only when `token` owns it.
 * Resolves whether it did: false means the lock was lost (or released).
 */
async function rewriteOwned(store: Store, name: string, token: string, expiresAt: () => number): Promise<boolean> {
  let owned = false;
  await store.update(lockKey(name), (current) => {
    owned = current !== undefined && holderOf(current).token === token;
    return owned ? { value: current!.value, expiresAt: expiresAt() } : undefined;
  });
  return owned;
}

/** Extends the lock by its TTL from now when `holder` still owns it; false when it does not. */
function renewLock(store: Store, name: string, holder: LockHolder): Promise<boolean> {
  return rewriteOwned(store, name, holder.token, () => Date.now() + holder.ttlMs);
}

/**
 * Releases the lock when `token` owns it, by making its entry expire 1 ms
 * from now (update() cannot delete). PRECONDITION when the token does not own it.
 */
export async function releaseLock(store: Store, name: string, token: string): Promise<{ name: string; released: true }> {
  if (!(await rewriteOwned(store, name, token, () => Date.now() + 1))) {
    throw new TzkvError('PRECONDITION', `lock "${name}" is not held by token ${token}: it expired, or another holder has it`);
  }
  return { name, released: true };
}

/** The locks held now, in name order. */
export async function listLocks(store: Store): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  for await (const entry of store.entries({ prefix: LOCK_PREFIX })) {
    const { token, pid, host, command, since } = holderOf(entry);
    const name = entry.key.subarray(LOCK_PREFIX.length).toString('utf8');
    held.push({ name, token, pid, host, command, since, expiresAt: isoOrNull(entry.expiresAt) });
  }
  return held;
}

/**
 * `tzkv lock NAME -- COMMAND...`: runs COMMAND (no shell, stdio passed
 * through) while holding the lock, renewing it every TTL/3, and releases it
 * when COMMAND ends. Resolves to COMMAND's exit code (128 + signal number when
 * a signal ended it). A lock found taken by another at a renewal, or not
 * renewed before its expiry, is lost: COMMAND gets SIGTERM, and this throws LOCKED.
 */
export async function runLocked(store: Store, name: string, holder: LockHolder, waitMs: number | undefined, argv: string[]): Promise<number> {
  let expiresAt = await acquireLock(store, name, holder, waitMs);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
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
      child.on('error', (err) => reject(new TzkvError('INVALID_ARGUMENT', `cannot run ${argv[0]}: ${err.message}`)));
      child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
    });
    clearInterval(timer);
    await renewing;
    if (lost !== undefined) throw new TzkvError('LOCKED', lost);
    return code;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', forward).off('SIGTERM', forward);
    // Expired meanwhile, or lost: nothing of ours to release.
    if (lost === undefined) await releaseLock(store, name, holder.token).catch(() => undefined);
  }
}

/** The --ttl and --wait flags in ms: a TTL of at least 1s, a wait of 0 or more (undefined: for ever). */
export function lockTimes(flags: { ttl: string; wait?: string | undefined }): { ttlMs: number; waitMs: number | undefined } {
  const ttlMs = parseTtl(flags.ttl, '--ttl', Date.now());
  if (ttlMs < 1000) throw new TzkvError('INVALID_ARGUMENT', `invalid --ttl "${flags.ttl}": a lock's TTL is at least 1s`);
  return { ttlMs, waitMs: flags.wait === undefined ? undefined : parseDuration(flags.wait, '--wait', { allowZero: true }) };
}
