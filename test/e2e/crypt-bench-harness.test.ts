// bench/crypt.mjs (issue #17 "Numbers", docs/benchmarks.md "Encryption and compression")
// at its quick scale: every part measures (none says "failed"), every row has a median, a
// min–max and a ratio to the plain store, and every goal is marked, so the harness cannot rot
// between the runs that take real figures. Speed is never asserted.

import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT, childEnv, tempDir } from './helpers.js';

const MS = String.raw`\d+(\.\d)? ms`;

describe('bench/crypt.mjs --quick', () => {
  it('measures every part against the plain store and marks every goal', async () => {
    const dir = await tempDir();
    const run = await execa(NODE, [join(ROOT, 'bench', 'crypt.mjs'), '--quick', '--no-profile', '--data', join(dir, 'data')], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      timeout: 100_000,
    });
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).not.toMatch(/failed: /);
    expect(run.exitCode).toBe(0);

    const rows = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| workload'))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()))
      .filter((cells) => cells[0] !== '');
    const cases = rows.map((cells) => `${cells[0].split(' ')[0]} ${cells[1]}`);
    for (const kind of ['plain', 'encrypted']) expect(cases).toContain(`get ${kind}`);
    for (const kind of ['plain', 'encrypted', 'compressed', 'encrypted+compressed']) expect(cases).toContain(`\`import ${kind}`);
    for (const name of ['plain', 'encrypted, without the key', 'encrypted, with the key']) expect(cases).toContain(`verify ${name}`);
    // The whole cost of a compressed import: the import, then the compaction that compresses what it left.
    for (const kind of ['compressed', 'encrypted+compressed']) expect(rows.map((cells) => cells[1])).toContain(`${kind} + compact`);
    for (const cells of rows) {
      expect(cells[2], cells.join(' | ')).toMatch(new RegExp(`^${MS}$`));
      expect(cells[3], cells.join(' | ')).toMatch(new RegExp(`^${MS}–${MS}$`));
      expect(cells[4], cells.join(' | ')).toMatch(cells[1] === 'plain' ? /^–$/ : /^\d+\.\d\dx$/);
    }
    expect(run.stdout).toMatch(/^Built from \w+ .*Machine: \d+ cores/m);
    // Each goal of #17 'Numbers' marked; 'Not measured' says why (a store that compressed nothing).
    expect(run.stdout.match(/^- (\*\*(Met|MISSED)\*\*|Not measured) — goal: /gm)?.length).toBe(6);
  }, 110_000);
});
