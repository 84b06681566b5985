import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag } from '../cli/flags.js';
import { getMany } from '../cli/many-keys.js';

export default class Get extends TzkvCommand {
  static override summary = 'Print the value of a key (or of several).';
  static override description = `Writes exactly the stored bytes to stdout, with no newline added. On a terminal, control characters (but newlines and tabs) and bytes that are not UTF-8 are shown as escapes (\\x1b) instead, so that a value cannot act on the terminal; pipe it (\`| cat\`) for the raw bytes. Exits 1, printing nothing on stdout, when the key is missing or has expired. Exits 4, printing nothing on stdout, when the newest record of the key is damaged, or damaged data after its newest readable record may hold a newer one (the message names file and offset; \`tzkv verify --repair\` fixes it). With --json prints {"key", "value", "expiresAt", "version"}, adding "encoding": "base64" (and a base64 value) when the value is not valid UTF-8; "version" is what put and del --if-version compare.

Several keys (or --prefix, or --with-keys) print one KEY<TAB>VALUE line per key, in the order given (--prefix: in key order), each key once: the form import --format tsv reads. A value holding a newline (or ending with a carriage return, or a key holding a tab or newline) cannot be such a line: then nothing is printed and the exit is 2; use --json. With --json they print one object, {"KEY": {"value", "encoding"?, "expiresAt"}, ...}. A missing key makes the exit 1, naming every missing key on stderr and printing nothing, unless --missing-ok: then it is left out (null under --json; one KEY alone prints nothing, or null). --prefix with no key under it prints nothing ({} under --json), exit 0.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting',
    '<%= config.bin %> <%= command.id %> -b users 42 --json',
    '<%= config.bin %> <%= command.id %> photo > photo.jpg',
    '<%= config.bin %> <%= command.id %> host port   # host<TAB>localhost, port<TAB>8080',
    '<%= config.bin %> <%= command.id %> --prefix config: | while IFS=$\'\\t\' read -r key value; do echo "$key=$value"; done',
    '<%= config.bin %> <%= command.id %> a b c --json --missing-ok | jq -r \'.b.value // "unset"\'',
    '<%= config.bin %> <%= command.id %> -- -draft   # a key that starts with "-"',
  ];
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'Keys to read (one or more; none with --prefix); after "--" when one starts with "-".', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    prefix: Flags.string({ summary: 'Every key that starts with this, in key order (instead of KEYs).', helpValue: 'PREFIX' }),
    'missing-ok': Flags.boolean({ summary: 'Leave a missing key out (null under --json) instead of exiting 1.', default: false }),
    'with-keys': Flags.boolean({ summary: 'Print KEY<TAB>VALUE (--json: an object by key), as for several keys, even for one KEY.', default: false }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Get);
    await getMany({ ...flags, keys: argv as string[] });
  }
}
