import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag, lockFlag } from '../cli/flags.js';
import { deleteMany } from '../cli/many-keys.js';

export default class Del extends TzkvCommand {
  static override summary = 'Delete keys (or every key under a prefix).';
  static override description = `Exits 0 whether or not the keys existed; 5 when the directory holds no store (del never starts one; the default store before anything was written to it has no keys to delete). With --json prints {"deleted": N}, counting the keys that were actually removed.

--prefix P deletes every key that starts with P, all at once: a reader sees all of them gone or none (on etcd one delete-range). --all deletes every key of the store (of the bucket, with -b); an empty --prefix is refused, as an unset variable would wipe the store. --dry-run deletes nothing and prints the keys that would go, one per line as keys prints them (--json: {"deleted": 0, "dryRun": true, "keys": [...]}).

With --if-value or --if-version it deletes one KEY, only if the condition holds, in one step: exit 1 (nothing deleted) when the value or version differs or the key is missing.`;
  static override aliases = ['rm', 'delete'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting',
    '<%= config.bin %> <%= command.id %> -b users 41 42 43 --json',
    '<%= config.bin %> <%= command.id %> -- -key-starting-with-a-dash',
    '<%= config.bin %> <%= command.id %> --prefix tmp: --dry-run',
    '<%= config.bin %> <%= command.id %> --prefix tmp: --json   # {"deleted":12}',
    '<%= config.bin %> <%= command.id %> -b cache --all',
    '<%= config.bin %> <%= command.id %> lock:nightly --if-value "$MY_TOKEN"   # release only what is still mine',
  ];
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'Keys to delete (one or more; none with --prefix or --all); after "--" when one starts with "-".', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    prefix: Flags.string({ summary: 'Delete every key that starts with this, atomically (instead of KEYs).', helpValue: 'PREFIX' }),
    all: Flags.boolean({ summary: 'Delete every key of the store (of the bucket, with -b).', default: false }),
    'dry-run': Flags.boolean({ summary: 'With --prefix or --all: print the keys that would be deleted; delete nothing.', default: false }),
    'if-value': Flags.string({
      summary: 'Delete the one KEY only if its value is exactly OLD (exit 1 if not).',
      helpValue: 'OLD',
    }),
    'if-version': Flags.string({
      summary: 'Delete the one KEY only if its version is V, the "version" of get --json (exit 1 if not).',
      helpValue: 'V',
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Del);
    await deleteMany({ ...flags, keys: argv as string[] });
  }
}
