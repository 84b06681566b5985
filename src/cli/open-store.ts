// Where the store lives and how a command opens it: which commands may start
// a store, and what a directory holding none means to the others
// (docs/cli.md "The store directory"). The engine applies the rules
// (OpenOptions.create); this file chooses them for each command.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Secret, Store } from '../api.js';
import { isEtcdAddress } from '../etcd/url.js';
import { isTzkvError } from '../errors.js';
import { open } from '../index.js';
import { parseDuration } from '../text/duration.js';
import { printMessage } from './output.js';
import { parseMode } from '../engine/files/permissions.js';
import { givenPath } from './paths.js';

/** Lock wait when neither --lock-timeout nor TZKV_LOCK_TIMEOUT says otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** The flags that choose and open a store; commands pass their parsed flags through. */
export interface StoreFlags extends EtcdFlags {
  dir?: string;
  'lock-timeout'?: string;
  /** --mode: the permissions of a store directory a write creates (octal). */
  mode?: string;
  /** --key-file, or $TZKV_KEY_FILE (oclif fills the flag from it). */
  'key-file'?: string;
}

/**
 * The secret of an encrypted store (docs/cli.md "--key-file"): --key-file,
 * else $TZKV_KEY_FILE, else a passphrase in $TZKV_PASSPHRASE (empty counts as
 * unset); undefined when none is given.
 */
export function secretOf(flags: { 'key-file'?: string }, env: NodeJS.ProcessEnv = process.env): Secret | undefined {
  const keyFile = flags['key-file'] || env.TZKV_KEY_FILE;
  if (keyFile) {
    const path = resolve(keyFile);
    return { keyFile: path, given: `the key file ${path} (${keyFile === env.TZKV_KEY_FILE ? '$TZKV_KEY_FILE' : '--key-file'})` };
  }
  return env.TZKV_PASSPHRASE ? { passphrase: env.TZKV_PASSPHRASE, given: 'the passphrase in $TZKV_PASSPHRASE' } : undefined;
}

/**
 * What a command does with its store, which decides what a directory holding
 * no store means to it:
 * - `read`: no lock. A missing directory is NO_STORE; an empty one, an empty store.
 * - `audit`: no lock, and a store must be there: a missing or empty directory is NO_STORE (verify).
 * - `write`: the writer lock, and a store must be there (del, compact, verify --repair, promote).
 * - `create`: the writer lock; starts a store in a missing (parents included) or empty
 *   directory (put, import, incr, setting a ttl: the only commands that may).
 */
export type Access = 'read' | 'audit' | 'write' | 'create';

/**
 * Opens the store as `access` says, runs `use`, and closes the store whatever
 * happens. `command` (`tzkv put`) goes into the lock file.
 */
export function withStore<T>(flags: StoreFlags, access: Access, command: string, use: (store: Store) => Promise<T>): Promise<T> {
  return openAndUse(flags, access, command, use);
}

/** What key commands see of a default store that does not exist yet. */
export type KeyStore = Pick<Store, 'getEntry' | 'expiry' | 'keys' | 'entries' | 'del' | 'delPrefix' | 'delIf' | 'swap'>;

const NO_KEYS: KeyStore = {
  getEntry: async () => undefined,
  expiry: async () => undefined,
  keys: async function* () {},
  entries: async function* () {},
  del: async () => 0,
  delPrefix: async () => 0,
  delIf: async () => false,
  // Only a conditional put comes here (put --if-value, --if-version): a condition on a key that is not there fails.
  swap: async () => ({ written: false, previous: undefined }),
};

/**
 * withStore for the commands about keys (get, keys, ttl KEY, export, del).
 * The default location (no --dir, no TZKV_DIR) holding no store is an empty
 * store, and nothing is created: the first run on a fresh machine is no I/O
 * error. A path the user gave that holds no store stays NO_STORE (a typo, maybe).
 */
export function withKeyStore<T>(flags: StoreFlags, access: 'read' | 'write', command: string, use: (store: KeyStore) => Promise<T>): Promise<T> {
  return openAndUse(flags, access, command, use, flags.dir === undefined ? () => use(NO_KEYS) : undefined);
}

