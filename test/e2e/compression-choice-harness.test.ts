// bench/compression-choice.mjs (issue #17, docs/benchmarks.md "Compression: choosing the
// algorithm") at a tiny scale: every candidate it can load gets a row with a figure in every
// cell, and the small-value table is there, so the harness cannot rot between the runs that
// take real figures. node:zlib's candidates only: bench/'s own dependencies are not installed
// in CI. Speed is never asserted.

import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT, childEnv } from './helpers.js';

describe('bench/compression-choice.mjs --quick', () => {
  it('writes a row for every node:zlib candidate and the small-value table', async () => {
    const run = await execa(NODE, [join(ROOT, 'bench', 'compression-choice.mjs'), '--quick', '--docs', '30', '--runs', '1', '--only', 'deflate,brotli'], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const rows = (title: string) => {
      const lines = run.stdout.split('\n');
      const start = lines.findIndex((line) => line.startsWith(`| ${title} |`));
      expect(start, `a table headed "${title}"`).toBeGreaterThanOrEqual(0);
      const body: string[][] = [];
      for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) body.push(lines[i].split('|').slice(1, -1).map((cell) => cell.trim()));
      return body;
    };
    const main = rows('candidate');
    const names = main.map((cells) => cells[0]);
    expect(names).toEqual(expect.arrayContaining(['deflate 1', 'deflate 3', 'deflate 6', 'brotli 1', 'brotli 4', 'brotli 5', 'brotli 6']));
    for (const cells of main) {
      // Ratios, speeds, µs per call and load time are numbers; the import estimate too, unless
      // the machine has no GNU time to measure the plain import with ('–', and the legend says why).
      for (const cell of cells.slice(1, 9)) expect(cell, cells.join(' | ')).toMatch(/^\d+(\.\d+)?$/);
      expect(cells[9], cells.join(' | ')).toMatch(/^\d+\.\d\d$|^–$/);
    }
    const small = rows('values of');
    expect(small.map((cells) => cells[0])).toEqual(['(values)', ...names]);
    for (const cells of small.slice(1)) for (const cell of cells.slice(1)) expect(cell).toMatch(/^\d+% \(\d\.\d\d\)$/);
  }, 70_000);
});
