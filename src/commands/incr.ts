import * as Args from '@oclif/core/args';
import { TzkvCommand } from '../cli/base.js';
import { bucketKey } from '../cli/bucket.js';
import { bucketFlag, keyArg, lockFlag } from '../cli/flags.js';
import { printJson, writeOut } from '../cli/output.js';
import { TzkvError } from '../errors.js';

const INTEGER = /^[+-]?[0-9]+$/;

/** A base-10 integer within JavaScript's exact range, or undefined. */
function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

export default class Incr extends TzkvCommand {
  static override summary = 'Add to an integer value, atomically.';
  static override description = `Reads the key, adds BY (default 1; may be negative) and writes the sum, all under the writer lock: concurrent increments never lose an update. A missing or expired key counts as 0. The value must be a base-10 integer (optional sign, digits only, at most ${Number.MAX_SAFE_INTEGER} in size); anything else is refused with exit 1 and left as it was. The key keeps its expiry. Prints the new value; with --json {"key", "value"}.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> visits',
    '<%= config.bin %> <%= command.id %> stock:widget -- -3',
    '<%= config.bin %> <%= command.id %> -b counters jobs:done 10 --json',
  ];
  static override args = {
    key: keyArg,
    by: Args.string({ description: 'How much to add (an integer, default 1).', ignoreStdin: true }),
  };
  static override flags = { ...bucketFlag, ...lockFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Incr);
    const by = args.by === undefined ? 1 : parseInteger(args.by);
    if (by === undefined) this.usage(`BY must be a whole number, got ${JSON.stringify(args.by)}`);
    const key = bucketKey(flags.bucket, args.key);
    const entry = await this.withStore(flags, 'write', (store) =>
      store.update(key, (current) => {
        const text = current === undefined ? '0' : current.value.toString('utf8');
        const value = parseInteger(text);
        if (value === undefined || (current !== undefined && !Buffer.from(text, 'utf8').equals(current.value))) {
          throw new TzkvError('PRECONDITION', `value of ${JSON.stringify(args.key)} is not an integer: left as it was`);
        }
        const sum = value + by;
        if (!Number.isSafeInteger(sum)) {
          throw new TzkvError('PRECONDITION', `${value} + ${by} is beyond the exact integer range: ${JSON.stringify(args.key)} left as it was`);
        }
        return { value: String(sum) };
      }),
    );
    const result = Number(entry!.value.toString('utf8'));
    if (flags.json) await printJson({ key: args.key, value: result });
    else await writeOut(`${result}\n`);
  }
}
