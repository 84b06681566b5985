import type { VerifyProblem } from '../api.js';
import { TzkvCommand } from '../cli/base.js';
import { palette, printJson, writeOut } from '../cli/output.js';
import { startProgress } from '../cli/progress.js';
import { EXIT_CODES } from '../errors.js';

export default class Verify extends TzkvCommand {
  static override summary = 'Check every stored byte; exit 4 if anything is damaged.';
  static override description =
    'Reads every file of the store and checks its checksums and structure, without changing anything. Prints one line per problem, "FILE offset N: message", then a summary; exits 0 when the store is clean and 4 when it found damage. With --json prints {"ok", "files", "records", "bytes", "problems": [{"file", "offset", "kind", "message"}], "durationMs"}.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> -d /srv/tzkv --json || alert "tzkv store damaged"'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Verify);
    const report = await this.withStore(flags, 'read', async (store) => {
      let progress: Awaited<ReturnType<typeof startProgress>> | undefined;
      let starting: Promise<unknown> | undefined;
      try {
        return await store.verify({
          onProgress: (done, total) => {
            starting ??= startProgress('verifying', total).then((bar) => (progress = bar));
            progress?.update(done);
          },
        });
      } finally {
        await starting;
        progress?.stop();
      }
    });
    if (flags.json) {
      await printJson(report);
    } else {
      const paint = await palette();
      const lines = report.problems.map((problem) => `${paint.bad(problemLine(problem))}\n`);
      const summary = `${report.files} files, ${report.records} records, ${report.bytes} bytes checked in ${report.durationMs} ms`;
      lines.push(report.ok ? `${paint.good('ok')}: ${summary}\n` : `${problems(report.problems.length)}: ${summary}\n`);
      await writeOut(lines.join(''));
    }
    if (!report.ok) {
      process.stderr.write(`tzkv: the store is damaged: ${problems(report.problems.length)} found\n`);
      process.exitCode = EXIT_CODES.CORRUPT;
    }
  }
}

function problems(n: number): string {
  return n === 1 ? '1 problem' : `${n} problems`;
}

/** `FILE offset N: message`; the offset is left out when the problem has none. */
function problemLine(problem: VerifyProblem): string {
  const file = problem.file === '' ? '(store)' : problem.file;
  return `${file}${problem.offset === null ? '' : ` offset ${problem.offset}`}: ${problem.message}`;
}
