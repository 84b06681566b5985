import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketPrefix, keyInBucket } from '../cli/bucket.js';
import { DamageWarnings } from '../cli/damage.js';
import { bucketFlag } from '../cli/flags.js';
import { note, printJson } from '../cli/output.js';
import { givenPath } from '../cli/paths.js';
import { openSink } from '../cli/sink.js';
import { toRecord } from '../cli/records.js';
import { terminalJson } from '../cli/terminal-text.js';
import { TzkvError } from '../errors.js';

export default class Export extends TzkvCommand {
  static override summary = 'Write every live key as JSON Lines.';
  static override description = `One {"key", "value", "encoding"?, "expiresAt"} per line, in key order, to stdout or --out FILE (written to a temporary file and renamed into place when complete). Values that are not valid UTF-8 are base64-encoded with "encoding": "base64", so that
  tzkv export | tzkv import - -d OTHER
reproduces every key, value byte and expiry. Past damaged data (see \`tzkv verify\`) it exports every readable key, warns on stderr for each damaged stretch and exits 4; --out then writes no file. With -b, exports the bucket's keys without the bucket prefix (import -b puts them back into a bucket). With --json prints one JSON array instead, on one line unless stdout is a terminal (or, with --out, {"exported", "file"}).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> > backup.jsonl',
    '<%= config.bin %> <%= command.id %> session: --out sessions.jsonl',
    '<%= config.bin %> <%= command.id %> | <%= config.bin %> import - -d /srv/copy',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    out: Flags.string({ char: 'o', summary: 'Write to this file instead of stdout ("-": stdout).', helpValue: 'FILE' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Export);
    const prefix = bucketPrefix(flags.bucket) + (args.prefix ?? '');
    // "-" is stdout, as it is stdin for put --file and import.
    const out = flags.out === '-' ? undefined : givenPath(flags.out, '--out', 'a file name cannot be empty ("-" is stdout)');
    const asArray = flags.json && out === undefined;
    // The JSON array is one line for a program; a terminal sees one record per line, escaped (src/cli/terminal-text.ts).
    const terminal = out === undefined && process.stdout.isTTY === true;
    const before = terminal ? '\n  ' : '';
    const warnings = new DamageWarnings();
    const exported = await this.withKeyStore(flags, 'read', async (store) => {
      const sink = await openSink(out);
      let count = 0;
      try {
        if (asArray) await sink.write('[');
        for await (const entry of store.entries({ ...(prefix === '' ? {} : { prefix }), onDamage: warnings.onDamage })) {
          const json = JSON.stringify(toRecord(keyInBucket(flags.bucket, entry.key), entry.value, entry.expiresAt));
          const record = terminal ? terminalJson(json) : json;
          await sink.write(asArray ? `${count === 0 ? '' : ','}${before}${record}` : `${record}\n`);
          count++;
        }
        if (asArray) await sink.write(count === 0 || !terminal ? ']\n' : '\n]\n');
        // --out promises a file that appears only when complete: an export past damage is not.
        if (out !== undefined && warnings.count > 0) {
          throw new TzkvError('CORRUPT', `${out} not written: ${warnings.summary('the export')} (\`tzkv export > FILE\` writes what is readable)`);
        }
        await sink.finish();
      } catch (err) {
        await sink.abandon();
        throw err;
      }
      return count;
    });
    warnings.finish('the export');
    if (out === undefined) return;
    if (flags.json) await printJson({ exported, file: out });
    else note(`exported ${exported} keys to ${out}`);
  }
}
