import { TzkvCommand } from '../cli/base.js';
import { printFacts, printJson } from '../cli/output.js';

export default class Stats extends TzkvCommand {
  static override summary = 'Show facts about the store: keys, files, bytes, counters.';
  static override description =
    'A table on a terminal, "name: value" lines otherwise. With --json prints {"location", "formatVersion", "keys", "expiredKeys", "segments", "totalBytes", "liveBytes", "deadBytes", "puts", "deletes", "lastCompaction", "details"}.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq .deadBytes'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Stats);
    const stats = await this.withStore(flags, 'read', (store) => store.stats());
    if (flags.json) return printJson(stats);
    await printFacts([
      ['location', stats.location],
      ['format version', stats.formatVersion],
      ['keys', stats.keys],
      ['expired keys', stats.expiredKeys],
      ['segments', stats.segments],
      ['total bytes', stats.totalBytes],
      ['live bytes', stats.liveBytes],
      ['dead bytes', stats.deadBytes],
      ['puts', stats.puts],
      ['deletes', stats.deletes],
      ['last compaction', stats.lastCompaction],
    ]);
  }
}
