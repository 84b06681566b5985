import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag, lockFlag, modeFlag } from '../cli/flags.js';
import { importEntries } from '../cli/import-action.js';
import { IMPORT_FORMATS, type ImportFormat } from '../cli/import-formats.js';
import { note, printJson } from '../cli/output.js';

export default class Import extends TzkvCommand {
  static override summary = 'Load keys from JSON Lines, TSV or a JSON object.';
  static override description = `Reads FILE, or stdin when FILE is "-". Formats:
  jsonl  one {"key", "value", "encoding"?, "expiresAt"?} per line: what export and get --json print (default)
  tsv    KEY<TAB>VALUE per line
  json   one object of key to string value
All or nothing: a malformed line stops the import with an error naming its line (exit 2), and nothing from the input is stored. Entries whose expiresAt has already passed are skipped. With --json prints {"imported", "expired"}. Shows a progress bar on stderr for a large input when stderr is a terminal.
In a compressed store, the first 1 MiB of values is compressed as it is imported and the rest is written uncompressed, for the next compaction to compress (\`tzkv compact\` now, or \`compact --if-needed\` from cron; \`tzkv stats\` shows what is pending): a bulk load costs about what it does in a plain store.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> backup.jsonl',
    '<%= config.bin %> export | <%= config.bin %> <%= command.id %> - -d /srv/copy',
    '<%= config.bin %> <%= command.id %> - --format tsv -b users < users.tsv',
    '<%= config.bin %> <%= command.id %> docs.jsonl && <%= config.bin %> compact   # compressed store: compress the import now',
  ];
  static override args = {
    file: Args.string({ description: 'Input file ("-": stdin).', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    ...modeFlag,
    format: Flags.option({ options: IMPORT_FORMATS, default: 'jsonl' as ImportFormat, summary: 'Input format.' })(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    const counts = await importEntries({ ...flags, file: args.file });
    if (flags.json) await printJson(counts);
    else note(`imported ${counts.imported} keys${counts.expired ? ` (skipped ${counts.expired} already expired)` : ''}`);
  }
}
