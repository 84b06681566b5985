// What a person at a terminal sees (issue 13, items 11 and 17): nothing read
// from a store acts on the terminal (a key holding ESC [2J once cleared the
// screen), pipes still get the exact bytes, and tables fit the terminal.
// Each line a command shares with the fast path runs both ways.

import { hostname } from 'node:os';
import { chmodSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { open } from '../../src/index.js';
import { storeDir, tempDir, tzkv } from './helpers.js';
import { screenLines, stripStyle, tzkvOnTerminal, withoutTrace } from './terminal.js';

const ESC = '\x1b';
/** Clears the screen. */
const CLEAR = `${ESC}[2J`;
/** Sets the window title (an OSC sequence ended by BEL). */
const TITLE = `${ESC}]0;owned\x07`;
/** CSI as one C1 character: some terminals obey it as ESC [. */
const C1_CSI = '\u009b';
/** Shows the rest of a line right to left. */
const BIDI = '\u202e';

/** Keys that would act on a terminal, plain ones, and one that is not UTF-8. */
async function seed(dir: string): Promise<void> {
  const store = await open(dir);
  for (const key of [`a${CLEAR}b`, 'plain', 'say "hi"', 'two\nlines', `c${C1_CSI}2J`, `d${BIDI}evil`]) await store.put(key, 'v');
  await store.put(Buffer.from([0x65, 0xff, 0x66]), 'v');
  await store.put('value', `title${TITLE}\nnext\tline ${CLEAR}end ${BIDI}x`);
  await store.close();
}

const PATHS = [
  { name: 'fast path', env: { TZKV_TRACE_STARTUP: '1' } },
  { name: 'oclif', env: { TZKV_TRACE_STARTUP: '1', TZKV_NO_FAST_PATH: '1' } },
];

/** Nothing on the screen a terminal would act on but tzkv's own styling and line ends. */
function expectInert(text: string): void {
  expect(stripStyle(text)).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
}

describe.each(PATHS)('on a terminal ($name)', ({ name, env }) => {
  const tookPath = (text: string) => expect(text.includes('fast path')).toBe(name === 'fast path');

  test('keys shows each key on one line, quoted with escapes when it holds anything but plain text', async () => {
    const dir = await storeDir();
    await seed(dir);
    const screen = await tzkvOnTerminal(['keys', '-d', dir], { env });
    expect(screen.exitCode).toBe(0);
    tookPath(screen.text);
    expectInert(screen.text);
    expect(screenLines(screen.text)).toEqual([
      '"a\\x1b[2Jb"',
      '"c\\u009b2J"',
      '"d\\u202eevil"',
      '"e\\xfff"',
      'plain',
      '"say \\"hi\\""',
      '"two\\nlines"',
      'value',
      '',
    ]);
  });

  test('keys -0 on a terminal ends each escaped key with NUL', async () => {
    const dir = await storeDir();
    await seed(dir);
    const screen = await tzkvOnTerminal(['keys', '-d', dir, '-0', 'a'], { env });
    expect(screen.exitCode).toBe(0);
    tookPath(screen.text);
    expect(withoutTrace(screen.text)).toBe('"a\\x1b[2Jb"\0');
  });

  test('get shows a value with its control characters escaped, newlines and tabs kept', async () => {
    const dir = await storeDir();
    await seed(dir);
    const screen = await tzkvOnTerminal(['get', '-d', dir, 'value'], { env });
    expect(screen.exitCode).toBe(0);
    tookPath(screen.text);
    expectInert(screen.text.replace(/[\n\t]/g, ''));
    // Ended by a newline the value lacks, so the prompt starts on a line of its own; `| cat` gets the bytes (below).
    expect(withoutTrace(screen.text)).toBe('title\\x1b]0;owned\\x07\nnext\tline \\x1b[2Jend \\u202ex\n');
  });

  test('get adds no second newline to a value that ends with one, and none to a pipe', async () => {
    const dir = await storeDir();
    const store = await open(dir);
    await store.put('line', 'text\n');
    await store.put('bare', 'text');
    await store.close();
    const screen = await tzkvOnTerminal(['get', '-d', dir, 'line'], { env });
    expect(screen.exitCode).toBe(0);
    tookPath(screen.text);
    expect(withoutTrace(screen.text)).toBe('text\n');
    expect((await tzkv(['get', '-d', dir, 'bare'], { env })).stdout).toBe('text');
  });

  test('an error message and a JSON document quoting a key show it escaped', async () => {
    const dir = await storeDir();
    await seed(dir);
    const missing = await tzkvOnTerminal(['get', '-d', dir, `gone${C1_CSI}2J${BIDI}`], { env });
    expect(missing.exitCode).toBe(1);
    tookPath(missing.text);
    expectInert(missing.text);
    expect(missing.text).toContain('tzkv: key not found: "gone\\u009b2J\\u202e"');
    const json = await tzkvOnTerminal(['get', '-d', dir, `d${BIDI}evil`, '--json'], { env });
    expect(json.exitCode).toBe(0);
    expectInert(json.text);
    // Still JSON, and the same document.
    expect(JSON.parse(withoutTrace(json.text))).toMatchObject({ key: `d${BIDI}evil`, value: 'v' });
  });
});

describe.each(PATHS)('to a pipe ($name)', ({ name, env }) => {
  test('keys writes the exact bytes; -0 ends each key with NUL for xargs -0; with --json it is a usage error', async () => {
    const dir = await storeDir();
    await seed(dir);
    const lines = await tzkv(['keys', '-d', dir], { env });
    expect(lines.exitCode).toBe(0);
    expect(lines.stderr.includes('fast path')).toBe(name === 'fast path');
    expect(lines.bytes.subarray(0, 7)).toEqual(Buffer.from(`a${CLEAR}b\n`));
    const nul = await tzkv(['keys', '-d', dir, '-0'], { env });
    expect(nul.exitCode).toBe(0);
    expect(nul.bytes.toString('latin1').split('\0')).toEqual([
      `a${CLEAR}b`,
      Buffer.from(`c${C1_CSI}2J`).toString('latin1'),
      Buffer.from(`d${BIDI}evil`).toString('latin1'),
      'e\xfff',
      'plain',
      'say "hi"',
      'two\nlines',
      'value',
      '',
    ]);
    expect((await tzkv(['keys', '-d', dir, '--null', 'p'], { env })).bytes).toEqual(Buffer.from('plain\0'));
    const both = await tzkv(['keys', '-d', dir, '-0', '--json'], { env });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('give --null (-0) or --json, not both');
    const value = await tzkv(['get', '-d', dir, 'value'], { env });
    expect(value.stdout).toBe(`title${TITLE}\nnext\tline ${CLEAR}end ${BIDI}x`);
  });
});

describe('reports on a terminal show names from the store escaped', () => {
  test('stats and unlock (a lock naming a hostile command), verify (a hostile file name)', async () => {
    const dir = await storeDir();
    await seed(dir);
    const lock = { pid: 4242, host: `not-${hostname()}`, startTime: '', acquiredAt: new Date().toISOString(), command: `tzkv ${TITLE}`, token: 't' };
    await writeFile(join(dir, 'LOCK'), JSON.stringify(lock) + '\n');
    await writeFile(join(dir, `stray${CLEAR}`), 'x');
    for (const args of [['stats'], ['unlock'], ['verify']]) {
      const screen = await tzkvOnTerminal([...args, '-d', dir], { columns: 200 });
      expectInert(screen.text);
      expect(screen.text, args[0]).toContain(args[0] === 'verify' ? 'stray\\x1b[2J' : 'tzkv \\x1b]0;owned\\x07');
    }
    expect((await tzkv(['unlock', '--force', '-d', dir])).exitCode).toBe(0);
  });
});

describe('messages on a terminal show the paths they name escaped', () => {
  test.each(PATHS)('the warning about a store directory others may write to ($name)', async ({ name, env }) => {
    const dir = join(await tempDir(), `kv${CLEAR}`);
    expect((await tzkv(['put', '-d', dir, 'k', 'v'])).exitCode).toBe(0);
    chmodSync(dir, 0o777);
    try {
      const screen = await tzkvOnTerminal(['get', '-d', dir, 'k'], { env });
      expect(screen.exitCode).toBe(0);
      expect(screen.text.includes('fast path')).toBe(name === 'fast path');
      expectInert(screen.text);
      expect(screen.text).toMatch(/tzkv: warning: store directory \S+kv\\x1b\[2J is writable by group and others/);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

describe('tables fit the terminal', () => {
  /** The widest line and the rules between rows (├─┼─┤) of a table on the screen. */
  const layout = (text: string) => {
    const lines = screenLines(text).filter((line) => line !== '');
    return { widest: Math.max(...lines.map((line) => [...line].length)), rules: lines.filter((line) => line.startsWith('├')).length, lines };
  };

  test.each([120, 60])('stats in %i columns: no line wider, no rule between rows, long values wrapped', async (columns) => {
    const dir = await storeDir();
    await seed(dir);
    expect((await tzkv(['compact', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
    const screen = await tzkvOnTerminal(['stats', '-d', dir], { columns });
    expect(screen.exitCode).toBe(0);
    const { widest, rules, lines } = layout(screen.text);
    expect(widest).toBeLessThanOrEqual(columns);
    expect(rules).toBe(0);
    // The report, too long for one line, goes on over the next (its name column empty).
    const report = lines.findIndex((line) => line.includes('last compaction report'));
    expect(lines[report + 1]).toMatch(/^│\s+│ \S/);
    expect(lines.some((line) => line.includes(dir))).toBe(true);
  });

  test('compact and unlock tables in 40 columns', async () => {
    const dir = await storeDir();
    await seed(dir);
    for (const args of [['compact'], ['unlock']]) {
      const screen = await tzkvOnTerminal([...args, '-d', dir], { columns: 40 });
      expect(screen.exitCode, args[0]).toBe(0);
      const { widest, rules } = layout(screen.text);
      expect(widest, args[0]).toBeLessThanOrEqual(40);
      expect(rules, args[0]).toBe(0);
    }
  });
});
