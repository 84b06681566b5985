import { describe, expect, test } from 'vitest';
import { storeDir, tzkv, tzkvJson } from './helpers.js';

async function seed(dir: string, keys: string[]): Promise<void> {
  const lines = keys.map((key) => JSON.stringify({ key, value: `value of ${key}` })).join('\n');
  const run = await tzkv(['import', '-d', dir, '-'], { input: `${lines}\n` });
  expect(run.exitCode).toBe(0);
}

describe('keys', () => {
  test('one key per line, sorted by bytes; --json an array', async () => {
    const dir = await storeDir();
    await seed(dir, ['banana', 'apple', 'Zebra', 'apple:2', 'cherry']);
    expect(await tzkv(['keys', '-d', dir])).toMatchObject({ exitCode: 0, stdout: 'Zebra\napple\napple:2\nbanana\ncherry\n' });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['Zebra', 'apple', 'apple:2', 'banana', 'cherry']);
  });

  test('PREFIX and --limit', async () => {
    const dir = await storeDir();
    await seed(dir, ['user:1', 'user:2', 'user:3', 'team:1']);
    expect((await tzkv(['keys', '-d', dir, 'user:'])).stdout).toBe('user:1\nuser:2\nuser:3\n');
    expect((await tzkv(['keys', 'user:', '--limit', '2', '-d', dir])).stdout).toBe('user:1\nuser:2\n');
    expect((await tzkvJson(['keys', '-d', dir, '-n', '1'])).json).toEqual(['team:1']);
    expect((await tzkv(['keys', '-d', dir, '--limit', '0'])).exitCode).toBe(2);
    expect((await tzkv(['keys', '-d', dir, '--limit', 'many'])).exitCode).toBe(2);
  });

  test('an empty store lists nothing', async () => {
    const dir = await storeDir();
    await seed(dir, []);
    expect(await tzkv(['keys', '-d', dir])).toMatchObject({ exitCode: 0, stdout: '' });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual([]);
  });

  test('-b lists a bucket without its prefix', async () => {
    const dir = await storeDir();
    await seed(dir, ['users:1', 'users:2', 'usersx', 'teams:1']);
    expect((await tzkv(['keys', '-d', dir, '-b', 'users'])).stdout).toBe('1\n2\n');
    expect((await tzkv(['keys', '-d', dir, '-b', 'users', '2'])).stdout).toBe('2\n');
  });
});

describe('del', () => {
  test('deletes keys, exit 0 whether or not they existed; --json counts the removed ones', async () => {
    const dir = await storeDir();
    await seed(dir, ['a', 'b', 'c']);
    expect(await tzkv(['del', '-d', dir, 'a'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    expect((await tzkvJson(['del', '-d', dir, 'b', 'missing', 'c', 'a'])).json).toEqual({ deleted: 2 });
    expect(await tzkv(['del', '-d', dir, 'never-there'])).toMatchObject({ exitCode: 0 });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual([]);
    expect((await tzkv(['get', '-d', dir, 'b'])).exitCode).toBe(1);
  });

  test('needs at least one key; unknown flags are not taken for keys', async () => {
    const dir = await storeDir();
    await seed(dir, ['a']);
    expect((await tzkv(['del', '-d', dir])).exitCode).toBe(2);
    expect((await tzkv(['del', '-d', dir, '--nope', 'a'])).exitCode).toBe(2);
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['a']);
  });

  test('with a bucket', async () => {
    const dir = await storeDir();
    await seed(dir, ['jobs:1', 'jobs:2', '1']);
    expect((await tzkvJson(['del', '-d', dir, '-b', 'jobs', '1', '2'])).json).toEqual({ deleted: 2 });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['1']);
  });
});
