import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

describe('put and get', () => {
  test('a value round-trips exactly, with no newline added', async () => {
    const dir = await storeDir();
    const put = await tzkv(['put', '-d', dir, 'greeting', 'hello world']);
    expect(put).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    const get = await tzkv(['get', '-d', dir, 'greeting']);
    expect(get).toMatchObject({ exitCode: 0, stdout: 'hello world', stderr: '' });
  });

  test('--json on both sides', async () => {
    const dir = await storeDir();
    const put = await tzkvJson(['put', '-d', dir, 'k', 'v']);
    expect(put.run.exitCode).toBe(0);
    expect(put.json).toEqual({ key: 'k', bytes: 1, expiresAt: null, version: expect.stringMatching(/^\d+:\d+:[0-9a-f]{8}$/) });
    const get = await tzkvJson(['get', '-d', dir, 'k']);
    // The version put wrote is the one get reads.
    expect(get.json).toEqual({ key: 'k', value: 'v', expiresAt: null, version: (put.json as { version: string }).version });
  });

  test('binary values through stdin come back byte for byte; --json marks them base64', async () => {
    const dir = await storeDir();
    const value = Buffer.concat([randomBytes(4096), Buffer.from([0, 255, 10, 13, 0xc3])]);
    expect((await tzkv(['put', '-d', dir, 'blob', '-'], { input: value })).exitCode).toBe(0);
    const get = await tzkv(['get', '-d', dir, 'blob']);
    expect(get.exitCode).toBe(0);
    expect(get.bytes.equals(value)).toBe(true);
    const json = await tzkvJson<{ value: string; encoding: string }>(['get', '-d', dir, 'blob']);
    expect(json.json.encoding).toBe('base64');
    expect(Buffer.from(json.json.value, 'base64').equals(value)).toBe(true);
  });

  test('"-" reads the value from stdin, --file from a file', async () => {
    const dir = await storeDir();
    const tmp = await tempDir();
    const file = join(tmp, 'value.bin');
    await writeFile(file, Buffer.from([1, 2, 3, 0, 4]));
    expect((await tzkv(['put', '-d', dir, 'dash', '-'], { input: 'from stdin\n' })).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', dir, 'file', '--file', file])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'dash'])).stdout).toBe('from stdin\n');
    expect((await tzkv(['get', '-d', dir, 'file'])).bytes).toEqual(Buffer.from([1, 2, 3, 0, 4]));
  });

  test('VALUE and --file together is a usage error', async () => {
    const dir = await storeDir();
    const run = await tzkv(['put', '-d', dir, 'k', 'v', '--file', '/dev/null']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/not both/);
    expect(existsSync(dir)).toBe(false);
  });

  test('a missing --file names the path and exits 5', async () => {
    const dir = await storeDir();
    const run = await tzkv(['put', '-d', dir, 'k', '--file', '/nonexistent/value']);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain('/nonexistent/value');
    expectNoStack(run);
  });

  test('an empty value is a value', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'empty', ''])).exitCode).toBe(0);
    expect(await tzkv(['get', '-d', dir, 'empty'])).toMatchObject({ exitCode: 0, stdout: '' });
  });

  test('keys with spaces, colons and unicode', async () => {
    const dir = await storeDir();
    const keys = ['with spaces', 'a:b:c', 'ünïcödé ключ 鍵 🎉', ' leading and trailing ', 'tab\there'];
    for (const [i, key] of keys.entries()) expect((await tzkv(['put', '-d', dir, key, `v${i}`])).exitCode).toBe(0);
    for (const [i, key] of keys.entries()) expect((await tzkv(['get', '-d', dir, key])).stdout).toBe(`v${i}`);
    const listed = await tzkvJson<string[]>(['keys', '-d', dir]);
    expect(listed.json).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  test('a key that starts with a dash, after --', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, '--', '-dash', 'v'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, '--', '-dash'])).stdout).toBe('v');
  });

  test('get of a missing key: exit 1, empty stdout, a message on stderr', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'present', 'x']);
    const run = await tzkv(['get', '-d', dir, 'absent']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('tzkv: key not found: "absent"\n');
  });

  test('--if-absent writes only a new key and exits 1 when the key existed', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'lock', 'first', '--if-absent'])).exitCode).toBe(0);
    const second = await tzkv(['put', '-d', dir, 'lock', 'second', '--if-absent']);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/already exists/);
    expect((await tzkv(['get', '-d', dir, 'lock'])).stdout).toBe('first');
    const json = await tzkvJson<{ error: { code: string } }>(['put', '-d', dir, 'lock', 'third', '--if-absent']);
    expect(json.run.exitCode).toBe(1);
    expect(json.json.error.code).toBe('PRECONDITION');
  });

  test('-b/--bucket prefixes keys with NAME:', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, '-b', 'users', '42', 'alice']);
    await tzkv(['put', '-d', dir, '--bucket', 'teams', '42', 'red']);
    expect((await tzkv(['get', '-d', dir, 'users:42'])).stdout).toBe('alice');
    expect((await tzkv(['get', '-d', dir, '-b', 'teams', '42'])).stdout).toBe('red');
    expect((await tzkvJson(['get', '-d', dir, '-b', 'users', '42'])).json).toEqual({ key: '42', value: 'alice', expiresAt: null, version: expect.any(String) });
    expect((await tzkv(['put', '-d', dir, '-b', '', 'k', 'v'])).exitCode).toBe(2);
  });

  test('a large value reaches a pipe whole', async () => {
    const dir = await storeDir();
    const value = randomBytes(8 * 1024 * 1024);
    expect((await tzkv(['put', '-d', dir, 'big', '-'], { input: value })).exitCode).toBe(0);
    const get = await tzkv(['get', '-d', dir, 'big']);
    expect(get.bytes.length).toBe(value.length);
    expect(get.bytes.equals(value)).toBe(true);
  });
});
