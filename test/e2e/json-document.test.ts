// docs/cli.md "JSON shapes": under --json every command prints one JSON
// document, on one line when stdout is not a terminal (issue 13, item 13:
// `export --json` into a pipe was 19 lines), and indented on a terminal.

import { describe, expect, test } from 'vitest';
import { storeDir, tempDir, tzkv } from './helpers.js';
import { tzkvOnTerminal } from './terminal.js';

/** get, put, del, ttl, keys and incr lines run through the fast path and through oclif. */
const FAST = new Set(['get', 'put', 'del', 'ttl', 'keys', 'incr']);
const PATHS = [{}, { TZKV_NO_FAST_PATH: '1' }];

describe('--json into a pipe', () => {
  test('every command prints its document on exactly one line, on success and on failure', async () => {
    const dir = await storeDir();
    const follower = await storeDir();
    const out = `${await tempDir()}/out.jsonl`;
    const lines: Array<{ args: string[]; input?: string; exit: number }> = [
      { args: ['put', '-d', dir, 'a', 'one'], exit: 0 },
      { args: ['put', '-d', dir, 'b', 'two\nlines', '--ttl', '1h'], exit: 0 },
      { args: ['import', '-d', dir, '-'], input: '{"key":"c","value":"three"}\n', exit: 0 },
      { args: ['get', '-d', dir, 'b'], exit: 0 },
      { args: ['get', '-d', dir, 'missing'], exit: 1 },
      { args: ['ttl', '-d', dir, 'b'], exit: 0 },
      { args: ['incr', '-d', dir, 'n'], exit: 0 },
      { args: ['keys', '-d', dir], exit: 0 },
      { args: ['export', '-d', dir], exit: 0 },
      { args: ['export', '-d', dir, 'zzz'], exit: 0 },
      { args: ['export', '-d', dir, '--out', out], exit: 0 },
      { args: ['stats', '-d', dir], exit: 0 },
      { args: ['verify', '-d', dir], exit: 0 },
      { args: ['compact', '-d', dir, '--dry-run'], exit: 0 },
      { args: ['compact', '-d', dir], exit: 0 },
      { args: ['replicate', '-d', dir, '--to', follower], exit: 0 },
      { args: ['promote', '-d', follower], exit: 0 },
      { args: ['unlock', '-d', dir], exit: 0 },
      { args: ['del', '-d', dir, 'n'], exit: 0 },
      { args: ['version'], exit: 0 },
      { args: ['put', '-d', dir, 'k', 'v', '--ttl', 'soon'], exit: 2 },
      { args: ['nonsense'], exit: 2 },
    ];
    for (const { args, input, exit } of lines) {
      for (const env of FAST.has(args[0]) ? PATHS : [{}]) {
        const run = await tzkv([...args, '--json'], { env, ...(input === undefined ? {} : { input }) });
        const what = `tzkv ${args.join(' ')} --json ${JSON.stringify(env)}`;
        expect(run.exitCode, what).toBe(exit);
        expect(run.stdout.endsWith('\n'), what).toBe(true);
        expect(run.stdout.slice(0, -1), what).not.toContain('\n');
        expect(() => JSON.parse(run.stdout), what).not.toThrow();
      }
    }
  });

  test('export --json is one array of every record, the same records export prints as lines', async () => {
    const dir = await storeDir();
    for (const key of ['a', 'b', 'c']) await tzkv(['put', '-d', dir, key, `value of ${key}`]);
    const array = await tzkv(['export', '-d', dir, '--json']);
    const lines = await tzkv(['export', '-d', dir]);
    expect(array.stdout).toBe(`[${lines.stdout.trimEnd().split('\n').join(',')}]\n`);
  });
});

describe('--json on a terminal', () => {
  test('export --json is indented, one record per line, and parses to the same array', async () => {
    const dir = await storeDir();
    for (const key of ['a', 'b']) await tzkv(['put', '-d', dir, key, `value of ${key}`]);
    const screen = await tzkvOnTerminal(['export', '-d', dir, '--json']);
    expect(screen.exitCode).toBe(0);
    expect(screen.text).toBe('[\n  {"key":"a","value":"value of a","expiresAt":null},\n  {"key":"b","value":"value of b","expiresAt":null}\n]\n');
  });
});
