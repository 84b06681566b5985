import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketPrefix } from '../cli/bucket.js';
import { bucketFlag, lockFlag, modeFlag } from '../cli/flags.js';
import { IMPORT_FORMATS, lineError, readEntries, type ImportFormat } from '../cli/import-formats.js';
import { openSource } from '../cli/input.js';
import { note, printJson } from '../cli/output.js';
import { givenPath } from '../cli/paths.js';
import { startProgress } from '../cli/progress.js';
import { TzkvError } from '../errors.js';

export default class Import extends TzkvCommand {
  static override summary = 'Load keys from JSON Lines, TSV or a JSON object.';
  static override description = `Reads FILE, or stdin when FILE is "-". Formats:
  jsonl  one {"key", "value", "encoding"?, "expiresAt"?} per line: what export and get --json print (default)
  tsv    KEY<TAB>VALUE per line
  json   one object of key to string value
All or nothing: a malformed line stops the import with an error naming its line (exit 2), and nothing from the input is stored. Entries whose expiresAt has already passed are skipped. With --json prints {"imported", "expired"}. Shows a progress bar on stderr for a large input when stderr is a terminal.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> backup.jsonl',
    '<%= config.bin %> export | <%= config.bin %> <%= command.id %> - -d /srv/copy',
    '<%= config.bin %> <%= command.id %> - --format tsv -b users < users.tsv',
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
    // Stdin only when asked for: a loop's input is not an import's.
    if (args.file === undefined) this.usage('missing FILE: give a file, or "-" to read stdin');
    const prefix = Buffer.from(bucketPrefix(flags.bucket));
    const source = await openSource(givenPath(args.file, 'FILE', 'a file name cannot be empty ("-" is stdin)'));
    const counts = await this.withStore(flags, 'create', async (store) => {
      const batch = store.batch();
      const progress = await startProgress('importing', source.size);
      let imported = 0;
      let expired = 0;
      try {
        const now = Date.now();
        for await (const entries of readEntries(flags.format, source, progress.update)) {
          for (const entry of entries) {
            if (entry.expiresAt !== null && entry.expiresAt <= now) {
              expired++;
              continue;
            }
            try {
              batch.put(prefix.length === 0 ? entry.key : Buffer.concat([prefix, entry.key]), entry.value, { expiresAt: entry.expiresAt });
            } catch (err) {
              if (err instanceof TzkvError && err.code === 'INVALID_ARGUMENT') throw lineError(source, entry.line, err.message);
              throw err;
            }
            imported++;
          }
        }
        await batch.write();
      } catch (err) {
        await batch.discard().catch(() => undefined);
        throw err;
      } finally {
        progress.stop();
      }
      return { imported, expired };
    });
    if (flags.json) await printJson(counts);
    else note(`imported ${counts.imported} keys${counts.expired ? ` (skipped ${counts.expired} already expired)` : ''}`);
  }
}
