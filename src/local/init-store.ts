// init(): a new directory store, plain or encrypted and/or compressed
// (docs/cli.md "init", docs/format.md "Format version 2"). Under the writer
// lock: the KEYRING first (an encrypted store), then segment 1 and the first
// MANIFEST through the engine's one way of starting a store (new-store.ts).
import { resolve } from 'node:path';
import type { InitOptions, InitReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { codecOf, HOW_TO_GIVE_A_KEY, installKeyring, keyringOp, secretMaterial } from '../engine/files/keyring-file.js';
import { inspectDir, unfinishedFollower, withoutManifest } from '../engine/files/layout.js';
import { checkMode, makeOrWarn } from '../engine/files/permissions.js';
import { installManifest } from '../engine/files/store-manifest.js';
import type { StoreSettings } from '../engine/files/store-manifest.js';
import { startStore } from '../engine/write/new-store.js';
import { createKeyring } from '../format/keyring.js';
import { manifestVersion } from '../format/manifest.js';
import { COMPRESSION_ALGORITHMS, DEFAULT_COMPRESSION_MIN_BYTES } from '../format/store-codec.js';
import type { CompressionAlgorithm } from '../format/store-codec.js';
import type { Clock } from '../io/clock.js';
import { systemClock } from '../io/clock.js';
import type { FileSystem } from '../io/fs.js';
import { realFs } from '../io/fs.js';
import type { Processes } from '../io/processes.js';
import { realProcesses } from '../io/processes.js';
import { WriterLock } from '../lock/lockfile.js';

/** init's options, and the engine's seams for tests. */
export interface InitEngineOptions extends InitOptions {
  fs?: FileSystem;
  processes?: Processes;
  lockClock?: Clock;
  now?: () => number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

function settings(options: InitOptions): StoreSettings {
  const algorithm = options.compression;
  if (algorithm !== undefined && !COMPRESSION_ALGORITHMS.includes(algorithm as CompressionAlgorithm)) {
    throw new TzkvError('INVALID_ARGUMENT', `unknown compression ${JSON.stringify(algorithm)}: choose ${COMPRESSION_ALGORITHMS.join(' or ')}`);
  }
  return {
    encryption: options.encrypt === true ? { cipher: 'aes-256-gcm' } : null,
    compression: algorithm === undefined ? null : { algorithm: algorithm as CompressionAlgorithm, minBytes: DEFAULT_COMPRESSION_MIN_BYTES },
  };
}

/** Refuses a directory init must leave alone: one holding a store, or the remains of one. */
function refuseTaken(fs: FileSystem, dir: string): 'missing' | 'empty' {
  const state = inspectDir(fs, dir); // NOT_A_STORE: a file, or a directory of other files
  if (state === 'missing' || state === 'empty') return state;
  if (state === 'store') throw new TzkvError('PRECONDITION', `${dir} already holds a tzkv store: init changed nothing`, { path: dir });
  throw state === 'unfinished-follower' ? unfinishedFollower(dir) : withoutManifest(fs, dir)!;
}

/**
 * Creates a store in `location` (a missing directory, parents included, or an
 * empty one). Throws PRECONDITION when a store is there (nothing changed),
 * NOT_A_STORE for a directory of other files, KEY_REQUIRED for `encrypt`
 * without a secret and KEY_WRONG for a key file that holds no key (both
 * before anything is written), INVALID_ARGUMENT for an unknown compression.
 */
export async function initStore(location: string, options: InitEngineOptions = {}): Promise<InitReport> {
  if (typeof location !== 'string' || location === '') throw new TzkvError('INVALID_ARGUMENT', 'a store location (directory) is required');
  const fs = options.fs ?? realFs;
  const now = options.now ?? Date.now;
  const dir = resolve(location);
  const mode = checkMode(options.mode);
  const made = settings(options);
  if (made.encryption !== null && options.secret === undefined) {
    throw new TzkvError('KEY_REQUIRED', `init --encrypt needs the key that will open ${dir}: give it with ${HOW_TO_GIVE_A_KEY} (\`tzkv keygen > FILE\` makes a key file)`, { path: dir });
  }
  const secret = made.encryption === null ? undefined : secretMaterial(fs, options.secret!);
  makeOrWarn(fs, dir, refuseTaken(fs, dir) === 'missing', mode, options.onWarning);
  const processes = options.processes ?? realProcesses;
  const lock = await WriterLock.acquire(fs, dir, {
    timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    command: options.command ?? 'init',
    processes,
    clock: options.lockClock ?? systemClock,
  });
  try {
    refuseTaken(fs, dir); // another process may have started one while we waited
    const keyring = secret === undefined ? undefined : keyringOp(() => createKeyring(secret, now()));
    if (keyring) installKeyring(fs, dir, keyring.bytes);
    installManifest(fs, dir, startStore(fs, dir, codecOf(made, keyring?.keys, dir), now(), processes));
  } finally {
    try {
      lock.release();
    } catch {
      // The store is made; a LOCK we failed to remove names this process and is broken as a leftover.
    }
  }
  return { location: dir, formatVersion: manifestVersion(made), encrypted: made.encryption !== null, compression: made.compression?.algorithm ?? null };
}
