// What the `tzkv lock` commands do to the store (docs/cli.md "lock"): named
// locks for scripts, kept as ordinary keys under LOCK_PREFIX and changed only
// through Store.update(), the one conditional write both backends make atomic
// (a directory store under its writer lock, etcd in a transaction). A lock's
// expiry is its TTL: an expired entry reads as absent, so a holder that dies
// loses the lock when its TTL runs out (on etcd its lease does it).
// Running a COMMAND under a lock is src/cli/lock-run.ts.

import { hostname } from 'node:os';
import type { Entry, Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { realProcesses } from '../io/processes.js';
import { randomHex } from '../io/random.js';
import { elapsed } from '../lock/lock-holder.js';
import { parseDuration, parseTtl } from '../text/duration.js';
import { type StoreFlags, withStore } from './open-store.js';

/** Every lock's key starts with this; lock NAME is the key LOCK_PREFIX + NAME. */
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

/** Checks a lock NAME (1 to 200 printable ASCII characters, no spaces): INVALID_ARGUMENT otherwise. Returns its key. */
export function checkLockName(name: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(name)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid lock name ${JSON.stringify(name)}: expected 1 to 200 printable ASCII characters, no spaces`);
  }
  return LOCK_PREFIX + name;
}

/** Checks an owner TOKEN as `lock acquire` prints it (32 hex digits): an empty or mangled one is a usage error, not a lock someone else holds. */
export function checkToken(token: string): void {
  if (!/^[0-9a-f]{32}$/.test(token)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid token ${JSON.stringify(token)}: expected the 32 hex digits \`tzkv lock acquire\` printed`);
  }
}

/** A new holder record with a fresh 128-bit token; `pid` is the process that holds it (ours, or for `lock acquire` the script that ran us). */
export function newHolder(command: string, ttlMs: number, pid = process.pid, now = Date.now()): LockHolder {
  return { token: randomHex(16), pid, host: hostname(), command, since: new Date(now).toISOString(), ttlMs };
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

/** The holder in words: `pid 4242 on web1 (tzkv lock backup -- ./backup.sh) since ... (3m12s ago), until ... unless renewed`. */
function describeHolder(holder: LockHolder, expiresAt: number | null): string {
  const now = Date.now();
  const gone = holder.pid !== 0 && holder.host === hostname() && !realProcesses.alive(holder.pid) ? ', which no longer runs' : '';
  const who = holder.pid === 0 ? holder.command : `pid ${holder.pid} on ${holder.host} (${holder.command})${gone}`;
  const at = Date.parse(holder.since);
  const since = Number.isNaN(at) ? '' : ` since ${holder.since} (${elapsed(now - at)} ago)`;
  const until = expiresAt === null ? ', with no expiry' : `, until ${isoOrNull(expiresAt)} unless renewed`;
  return `${who}${since}${until}`;
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
 * holds it, for at most `wait` (undefined: for ever). LOCKED, naming the
 * holder and the wait, when it runs out. Resolves to the expiry it holds the lock until.
 */
export async function acquireLock(store: Store, name: string, holder: LockHolder, wait: LockWait): Promise<number> {
  const key = checkLockName(name);
  const deadline = wait.ms === undefined ? Infinity : Date.now() + wait.ms;
  for (;;) {
    const attempt = await tryTake(store, key, holder);
    if (attempt.taken) return attempt.expiresAt;
    if (Date.now() >= deadline) {
      throw new TzkvError('LOCKED', `lock "${name}" is held by ${describeHolder(attempt.holder, attempt.expiresAt)}; gave up after --wait ${wait.text}`);
    }
    await sleep(Math.min(50 + Math.random() * 100, Math.max(0, deadline - Date.now())));
  }
}

/** Who holds a lock when a token was asked to change it: owned, or the holder found (none: nobody). */
type Ownership = { owned: true } | { owned: false; holder: LockHolder | undefined; expiresAt: number | null };

/** Rewrites the lock's entry with `expiresAt()`, only when `token` owns it. */
async function rewriteOwned(store: Store, name: string, token: string, expiresAt: () => number): Promise<Ownership> {
  let found: Ownership = { owned: false, holder: undefined, expiresAt: null };
  await store.update(checkLockName(name), (current) => {
    const holder = current && holderOf(current);
    found = holder?.token === token ? { owned: true } : { owned: false, holder, expiresAt: current?.expiresAt ?? null };
    return found.owned ? { value: current!.value, expiresAt: expiresAt() } : undefined;
  });
  return found;
}

/** Extends the lock by its TTL from now when `holder` still owns it; false when it does not. */
export async function renewLock(store: Store, name: string, holder: LockHolder): Promise<boolean> {
  return (await rewriteOwned(store, name, holder.token, () => Date.now() + holder.ttlMs)).owned;
}

/**
 * Releases the lock when `token` owns it, by giving its entry an expiry that
 * has already passed (update() cannot delete; it reads as absent at once, and
 * etcd deletes it). PRECONDITION, saying who holds it if anyone, when the token does not own it.
 */
export async function releaseLock(store: Store, name: string, token: string): Promise<{ name: string; released: true }> {
  const found = await rewriteOwned(store, name, token, () => Date.now());
  if (found.owned) return { name, released: true };
  const now = found.holder === undefined ? 'nobody holds it (it expired, or was released already)' : `it is held by ${describeHolder(found.holder, found.expiresAt)}`;
  throw new TzkvError('PRECONDITION', `lock "${name}" is not held by token ${token}: ${now}`);
}

/** The locks held now, in name order. */
export async function listLocks(store: Pick<Store, 'entries'>): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  for await (const entry of store.entries({ prefix: LOCK_PREFIX })) {
    const { token, pid, host, command, since } = holderOf(entry);
    const name = entry.key.subarray(LOCK_PREFIX.length).toString('utf8');
    held.push({ name, token, pid, host, command, since, expiresAt: isoOrNull(entry.expiresAt) });
  }
  return held;
}

/** How long to wait for a lock: `ms` (undefined: for ever), and the --wait text for messages. */
export interface LockWait {
  ms: number | undefined;
  text: string;
}

/** The --ttl and --wait flags: a TTL of at least 1s in ms, a wait of 0 or more. */
export function lockTimes(flags: { ttl: string; wait?: string | undefined }): { ttlMs: number; wait: LockWait } {
  const ttlMs = parseTtl(flags.ttl, '--ttl', Date.now());
  if (ttlMs < 1000) throw new TzkvError('INVALID_ARGUMENT', `invalid --ttl "${flags.ttl}": a lock's TTL is at least 1s`);
  const wait = flags.wait === undefined ? { ms: undefined, text: 'for ever' } : { ms: parseDuration(flags.wait, '--wait', { allowZero: true }), text: flags.wait };
  return { ttlMs, wait };
}

/**
 * Opens the store for a lock command (`command`: `tzkv lock`, for the writer
 * lock file). Taking a lock is a write, so `lock` and `lock acquire` start a
 * store where none is, as `put` does (with --mode); `lock release` does not:
 * where no store is, no lock is held, and the path is likely a typo (NO_STORE).
 */
export function withLockStore<T>(flags: StoreFlags, command: string, use: (store: Store) => Promise<T>, access: 'create' | 'write' = 'create'): Promise<T> {
  return withStore(flags, access, command, use);
}
