// Where the store lives and how a command opens it. The store-directory rules
// (a write creates a missing directory, a read never does) are the engine's:
// this file only chooses the options.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Store } from '../api.js';
import { isEtcdAddress } from '../etcd/url.js';
import { open } from '../index.js';
import { parseDuration } from './duration.js';
import { printMessage } from './output.js';
import { parseMode } from '../engine/permissions.js';
import { givenPath } from './paths.js';

/** Lock wait when neither --lock-timeout nor TZKV_LOCK_TIMEOUT says otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** The flags that choose and open a store; commands pass their parsed flags through. */
export interface StoreFlags extends EtcdFlags {
  dir?: string;
  'lock-timeout'?: string;
  /** --mode: the permissions of a store directory a write creates (octal). */
  mode?: string;
}

/**
 * Opens the store for reading (no lock, never creates the directory) or
 * writing (takes the lock, creates a missing directory), runs `use`, and
 * closes the store whatever happens. `command` (`tzkv put`) goes into the lock file.
 */
export async function withStore<T>(flags: StoreFlags, mode: 'read' | 'write', command: string, use: (store: Store) => Promise<T>): Promise<T> {
  const write = mode === 'write';
  const lockTimeoutMs = write
    ? flags['lock-timeout'] === undefined
      ? DEFAULT_LOCK_TIMEOUT_MS
      : parseDuration(flags['lock-timeout'], '--lock-timeout', { allowZero: true })
    : undefined;
  const store = await openStore({ dir: storeDirectory(flags.dir), command, write, lockTimeoutMs, etcd: flags, mode: write ? modeOf(flags) : undefined });
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
  /** A write takes the lock and creates a missing directory; a read does neither. */
  write: boolean;
  lockTimeoutMs?: number;
  etcd?: EtcdFlags;
  /** Permissions of the store directory, should the write create it. */
  mode?: number;
}

/** The flags that reach an etcd cluster (src/cli/flags.ts). */
export interface EtcdFlags {
  'etcd-user'?: string;
  'etcd-ca'?: string;
  'etcd-cert'?: string;
  'etcd-key'?: string;
  'etcd-timeout'?: string;
}

/** An open store's warnings (a directory others may write to) go to stderr, as etcd warns of its data directory. */
const warn = (message: string) => printMessage(`warning: ${message}`);

export function openStore({ dir, command, write, lockTimeoutMs, etcd = {}, mode }: OpenFor): Promise<Store> {
  const connect = {
    timeoutMs: etcd['etcd-timeout'] === undefined ? undefined : parseDuration(etcd['etcd-timeout'], '--etcd-timeout'),
    user: etcd['etcd-user'],
    password: process.env.TZKV_ETCD_PASSWORD,
    ca: etcd['etcd-ca'],
    cert: etcd['etcd-cert'],
    key: etcd['etcd-key'],
  };
  return write
    ? open(dir, { create: true, command, etcd: connect, onWarning: warn, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }), ...(mode === undefined ? {} : { mode }) })
    : open(dir, { readOnly: true, create: false, command, etcd: connect, onWarning: warn });
}
