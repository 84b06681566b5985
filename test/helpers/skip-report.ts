// A vitest reporter (vitest.config.ts) that ends `npm test`'s output with one
// line per reason tests were skipped (test/helpers/servers.ts), after the
// summary where a reader looks, not buried among the files.
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReport implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byNote = new Map<string, number>();
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        // A skip without a note is vitest's own (a -t filter, a .skip): only the gated ones have a reason to report.
        if (result.state !== 'skipped' || result.note === undefined) continue;
        const note = result.note;
        byNote.set(note, (byNote.get(note) ?? 0) + 1);
      }
    }
    for (const [note, count] of byNote) {
      process.stdout.write(`skipped ${count} test${count === 1 ? '' : 's'}: ${note}\n`);
    }
  }
}
