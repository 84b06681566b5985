// The command line around the commands (issue 13, item 16): a mistyped
// command or flag gets "did you mean", a line with no command says so, and
// `-v`, `--version` and `version` print the version. docs/cli.md "Exit codes".

import { execa } from 'execa';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NODE, ROOT, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const HELP_HINT = '(`tzkv --help` lists the commands)';

describe('a mistyped command', () => {
  test.each([
    [['gte', 'a'], 'gte', 'get'],
    [['stat'], 'stat', 'stats'],
    [['verfy'], 'verfy', 'verify'],
    [['comapct', '--if-needed'], 'comapct', 'compact'],
    [['imprt', 'file.jsonl'], 'imprt', 'import'],
    [['sett', 'k', 'v'], 'sett', 'set'],
    [['lsit'], 'lsit', 'list'],
    [['remove', 'k'], 'remove', 'del'],
    [['help', 'kyes'], 'kyes', 'keys'],
  ])('tzkv %j: exit 2, "did you mean"', async (args, typed, meant) => {
    const dir = await storeDir();
    const run = await tzkv([...args, '-d', dir]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`tzkv: unknown command "${typed}": did you mean "${meant}"? ${HELP_HINT}\n`);
  });

  test('far from every command: no guess; after flags: still named; under --json: the error document', async () => {
    expect((await tzkv(['frobnicate'])).stderr).toBe(`tzkv: unknown command "frobnicate" ${HELP_HINT}\n`);
    const dir = await storeDir();
    const afterFlags = await tzkv(['-d', dir, '--json', 'gte', 'a']);
    expect(afterFlags.exitCode).toBe(2);
    expect(JSON.parse(afterFlags.stdout)).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: `unknown command "gte": did you mean "get"? ${HELP_HINT}`, exitCode: 2 },
    });
    expectNoStack(afterFlags);
  });
});

describe('flags before the command', () => {
  test('a flag with a value before the command is stepped over, whichever it is: --mode, -n, --ttl (they were taken for the command)', async () => {
    const dir = join(await tempDir(), 'new');
    expect(await tzkv(['--mode', '0750', 'put', 'k', 'v', '-d', dir])).toMatchObject({ exitCode: 0, stderr: '' });
    expect(statSync(dir).mode & 0o7777).toBe(0o750);
    expect(await tzkv(['-n', '1', 'keys', '-d', dir])).toMatchObject({ exitCode: 0, stdout: 'k\n' });
    expect(await tzkv(['--ttl', '1h', 'put', 'k2', 'v', '-d', dir])).toMatchObject({ exitCode: 0 });
    expect(await tzkv(['ttl', 'k2', '-d', dir])).toMatchObject({ exitCode: 0, stdout: '3600\n' });
  });
});

describe('a mistyped flag', () => {
  test.each([
    [['get', 'k', '--jsn'], '--jsn', '--json'],
    [['keys', '--limt', '3'], '--limt', '--limit'],
    [['compact', '--dryrun'], '--dryrun', '--dry-run'],
    [['put', 'k', 'v', '--if-absnet'], '--if-absnet', '--if-absent'],
  ])('tzkv %j: exit 2, "did you mean"', async (args, typed, meant) => {
    const dir = await storeDir();
    const run = await tzkv([...args, '-d', dir]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^tzkv: Nonexistent flag: ${typed}; did you mean ${meant}\\?\\nSee 'tzkv ${args[0]} --help'\\.\\n$`));
  });
});

describe('no command', () => {
  test('tzkv alone, --help and -h list the commands (exit 0)', async () => {
    const alone = await tzkv([]);
    expect(alone.exitCode).toBe(0);
    expect(alone.stdout).toMatch(/^COMMANDS$/m);
    for (const args of [['--help'], ['-h'], ['-d', '/nonexistent', '--help']]) {
      const run = await tzkv(args);
      expect(run.exitCode, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toBe(alone.stdout);
    }
  });

  test('only flags: exit 2, "no command given"; --json prints the error document', async () => {
    const json = await tzkv(['--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'INVALID_ARGUMENT', message: `no command given ${HELP_HINT}`, exitCode: 2 } });
    expect(json.stderr).toBe(`tzkv: no command given ${HELP_HINT}\n`);
    const dir = await storeDir();
    const flags = await tzkv(['-d', dir, '--lock-timeout', '1s']);
    expect(flags.exitCode).toBe(2);
    expect(flags.stdout).toBe('');
    expect(flags.stderr).toBe(`tzkv: no command given ${HELP_HINT}\n`);
  });
});

describe('the version', () => {
  test('version, -v and --version print it (exit 0); --json as {"version", "platform", "node"}', async () => {
    // The Node the CLI runs on, which scripts/test-node24.mjs makes another than vitest's.
    const node = (await execa(NODE, ['-p', 'process.version'])).stdout;
    const line = `tzkv/${VERSION} ${process.platform}-${process.arch} node-${node}\n`;
    for (const args of [['version'], ['-v'], ['--version']]) {
      const run = await tzkv(args);
      expect(run.exitCode, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toBe(line);
      expect(run.stderr).toBe('');
    }
    for (const args of [['version', '--json'], ['--json', 'version'], ['-v', '--json'], ['--json', '--version']]) {
      const run = await tzkv(args);
      expect(run.exitCode, args.join(' ')).toBe(0);
      expect(JSON.parse(run.stdout), args.join(' ')).toEqual({ version: VERSION, platform: `${process.platform}-${process.arch}`, node });
    }
    expect((await tzkv(['help', 'version'])).stdout).toMatch(/tzkv version \[--json\]/);
    const extra = await tzkv(['version', 'now']);
    expect(extra.exitCode).toBe(2);
    expect(extra.stderr).toBe('tzkv: version takes no arguments but --json, got "now"\n');
  });
});
