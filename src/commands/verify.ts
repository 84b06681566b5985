import type { RepairReport, VerifyOptions } from '../api.js';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { lockFlag } from '../cli/flags.js';
import { problemLine } from '../cli/damage.js';
import { palette, printJson, printMessage, shown, writeOut } from '../cli/output.js';
import { prepareProgress } from '../cli/progress.js';
import type { Progress } from '../cli/progress.js';
import { EXIT_CODES } from '../errors.js';
import { adminOf } from '../cli/store-admin.js';

export default class Verify extends TzkvCommand {
  static override summary = 'Check every stored byte; exit 4 if anything is damaged.';
  static override description = [
    'Reads every file of the store and checks it without changing any data: each file header, every record\'s framing and CRC, every index run against the records (each entry points at a record of its key, kind, length and expiry; every newest record of a key is indexed), the runs\' bloom filters, branch blocks and TTL sections, the manifest, its file sizes and its census.',
    'Prints one line per problem, "FILE offset N: message", then warnings (files that do not belong to the store, leftovers of interrupted writes, bytes a failed write left after the last committed record) and a summary. Exits 0 when the store is clean, 4 when anything is damaged, 5 when a file was written by a newer tzkv or there is no store to check (a missing or empty directory).',
    'Records the result in the store\'s VERIFIED note, which `tzkv stats` shows. A progress bar is drawn on stderr when it is a terminal and the store is large (never with --json).',
    'An encrypted store verified without its key (no --key-file, TZKV_KEY_FILE or TZKV_PASSPHRASE) is checked as far as its stored bytes allow: every file header, every record\'s framing and CRC, every group\'s tiling, every index block\'s and bloom page\'s CRC, every TTL section. What needs the plaintext keys (the index against the records, key order, bloom filter contents, the newest records, the census, authentication tags) is not checked, and the output says so ("keys not checked: no key given"); with the key everything is checked, every tag included.',
    'With --json prints {"ok", "newerVersion", "files", "records", "bytes", "problemCount", "problems": [{"file", "offset", "kind", "message"}], "warnings": [...], "skipped": [checks not made, and why], "durationMs", "recorded"}, plus "repair": {"quarantine", "moved": [{"file", "offset", "bytes", "quarantineOffset"}], "truncated", "rewritten", "rebuiltRun", "removed", "census", "rebuiltManifest"} with --repair.',
  ].join('\n\n');
  static override flags = {
    repair: Flags.boolean({
      summary: 'Repair what can be repaired, then verify.',
      description:
        'Under the writer lock: a missing or unreadable MANIFEST is rebuilt from the segments on disk (an unreadable one moved to quarantine first), unreadable byte ranges of data segments are moved into a QUARANTINE-<time>.tzq file in the store (nothing readable is deleted), a torn end of the active segment is cut off, a segment with damage inside is rewritten without it, and a damaged, missing or mismatched index is rebuilt from the data (its census recomputed). Every replacement is written aside, fsynced and renamed. The report says what moved where.',
      default: false,
    }),
    ...lockFlag,
  };
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -d /srv/tzkv --json > report.json || alert "tzkv store damaged"',
    '<%= config.bin %> <%= command.id %> -d /srv/tzkv --repair',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Verify);
    const report = await this.withStore(flags, flags.repair ? 'write' : 'audit', async (store) => {
      const makeBar = await prepareProgress('verifying', flags.json);
      let progress: Progress | undefined;
      try {
        const options: VerifyOptions = {
          record: true,
          onProgress: (done, total) => {
            progress ??= makeBar(total);
            progress.update(done);
          },
        };
        if (!flags.repair) return await store.verify(options);
        const admin = adminOf(store, () => 'verify --repair is for store directories: an etcd cluster repairs members from each other (etcdctl alarm, member replacement)');
        return await admin.repair(options);
      } finally {
        progress?.stop();
      }
    });
    if (flags.json) {
      await printJson(report);
    } else {
      const paint = await palette();
      // File names and messages come from the store's directory: escaped on a terminal.
      const line = (text: string, colour = (t: string) => t) => `${colour(shown(text))}\n`;
      const lines = (report.repair ? repairLines(report.repair) : []).map((text) => line(text));
      lines.push(...report.problems.map((problem) => line(problemLine(problem), paint.bad)));
      if (report.problemCount > report.problems.length) lines.push(line(`... and ${report.problemCount - report.problems.length} more problems`));
      for (const w of report.warnings) lines.push(line(`warning: ${problemLine(w)}`));
      const summary = `${report.files} files, ${report.records} records, ${report.bytes} bytes checked in ${report.durationMs} ms`;
      // What was not checked is never reported as ok (an encrypted store verified without its key).
      const ok = report.skipped.length === 0 ? paint.good('ok') : `${paint.good('ok')} as far as checked`;
      lines.push(report.ok ? `${ok}: ${summary}\n` : `${problems(report.problemCount)}: ${summary}\n`);
      for (const s of report.skipped) lines.push(line(s));
      await writeOut(lines.join(''));
    }
    if (report.newerVersion) {
      printMessage('the store was written by a newer tzkv (a newer format version); upgrade tzkv to verify it');
      process.exitCode = EXIT_CODES.VERSION;
    } else if (!report.ok) {
      printMessage(`the store is damaged: ${problems(report.problemCount)} found`);
      process.exitCode = EXIT_CODES.CORRUPT;
    }
  }
}

/** What a repair did, one line (without its newline) per change. */
function repairLines(r: RepairReport): string[] {
  const lines: string[] = [];
  const rebuilt = r.rebuiltManifest;
  if (rebuilt) {
    const from = rebuilt.segments.length === 1 ? rebuilt.segments[0] : `${rebuilt.segments.length} segments, ${rebuilt.segments[0]} to ${rebuilt.segments.at(-1)}`;
    lines.push(`repair: rebuilt MANIFEST from the files on disk (${from}); ${rebuilt.storeId === 'kept' ? 'store id kept, as its followers know it' : 'a new store id'}`);
  }
  for (const m of r.moved) lines.push(`repair: moved ${m.file} offset ${m.offset} (${m.bytes} bytes) to ${r.quarantine} offset ${m.quarantineOffset}`);
  for (const t of r.truncated) lines.push(`repair: cut ${t.file} at offset ${t.from} (was ${t.to} bytes)`);
  for (const w of r.rewritten) lines.push(`repair: rewrote ${w.from} as ${w.to}`);
  if (r.rebuiltRun) lines.push(`repair: rebuilt the index from the data as ${r.rebuiltRun}; census recomputed`);
  for (const name of r.removed) lines.push(`repair: removed ${name} (replaced)`);
  if (lines.length === 0) lines.push('repair: nothing to repair');
  return lines;
}

function problems(n: number): string {
  return n === 1 ? '1 problem' : `${n} problems`;
}
