import { bucketKey } from '../cli/bucket.js';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag, keyArg } from '../cli/flags.js';
import { printJson, writeOut } from '../cli/output.js';
import { toRecord } from '../cli/records.js';
import { TzkvError } from '../errors.js';

export default class Get extends TzkvCommand {
  static override summary = 'Print the value of a key.';
  static override description =
    'Writes exactly the stored bytes to stdout, with no newline added. Exits 1, printing nothing on stdout, when the key is missing or has expired. With --json prints {"key", "value", "expiresAt"}, adding "encoding": "base64" (and a base64 value) when the value is not valid UTF-8.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting',
    '<%= config.bin %> <%= command.id %> -b users 42 --json',
    '<%= config.bin %> <%= command.id %> photo > photo.jpg',
  ];
  static override args = { key: keyArg };
  static override flags = { ...bucketFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    const key = bucketKey(flags.bucket, args.key);
    const entry = await this.withStore(flags, 'read', (store) => store.getEntry(key));
    if (!entry) throw new TzkvError('NOT_FOUND', `key not found: ${JSON.stringify(args.key)}`);
    if (flags.json) await printJson(toRecord(Buffer.from(args.key), entry.value, entry.expiresAt));
    else await writeOut(entry.value);
  }
}
