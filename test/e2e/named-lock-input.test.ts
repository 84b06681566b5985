// `tzkv lock` given bad lines and bad input (docs/cli.md "lock"): each one a
// clear message naming what is wrong, its documented exit code, no stack
// trace, and nothing taken, written or created. The lock's behaviour on both
// backends is named-lock.test.ts.
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type Run, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

/** A store with one key in it, and a marker file COMMAND would create if it ran. */
async function store(): Promise<{ dir: string; ran: string }> {
  const dir = await storeDir();
  expect((await tzkv(['put', 'seed', '1', '-d', dir])).exitCode).toBe(0);
  return { dir, ran: join(await tempDir(), 'ran') };
}

/** The run failed as a usage error should: the exit code, one `tzkv: ` message containing `says`, no stack, nothing on stdout. */
function expectRefused(run: Run, exitCode: number, says: string): void {
  expect(run.exitCode, run.stderr).toBe(exitCode);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^tzkv: /);
  expect(run.stderr).toContain(says);
  expectNoStack(run);
}

/** Nothing was taken: no lock in the store, only the seed key. */
async function expectUntouched(dir: string): Promise<void> {
  expect((await tzkv(['keys', '-d', dir])).stdout).toBe('seed\n');
}

describe('tzkv lock: bad lines', () => {
  test('a bad lock NAME is exit 2 naming it: empty, over 200 characters, a space, a control character, non-ASCII', async () => {
    const { dir, ran } = await store();
    for (const name of ['', 'x'.repeat(201), 'a b', 'a\x01b', 'café']) {
      const quoted = JSON.stringify(name);
      expectRefused(await tzkv(['lock', name, '-d', dir, '--', 'touch', ran]), 2, `invalid lock name ${quoted}: expected 1 to 200 printable ASCII characters, no spaces`);
      expectRefused(await tzkv(['lock', 'acquire', name, '-d', dir]), 2, `invalid lock name ${quoted}`);
      expectRefused(await tzkv(['lock', 'release', name, '0'.repeat(32), '-d', dir]), 2, `invalid lock name ${quoted}`);
    }
    expect(existsSync(ran)).toBe(false);
    expect((await tzkv(['lock', 'x'.repeat(200), '-d', dir, '--', 'true'])).exitCode).toBe(0);
    await expectUntouched(dir);
  });

  test('--ttl under 1s or malformed, --wait malformed: exit 2 naming the flag', async () => {
    const { dir, ran } = await store();
    const cases: Array<[string[], string]> = [
      [['--ttl', '500ms'], 'invalid --ttl "500ms": a lock\'s TTL is at least 1s'],
      [['--ttl', '999ms'], 'invalid --ttl "999ms": a lock\'s TTL is at least 1s'],
      [['--ttl', '0'], 'invalid --ttl "0"'],
      [['--ttl', 'abc'], 'invalid --ttl "abc": expected seconds (60) or a number with a unit'],
      [['--ttl', '1.5m'], 'invalid --ttl "1.5m"'],
      [['--wait', 'abc'], 'invalid --wait "abc": expected seconds (60) or a number with a unit'],
      [['--wait', '10 m'], 'invalid --wait "10 m"'],
      [['--wait', '-1'], '--wait'],
    ];
    for (const [flags, says] of cases) {
      expectRefused(await tzkv(['lock', 'job', ...flags, '-d', dir, '--', 'touch', ran]), 2, says);
      expectRefused(await tzkv(['lock', 'acquire', 'job', ...flags, '-d', dir]), 2, says);
    }
    expect(existsSync(ran)).toBe(false);
    await expectUntouched(dir);
  });

  test('COMMAND only after "--": none, none after it, words before it, a mistyped subcommand — exit 2 with the line meant', async () => {
    const { dir, ran } = await store();
    const cases: Array<[string[], string]> = [
      [['lock', 'job', '-d', dir], `tzkv lock job needs a COMMAND after "--": tzkv lock NAME [--ttl D] [--wait D] -- COMMAND... (tzkv lock --help says more)`],
      [['lock', 'job', '-d', dir, '--'], 'tzkv lock job needs a COMMAND after "--"'],
      [['lock', '-d', dir, '--', 'touch', ran], 'tzkv lock needs a lock NAME before "--"'],
      [['lock', 'job', 'touch', ran, '-d', dir], `COMMAND goes after "--", so that its own flags stay its own: tzkv lock job -- touch ${ran} -d ${dir}`],
      [['lock', 'job', '-d', dir, 'ls', '-la'], `COMMAND goes after "--", so that its own flags stay its own: tzkv lock job -d ${dir} -- ls -la`],
      [['lock', 'a', 'b', '-d', dir, '--', 'touch', ran], 'tzkv lock takes one NAME before "--", got 2 words (a b)'],
      [['lock', 'acquir', 'job', '-d', dir], `"acquir" is not a lock subcommand: did you mean \`tzkv lock acquire job -d ${dir}\`?`],
      [['lock', 'lst', '-d', dir], `"lst" is not a lock subcommand: did you mean \`tzkv lock list -d ${dir}\`?`],
      [['lock', 'relase', 'job', '0'.repeat(32), '-d', dir], '"relase" is not a lock subcommand: did you mean `tzkv lock release job'],
      [['lock', 'help'], '"help" is not a lock subcommand: did you mean `tzkv lock --help`?'],
      [['lock'], 'tzkv lock needs a lock NAME before "--": tzkv lock NAME [--ttl D] [--wait D] -- COMMAND... (tzkv lock --help says more)'],
    ];
    for (const [args, says] of cases) expectRefused(await tzkv(args), 2, says);
    expect(existsSync(ran)).toBe(false);
    await expectUntouched(dir);
    // A word after "--" is COMMAND's, whatever it looks like.
    const own = await tzkv(['lock', 'job', '-d', dir, '--', 'echo', '--json', '--help', '-d', 'x']);
    expect([own.exitCode, own.stdout]).toEqual([0, '--json --help -d x\n']);
  });

  test('flags before the subcommand: tzkv -d DIR lock list and tzkv lock -d DIR list are lock list', async () => {
    const { dir } = await store();
    const token = (await tzkv(['-d', dir, 'lock', 'acquire', 'job'])).stdout.trim();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    for (const args of [['-d', dir, 'lock', 'list'], ['lock', '-d', dir, 'list'], ['lock', '--json', 'list', '-d', dir]]) {
      const run = await tzkv(args.includes('--json') ? args : [...args, '--json']);
      expect(run.exitCode, args.join(' ')).toBe(0);
      expect((JSON.parse(run.stdout) as Array<{ name: string }>).map((l) => l.name)).toEqual(['job']);
    }
    expect((await tzkv(['lock', '-d', dir, 'release', 'job', token])).exitCode).toBe(0);
  });

  test('a COMMAND that cannot be started: 127 not found, 126 not executable, as a shell; no lock taken', async () => {
    const { dir } = await store();
    const work = await tempDir();
    const plain = join(work, 'plain.sh');
    await writeFile(plain, '#!/bin/sh\necho ran\n');
    await chmod(plain, 0o644);
    const folder = join(work, 'folder');
    await mkdir(folder);
    const cases: Array<[string, number, string]> = [
      ['no-such-command-tzkv', 127, 'cannot run COMMAND "no-such-command-tzkv": command not found (not in any folder of PATH)'],
      [join(work, 'missing.sh'), 127, `cannot run COMMAND "${join(work, 'missing.sh')}": no such file`],
      [plain, 126, `cannot run COMMAND "${plain}": permission denied (${plain} is not executable)`],
      [folder, 126, `cannot run COMMAND "${folder}": permission denied (${folder} is not a file)`],
    ];
    for (const [command, exitCode, says] of cases) {
      expectRefused(await tzkv(['lock', 'job', '-d', dir, '--', command, 'arg']), exitCode, says);
      const asJson = await tzkv(['lock', 'job', '-d', dir, '--json', '--', command]);
      expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'INVALID_ARGUMENT', exitCode } });
    }
    await expectUntouched(dir);
    // Not even a missing store is looked at first: the command is what is wrong.
    const nowhere = join(await tempDir(), 'nowhere');
    expectRefused(await tzkv(['lock', 'job', '-d', nowhere, '--', 'no-such-command-tzkv']), 127, 'command not found');
  });

  test('a missing store: lock release and lock list exit 5 and create nothing; lock and lock acquire start one, as put does', async () => {
    const dir = join(await tempDir(), 'typo', 'store');
    const ran = join(await tempDir(), 'ran');
    const says = `no tzkv store at ${dir}: the directory does not exist`;
    expectRefused(await tzkv(['lock', 'release', 'job', '0'.repeat(32), '-d', dir]), 5, says);
    expectRefused(await tzkv(['lock', 'list', '-d', dir]), 5, says);
    expect(existsSync(join(dir, '..'))).toBe(false);
    const run = await tzkv(['lock', 'job', '-d', dir, '--mode', '0750', '--', 'touch', ran]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(existsSync(ran)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o750);
    const other = join(await tempDir(), 'new', 'store');
    const token = await tzkv(['lock', 'acquire', 'job', '-d', other]);
    expect(token.exitCode, token.stderr).toBe(0);
    expect((await tzkv(['lock', 'release', 'job', token.stdout.trim(), '-d', other])).exitCode).toBe(0);
  });

  test('lock release: a lock nobody holds is exit 1; a TOKEN that is not 32 hex digits (an empty $token) is exit 2', async () => {
    const { dir } = await store();
    expectRefused(await tzkv(['lock', 'release', 'job', 'f'.repeat(32), '-d', dir]), 1, `lock "job" is not held by token ${'f'.repeat(32)}: nobody holds it (it expired, or was released already)`);
    const asJson = await tzkvJson<{ error: { code: string; exitCode: number } }>(['lock', 'release', 'job', 'f'.repeat(32), '-d', dir]);
    expect(asJson.json.error).toMatchObject({ code: 'PRECONDITION', exitCode: 1 });
    for (const token of ['', 'abc', 'F'.repeat(32), `${'f'.repeat(32)}\n`]) {
      expectRefused(await tzkv(['lock', 'release', 'job', token, '-d', dir]), 2, `invalid token ${JSON.stringify(token)}: expected the 32 hex digits \`tzkv lock acquire\` printed`);
    }
    expectRefused(await tzkv(['lock', 'release', 'job', '-d', dir]), 2, 'Missing 1 required arg');
    await expectUntouched(dir);
  });

  test('lock list on an empty store prints nothing (exit 0), [] with --json; on the default store never written to, the same, creating nothing', async () => {
    const dir = await storeDir();
    await mkdir(dir);
    expect(await tzkv(['lock', 'list', '-d', dir])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    const json = await tzkvJson(['lock', 'list', '-d', dir]);
    expect([json.run.exitCode, json.json]).toEqual([0, []]);
    const data = await tempDir();
    const fresh = { XDG_DATA_HOME: data };
    expect(await tzkv(['lock', 'list'], { env: fresh })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect((await tzkvJson(['lock', 'list'], { env: fresh })).json).toEqual([]);
    expect(existsSync(join(data, 'tzkv'))).toBe(false);
  });
});
