import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { DURATION_HELP } from '../text/duration.js';
import { bucketFlag } from '../cli/flags.js';
import { watchKeys } from '../cli/watch-action.js';

export default class Watch extends TzkvCommand {
  static override summary = 'Wait for changes to a key, or to the keys under a prefix, and print each.';
  static override description =
    'Prints one line per change made after the watch starts, in the order they were made, until stopped (Ctrl-C, a signal, or the reader of its output gone): `put KEY VALUE`, `del KEY`, or `expire KEY` when a key\'s expiry passes. A key or value is written as it is when it is plain text without spaces; otherwise, or when empty, in double quotes with C-style escapes ("two words", "a\\x1b[2J", ""), on a terminal and in a pipe alike, so that every line is one change. With --json each line is instead one JSON object {"type", "key", "value", "expiresAt"} (value null for del and expire; "encoding": "base64" for a value that is not UTF-8, as get --json).\n\n--once exits 0 after the first change. --timeout gives up after that long: exit 1 (TIMEOUT) with a message on stderr when no change came. --existing first prints each watched key that exists now, as a put, so a script waiting for a key does not miss one written before it started. A store directory is followed by reading its files (no lock: writers never wait for a watch); an etcd address uses etcd\'s watch. A directory that does not exist is exit 5; an empty one is an empty store, watched until its first write.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ready --existing --once --timeout 5m   # CI: wait for a fixture job (at once if it ran)',
    '<%= config.bin %> <%= command.id %> --prefix jobs: --json                  # every change under jobs:, as JSON Lines',
    '<%= config.bin %> <%= command.id %> -b deploys --prefix ""                 # every key of bucket deploys',
    '<%= config.bin %> <%= command.id %> --prefix session: | head -3            # the next three changes',
  ];
  static override args = {
    key: Args.string({ description: 'The key to watch (or --prefix).', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    prefix: Flags.string({ summary: 'Watch every key that starts with P ("" for every key).', helpValue: 'P' }),
    once: Flags.boolean({ summary: 'Exit 0 after the first change.', default: false }),
    timeout: Flags.string({
      summary: 'Give up after this long: exit 1 when no change came.',
      description: `A duration: ${DURATION_HELP}.`,
      helpValue: 'DURATION',
    }),
    existing: Flags.boolean({ summary: 'First print each watched key that exists now, as a put.', default: false }),
    json: Flags.boolean({ summary: 'Print each change as one JSON object on a line of its own (JSON Lines).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Watch);
    await watchKeys({ ...flags, ...(args.key === undefined ? {} : { key: args.key }) });
  }
}