async function openAndUse<T>(flags: StoreFlags, access: Access, command: string, use: (store: Store) => Promise<T>, noStore?: () => Promise<T>): Promise<T> {
  const locks = access === 'write' || access === 'create';
  const lockTimeoutMs = locks
    ? flags['lock-timeout'] === undefined
      ? DEFAULT_LOCK_TIMEOUT_MS
      : parseDuration(flags['lock-timeout'], '--lock-timeout', { allowZero: true })
    : undefined;
  let store: Store;
  try {
    store = await openStore({ dir: storeDirectory(flags.dir), command, access, lockTimeoutMs, etcd: flags, mode: access === 'create' ? modeOf(flags) : undefined, secret: secretOf(flags) });
  } catch (err) {
    if (noStore !== undefined && isTzkvError(err, 'NO_STORE')) return noStore();
    throw err;
  }
  let result: T;
  try {
    result = await use(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  await store.close();
  return result;
}

/** --mode (or $TZKV_MODE, which oclif puts in the flag), parsed; undefined when not given. */
export function modeOf(flags: { mode?: string }): number | undefined {
  return flags.mode === undefined ? undefined : parseMode(flags.mode, '--mode');
}

/**
 * The store directory: `--dir`, else `TZKV_DIR` (oclif fills the flag from it;
 * an empty variable counts as unset), else `$XDG_DATA_HOME/tzkv`, else
 * `~/.local/share/tzkv`. Always absolute. An empty `--dir` is a usage error.
 */
export function storeDirectory(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  givenPath(flag, '--dir', 'a store directory cannot be empty (leave -d out for the default store)');
  if (flag !== undefined && isEtcdAddress(flag)) return flag;
  if (flag !== undefined) return resolve(flag);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const dataHome = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'share');
  return join(dataHome, 'tzkv');
}

export interface OpenFor {
  dir: string;
  /** `tzkv <name>`, recorded in the lock file. */
  command: string;
  access: Access;
  lockTimeoutMs?: number;
  etcd?: EtcdFlags;
  /** Permissions of the store directory, should a `create` access create it. */
  mode?: number;
  /** fsync before acknowledging a write (default true; tzkv serve --sync turns it off and syncs on its own terms). */
  sync?: boolean;
  /** Told of a store directory others may write to (default: a `tzkv: warning:` line on stderr; tzkv serve logs it). */
  onWarning?: (message: string) => void;
  /** An encrypted store's secret (secretOf). */
  secret?: Secret;
}

/** The flags that reach an etcd cluster (src/cli/flags.ts). */
interface EtcdFlags {
  'etcd-user'?: string;
  'etcd-ca'?: string;
  'etcd-cert'?: string;
  'etcd-key'?: string;
  'etcd-timeout'?: string;
}

/** An open store's warnings (a directory others may write to) go to stderr, as etcd warns of its data directory. */
const warn = (message: string) => printMessage(`warning: ${message}`);

export function openStore({ dir, command, access, lockTimeoutMs, etcd = {}, mode, sync, onWarning = warn, secret }: OpenFor): Promise<Store> {
  const connect = {
    timeoutMs: etcd['etcd-timeout'] === undefined ? undefined : parseDuration(etcd['etcd-timeout'], '--etcd-timeout'),
    user: etcd['etcd-user'],
    password: process.env.TZKV_ETCD_PASSWORD,
    ca: etcd['etcd-ca'],
    cert: etcd['etcd-cert'],
    key: etcd['etcd-key'],
  };
  if (access === 'read') return open(dir, { readOnly: true, command, etcd: connect, onWarning, secret });
  if (access === 'audit') return open(dir, { readOnly: true, create: false, command, etcd: connect, onWarning, secret });
  const create = access === 'create';
  return open(dir, { create, command, etcd: connect, onWarning, secret, ...(sync === false ? { sync } : {}), ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }), ...(create && mode !== undefined ? { mode } : {}) });
}
