import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketKey, keyInBucket } from '../cli/bucket.js';
import { bucketFlag } from '../cli/flags.js';
import { printJson } from '../cli/output.js';
import { openSink } from '../cli/sink.js';

export default class Keys extends TzkvCommand {
  static override summary = 'List keys, sorted.';
  static override description =
    'Prints one key per line in ascending byte order, only live (unexpired) keys. With --json prints an array of strings. With -b, lists the keys of that bucket, without the bucket prefix.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> session: --limit 10',
    '<%= config.bin %> <%= command.id %> -b users --json',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    limit: Flags.integer({ char: 'n', summary: 'Stop after this many keys.', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Keys);
    const prefix = bucketKey(flags.bucket, args.prefix ?? '');
    const options = { ...(prefix === '' ? {} : { prefix }), ...(flags.limit === undefined ? {} : { limit: flags.limit }) };
    await this.withStore(flags, 'read', async (store) => {
      const keys: string[] = [];
      const sink = await openSink(undefined);
      for await (const { key } of store.keys(options)) {
        const shown = keyInBucket(flags.bucket, key);
        if (flags.json) keys.push(shown.toString('utf8'));
        else await sink.write(Buffer.concat([shown, NEWLINE]));
      }
      await (flags.json ? printJson(keys) : sink.finish());
    });
  }
}

const NEWLINE = Buffer.from('\n');
