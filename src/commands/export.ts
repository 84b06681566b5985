import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { exportEntries } from '../cli/export-action.js';
import { EXPORT_FORMATS } from '../cli/export-formats.js';
import { bucketFlag } from '../cli/flags.js';
import { note, printJson } from '../cli/output.js';

export default class Export extends TzkvCommand {
  static override summary = 'Write every live key as JSON Lines (or TSV, or a JSON object).';
  static override description = `One {"key", "value", "encoding"?, "expiresAt"} per line, in key order, to stdout or --out FILE (written to a temporary file and renamed into place when complete). Values that are not valid UTF-8 are base64-encoded with "encoding": "base64", so that
  tzkv export | tzkv import - -d OTHER
reproduces every key, value byte and expiry. Past damaged data (see \`tzkv verify\`) it exports every readable key, warns on stderr for each damaged stretch and exits 4; --out then writes no file. With -b, exports the bucket's keys without the bucket prefix (import -b puts them back into a bucket). With --json prints one JSON array instead, on one line unless stdout is a terminal (or, with --out, {"exported", "file"}).

--format picks one of the formats import reads, and export --format X | import --format X reproduces the keys exactly:
  jsonl  the default above: carries every key, value byte and expiry
  tsv    KEY<TAB>VALUE per line, bytes as they are
  json   one object of key to string value
tsv and json carry no expiry, a TSV line no newline in its value (nor a tab or newline in its key, nor a carriage return ending its value), and a JSON string only UTF-8 text: a key they cannot carry stops the export with exit 2 before anything is written, naming the key.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> > backup.jsonl',
    '<%= config.bin %> <%= command.id %> session: --out sessions.jsonl',
    '<%= config.bin %> <%= command.id %> | <%= config.bin %> import - -d /srv/copy',
    '<%= config.bin %> <%= command.id %> config: --format tsv | <%= config.bin %> import - --format tsv -d /srv/copy',
    '<%= config.bin %> <%= command.id %> -b users --format json > users.json',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    out: Flags.string({ char: 'o', summary: 'Write to this file instead of stdout ("-": stdout).', helpValue: 'FILE' }),
    format: Flags.option({ options: EXPORT_FORMATS, summary: 'Output format, as import reads it (default jsonl).' })(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Export);
    const result = await exportEntries({ ...flags, ...(args.prefix === undefined ? {} : { prefix: args.prefix }) });
    if (result.file === undefined) return;
    if (flags.json) await printJson(result);
    else note(`exported ${result.exported} keys to ${result.file}`);
  }
}
