import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketKey } from '../cli/bucket.js';
import { DURATION_HELP, parseDuration, parseTimestamp } from '../cli/duration.js';
import { bucketFlag, keyArg, lockFlag } from '../cli/flags.js';
import { readStdin, readWhole } from '../cli/input.js';
import { printJson } from '../cli/output.js';
import { isoTime } from '../cli/records.js';
import { TzkvError } from '../errors.js';

export default class Put extends TzkvCommand {
  static override summary = 'Store a value under a key.';
  static override description =
    'The value comes from the VALUE argument; from stdin when VALUE is "-", or when it is left out and stdin is not a terminal; or from --file. Values are stored byte for byte. Prints nothing unless --json.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting hello',
    '<%= config.bin %> <%= command.id %> session:42 "$TOKEN" --ttl 10m',
    '<%= config.bin %> <%= command.id %> photo --file photo.jpg',
    '<%= config.bin %> <%= command.id %> notes < notes.txt',
    '<%= config.bin %> <%= command.id %> -b jobs nightly started --if-absent || echo "already running"',
  ];
  static override args = {
    key: keyArg,
    value: Args.string({ description: 'The value; "-" reads stdin.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    file: Flags.string({ char: 'f', summary: 'Read the value from this file ("-": stdin).', helpValue: 'PATH' }),
    ttl: Flags.string({ summary: 'Expire the key after this long.', description: `A duration: ${DURATION_HELP}.`, helpValue: 'DURATION', exclusive: ['expire-at'] }),
    'expire-at': Flags.string({ summary: 'Expire the key at this time: ISO 8601 or epoch seconds.', helpValue: 'TIME', exclusive: ['ttl'] }),
    'if-absent': Flags.boolean({ summary: 'Write only if the key does not exist (exit 1 if it does).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Put);
    const key = bucketKey(flags.bucket, args.key);
    const now = Date.now();
    const ttlMs = flags.ttl === undefined ? undefined : parseDuration(flags.ttl, '--ttl');
    const expiresAt = flags['expire-at'] === undefined ? undefined : parseTimestamp(flags['expire-at'], '--expire-at', now);
    const value = await this.value(args.value, flags.file);
    const options = { ifAbsent: flags['if-absent'], ...(ttlMs === undefined ? {} : { ttlMs }), ...(expiresAt === undefined ? {} : { expiresAt }) };
    const result = await this.withStore(flags, 'write', async (store) => {
      if (!(await store.put(key, value, options))) return undefined;
      return { key: args.key, bytes: value.length, expiresAt: isoTime((await store.expiry(key)) ?? null) };
    });
    if (!result) throw new TzkvError('PRECONDITION', `key already exists: ${JSON.stringify(args.key)}`);
    if (flags.json) await printJson(result);
  }

  private async value(arg: string | undefined, file: string | undefined): Promise<Buffer> {
    if (file !== undefined) {
      if (arg !== undefined) this.usage('give the value as VALUE or with --file, not both');
      return readWhole(file);
    }
    if (arg === '-') return readStdin();
    if (arg !== undefined) return Buffer.from(arg, 'utf8');
    if (process.stdin.isTTY) this.usage('missing VALUE: give it as an argument, with --file, or on stdin');
    return readStdin();
  }
}
