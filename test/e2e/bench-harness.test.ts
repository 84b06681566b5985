// The peer benchmark (bench/run.mjs, issue #7) at its smoke scale: every workload must
// still produce its table, with a number in every cell of every row that ran, so the
// harness cannot rot between the runs that take real figures. Peers that are missing
// here (sqlite3 not installed, bench/ dependencies not installed, as in CI) are rows that
// say "skipped". Speed is never asserted.

import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, ROOT, childEnv, tempDir } from './helpers.js';

const WORKLOADS = ['get', 'bulk load', 'put', 'keys PREFIX', 'verify', 'compact', 'writer processes'];

/** The markdown table rows under each `## N. title` heading: { title → rows of cells }. */
function tables(doc: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const section of doc.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'));
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .slice(2)
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    out.set(title, rows);
  }
  return out;
}

describe('bench/run.mjs --smoke', () => {
  it('writes a table for every workload, every row measured or saying why it was skipped', async () => {
    const dir = await tempDir();
    const out = join(dir, 'smoke.md');
    const run = await execa(NODE, [join(ROOT, 'bench', 'run.mjs'), '--smoke', '--data', join(dir, 'data'), '--out', out], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      timeout: 50_000,
    });
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.exitCode).toBe(0);

    const doc = readFileSync(out, 'utf8');
    expect(doc).toMatch(/^Machine: \d+ cores/m);
    const found = tables(doc);
    for (const [i, name] of WORKLOADS.entries()) {
      const title = [...found.keys()].find((t) => t.startsWith(`${i + 1}. `));
      expect(title, `workload ${i + 1} (${name})`).toContain(name);
      const rows = found.get(title!)!;
      const measured = rows.filter((cells) => !cells[1]!.startsWith('skipped: '));
      expect(measured.some((cells) => cells[0]!.includes('tzkv')), `a tzkv row in ${title}`).toBe(true);
      for (const cells of measured) {
        expect(cells[1], `${title}: ${cells[0]}`).toMatch(/^\d+(\.\d)? ms$/);
        expect(cells[2], `${title}: ${cells[0]}`).toMatch(/^(\d+\.\d\dx|–)$/);
        expect(cells[3], `${title}: ${cells[0]}`).toMatch(/^(\d+\.\d\dx|floor|–)$/);
      }
      for (const cells of rows.filter((c) => c[1]!.startsWith('skipped: '))) expect(cells[1]!.length).toBeGreaterThan('skipped: '.length + 5);
    }
    // The goals of issue #7, each marked.
    expect(doc.match(/^- workload \d: (\*\*(Met|MISSED)\*\*|Not measured) — goal: /gm)?.length).toBe(6);
  });
});
