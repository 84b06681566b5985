// The base of every tzkv command. It owns the flags every command has (--dir,
// --json), opening and closing the store, and turning errors into messages
// and exit codes (src/cli/failure.ts). Commands parse, call the store and
// print their result (src/cli/output.ts).

import { Command } from '@oclif/core/command';
import type { Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { refuseDashWords } from './dash-words.js';
import { jsonRequested, reportFailure } from './failure.js';
import { globalFlags } from './flags.js';
import { type Access, type KeyStore, type StoreFlags, withKeyStore, withStore } from './open-store.js';

export abstract class TzkvCommand extends Command {
  static override baseFlags = globalFlags;

  /** Opens the store, runs `use`, and closes it whatever happens (src/cli/open-store.ts). */
  protected withStore<T>(flags: StoreFlags, access: Access, use: (store: Store) => Promise<T>): Promise<T> {
    return withStore(flags, access, `tzkv ${this.id}`, use);
  }

  /** withStore for a command about keys: a default store not yet written is an empty one (src/cli/open-store.ts). */
  protected withKeyStore<T>(flags: StoreFlags, access: 'read' | 'write', use: (store: KeyStore) => Promise<T>): Promise<T> {
    return withKeyStore(flags, access, `tzkv ${this.id}`, use);
  }

  /** Before oclif parses: a word like `-bugfix` must not pass for flags (src/cli/dash-words.ts). */
  override async init(): Promise<void> {
    await super.init();
    refuseDashWords(this.argv, { ...this.ctor.baseFlags, ...this.ctor.flags }, this.id ?? '');
  }

  /** A usage problem found after parsing (conflicting sources, a missing value): exit 2. */
  protected usage(message: string): never {
    throw new TzkvError('INVALID_ARGUMENT', message);
  }

  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    reportFailure(err, { json: jsonRequested(this.argv), command: this.id });
  }
}
