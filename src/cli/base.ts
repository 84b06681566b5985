// The base of every tzkv command. It owns the flags every command has (--dir,
// --json), opening and closing the store, and turning errors into messages
// and exit codes (src/cli/failure.ts). Commands parse, call the store and
// print their result (src/cli/output.ts).

import { Command } from '@oclif/core/command';
import type { Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { parseDuration } from './duration.js';
import { jsonRequested, reportFailure } from './failure.js';
import { globalFlags } from './flags.js';
import { type EtcdFlags, openStore, storeDirectory } from './store.js';

/** Lock wait when neither --lock-timeout nor TZKV_LOCK_TIMEOUT says otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** Flags the base reads; commands pass their parsed flags through. */
export interface StoreFlags extends EtcdFlags {
  dir?: string;
  'lock-timeout'?: string;
}

export abstract class TzkvCommand extends Command {
  static override baseFlags = globalFlags;

  /**
   * Opens the store for reading (no lock, never creates the directory) or
   * writing (takes the lock, creates a missing directory), runs `use`, and
   * closes the store whatever happens.
   */
  protected async withStore<T>(flags: StoreFlags, mode: 'read' | 'write', use: (store: Store) => Promise<T>): Promise<T> {
    const write = mode === 'write';
    const lockTimeoutMs = write
      ? flags['lock-timeout'] === undefined
        ? DEFAULT_LOCK_TIMEOUT_MS
        : parseDuration(flags['lock-timeout'], '--lock-timeout', { allowZero: true })
      : undefined;
    const store = await openStore({ dir: storeDirectory(flags.dir), command: `tzkv ${this.id}`, write, lockTimeoutMs, etcd: flags });
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

  /** A usage problem found after parsing (conflicting sources, a missing value): exit 2. */
  protected usage(message: string): never {
    throw new TzkvError('INVALID_ARGUMENT', message);
  }

  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    reportFailure(err, { json: jsonRequested(this.argv), command: this.id });
  }
}
