import { TzkvCommand } from '../cli/base.js';
import { bucketFlag, keyArg } from '../cli/flags.js';
import { getKey } from '../cli/key-actions.js';

export default class Get extends TzkvCommand {
  static override summary = 'Print the value of a key.';
  static override description =
    'Writes exactly the stored bytes to stdout, with no newline added. On a terminal, control characters (but newlines and tabs) and bytes that are not UTF-8 are shown as escapes (\\x1b) instead, so that a value cannot act on the terminal; pipe it (`| cat`) for the raw bytes. Exits 1, printing nothing on stdout, when the key is missing or has expired. Exits 4, printing nothing on stdout, when the newest record of the key is damaged, or damaged data after its newest readable record may hold a newer one (the message names file and offset; `tzkv verify --repair` fixes it). With --json prints {"key", "value", "expiresAt"}, adding "encoding": "base64" (and a base64 value) when the value is not valid UTF-8.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting',
    '<%= config.bin %> <%= command.id %> -b users 42 --json',
    '<%= config.bin %> <%= command.id %> photo > photo.jpg',
  ];
  static override args = { key: keyArg };
  static override flags = { ...bucketFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    await getKey({ ...flags, key: args.key });
  }
}
