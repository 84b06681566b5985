// Many keys in one command (issue #15, docs/cli.md "get", "del", "keys",
// "export"): get K1 K2 / --prefix, del --prefix / --all / --dry-run,
// keys --match / --long, export --format. The same cases run against a store
// directory and an etcd server; test/e2e/fast-path.test.ts runs these lines
// by both start paths.
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { etcdForFile } from './fixtures/etcd.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';
import { type Run, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import { screenLines, tzkvOnTerminal } from './terminal.js';

const etcdStore = etcdForFile('many');

const backends: Array<[string, () => Promise<string>, ServerNeed | undefined]> = [
  ['a store directory', () => storeDir(), undefined],
  ['an etcd server', async () => etcdStore(), etcd],
];

/** Runs each line, which must succeed. */
async function seed(store: string, lines: string[][]): Promise<void> {
  for (const line of lines) {
    const run = await tzkv([line[0], '-d', store, ...line.slice(1)]);
    expect(run.exitCode, `${line.join(' ')}: ${run.stderr}`).toBe(0);
  }
}

/** A file holding `bytes`, for put --file. */
async function file(bytes: Buffer): Promise<string> {
  const path = join(await tempDir(), 'value');
  await writeFile(path, bytes);
  return path;
}

/** A usage error (exit 2) that printed nothing on stdout and names `what` on stderr. */
function expectUsage(run: Run, what: RegExp): void {
  expect(run.exitCode, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(what);
  expectNoStack(run);
}

describe.each(backends)('against %s', (_name, newStore, server) => {
  if (server) needsServer(server);

  describe('get with several keys', () => {
    test('KEY<TAB>VALUE lines in the order given, each key once; --json an object in that order', async () => {
      const s = await newStore();
      await seed(s, [['put', 'host', 'localhost'], ['put', '9', 'nine'], ['put', '10', 'ten', '--ttl', '1h'], ['put', 'spaced', 'a b\tc']]);
      expect(await tzkv(['get', '-d', s, 'host', '9', '10', 'spaced', 'host'])).toMatchObject({ exitCode: 0, stdout: 'host\tlocalhost\n9\tnine\n10\tten\nspaced\ta b\tc\n', stderr: '' });
      const json = await tzkv(['get', '-d', s, '10', '9', 'host', '--json']);
      expect(json.exitCode).toBe(0);
      // In argument order, although JavaScript would put integer-like keys first.
      expect(json.stdout).toMatch(/^\{"10":\{"value":"ten","expiresAt":"\d{4}-[^"]+"\},"9":\{"value":"nine","expiresAt":null\},"host":\{"value":"localhost","expiresAt":null\}\}\n$/);
      // One KEY stays the value itself; --with-keys gives the form of several.
      expect((await tzkv(['get', '-d', s, 'host'])).stdout).toBe('localhost');
      expect((await tzkv(['get', '-d', s, 'host', '--with-keys'])).stdout).toBe('host\tlocalhost\n');
      expect((await tzkvJson(['get', '-d', s, 'host', '--with-keys'])).json).toEqual({ host: { value: 'localhost', expiresAt: null } });
    });

    test('a missing key: exit 1 naming every missing one, nothing on stdout; --missing-ok prints the others (null under --json)', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', '1'], ['put', 'c', '3']]);
      const missing = await tzkv(['get', '-d', s, 'a', 'b', 'c', 'd']);
      expect(missing).toMatchObject({ exitCode: 1, stdout: '' });
      expect(missing.stderr).toMatch(/^tzkv: keys not found: "b", "d" /);
      expectNoStack(missing);
      const asJson = await tzkvJson<{ error: { code: string } }>(['get', '-d', s, 'a', 'b']);
      expect([asJson.run.exitCode, asJson.json.error.code]).toEqual([1, 'NOT_FOUND']);
      expect(await tzkv(['get', '-d', s, 'a', 'b', 'c', '--missing-ok'])).toMatchObject({ exitCode: 0, stdout: 'a\t1\nc\t3\n', stderr: '' });
      expect((await tzkvJson(['get', '-d', s, 'b', 'a', '--missing-ok'])).json).toEqual({ b: null, a: { value: '1', expiresAt: null } });
      // One KEY: nothing, or null.
      expect(await tzkv(['get', '-d', s, 'b', '--missing-ok'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['get', '-d', s, 'b', '--missing-ok', '--json'])).toMatchObject({ exitCode: 0, stdout: 'null\n' });
      expect((await tzkv(['get', '-d', s, 'b'])).exitCode).toBe(1);
    });

    test('a value no line can carry: exit 2 and nothing printed, naming the key; --json carries it; binary values are exact', async () => {
      const s = await newStore();
      const binary = Buffer.from([0xff, 0x00, 0x09, 0xc3, 0x28]);
      await seed(s, [['put', 'a', 'x'], ['put', 'motd', 'two\nlines'], ['put', 'cr', 'ends\r'], ['put', 'bin', '--file', await file(binary)]]);
      expectUsage(await tzkv(['get', '-d', s, 'a', 'motd']), /cannot print "motd" as a KEY<TAB>VALUE line: the value holds a newline; nothing was printed \(--json/);
      expectUsage(await tzkv(['get', '-d', s, 'cr', 'a']), /"cr" .*ends with a carriage return/);
      expect((await tzkvJson(['get', '-d', s, 'a', 'motd'])).json).toEqual({ a: { value: 'x', expiresAt: null }, motd: { value: 'two\nlines', expiresAt: null } });
      const bytes = (await tzkv(['get', '-d', s, 'bin', 'a'])).bytes;
      expect(bytes.equals(Buffer.concat([Buffer.from('bin\t'), binary, Buffer.from('\na\tx\n')]))).toBe(true);
      expect((await tzkvJson(['get', '-d', s, 'bin', 'a'])).json).toEqual({ bin: { value: binary.toString('base64'), encoding: 'base64', expiresAt: null }, a: { value: 'x', expiresAt: null } });
    });

    test('bad input is refused before anything is read: no KEY, KEYs with --prefix, an over-long or empty key among many', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', '1']]);
      expectUsage(await tzkv(['get', '-d', s]), /^tzkv: missing KEY: give one or more keys, or --prefix PREFIX$/m);
      expectUsage(await tzkv(['get', '-d', s, 'a', '--prefix', 'a']), /give KEYs or --prefix, not both/);
      expectUsage(await tzkv(['get', '-d', s, 'a', 'k'.repeat(2000), 'a']), /KEY 2 of 2, "k{40}"\.\.\.: key is 2000 bytes, over the limit of 1024 bytes/);
      expectUsage(await tzkv(['get', '-d', s, 'a', '--', '']), /KEY 2 of 2, "": key must not be empty/);
      const asJson = await tzkvJson<{ error: { code: string; exitCode: number } }>(['get', '-d', s, 'a', 'k'.repeat(2000)]);
      expect(asJson.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', exitCode: 2 });
    });
  });

  describe('get --prefix', () => {
    test('every key under it in key order, relative to the bucket; none: nothing, {} under --json, exit 0', async () => {
      const s = await newStore();
      await seed(s, [['put', 'cfg:b', '2'], ['put', 'cfg:a', '1'], ['put', 'cfgx', 'no'], ['put', '-b', 'app', 'cfg:port', '80'], ['put', 'cfg:gone', 'x', '--ttl', '1h']]);
      await seed(s, [['del', 'cfg:gone']]);
      expect(await tzkv(['get', '-d', s, '--prefix', 'cfg:'])).toMatchObject({ exitCode: 0, stdout: 'cfg:a\t1\ncfg:b\t2\n', stderr: '' });
      expect((await tzkvJson(['get', '-d', s, '--prefix', 'cfg:'])).json).toEqual({ 'cfg:a': { value: '1', expiresAt: null }, 'cfg:b': { value: '2', expiresAt: null } });
      expect(await tzkv(['get', '-d', s, '-b', 'app', '--prefix', 'cfg:'])).toMatchObject({ exitCode: 0, stdout: 'cfg:port\t80\n' });
      expect(await tzkv(['get', '-d', s, '--prefix', 'none:'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['get', '-d', s, '--prefix', 'none:', '--json'])).toMatchObject({ exitCode: 0, stdout: '{}\n' });
    });

    test('a prefix that looks like a glob and matches nothing says so on stderr, pointing to keys --match', async () => {
      const s = await newStore();
      await seed(s, [['put', 'cfg:a', '1']]);
      const run = await tzkv(['get', '-d', s, '--prefix', 'cfg:*']);
      expect(run).toMatchObject({ exitCode: 0, stdout: '' });
      expect(run.stderr).toBe(`tzkv: no key starts with "cfg:*": --prefix takes a prefix, not a pattern; for the keys matching it: tzkv keys --match 'cfg:*'\n`);
    });
  });

  describe('del --prefix, --all, --dry-run', () => {
    test('deletes every key under the prefix and nothing else; --json counts them; --dry-run lists them and deletes nothing', async () => {
      const s = await newStore();
      await seed(s, [['put', 'tmp:1', 'a'], ['put', 'tmp:2', 'b'], ['put', 'tmp', 'stays'], ['put', 'tmq:1', 'stays'], ['put', 'keep', 'stays']]);
      expect(await tzkv(['del', '-d', s, '--prefix', 'tmp:', '--dry-run'])).toMatchObject({ exitCode: 0, stdout: 'tmp:1\ntmp:2\n', stderr: '' });
      expect((await tzkvJson(['del', '-d', s, '--prefix', 'tmp:', '--dry-run'])).json).toEqual({ deleted: 0, dryRun: true, keys: ['tmp:1', 'tmp:2'] });
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['keep', 'tmp', 'tmp:1', 'tmp:2', 'tmq:1']);
      expect(await tzkv(['del', '-d', s, '--prefix', 'tmp:'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['keep', 'tmp', 'tmq:1']);
      await seed(s, [['put', 'tmp:3', 'c'], ['put', 'tmp:4', 'd', '--ttl', '1h']]);
      expect((await tzkvJson(['del', '-d', s, '--prefix', 'tmp:'])).json).toEqual({ deleted: 2 });
      expect((await tzkvJson(['del', '-d', s, '--prefix', 'tmp:'])).json).toEqual({ deleted: 0 });
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['keep', 'tmp', 'tmq:1']);
    });

    test('an empty --prefix is refused and deletes nothing; --all deletes every key (of the bucket, with -b)', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', '1'], ['put', '-b', 'cache', 'x', '1'], ['put', '-b', 'cache', 'y', '2']]);
      expectUsage(await tzkv(['del', '-d', s, '--prefix', '']), /--prefix "" would delete every key of the store; to mean that, write --all/);
      expectUsage(await tzkv(['del', '-d', s, '-b', 'cache', '--prefix', '']), /every key of bucket "cache"/);
      expectUsage(await tzkv(['del', '-d', s, '--prefix', 'a', 'a']), /give KEYs or --prefix, not both/);
      expectUsage(await tzkv(['del', '-d', s, '--all', '--prefix', 'a']), /give --prefix or --all, not both/);
      expectUsage(await tzkv(['del', '-d', s, 'a', '--dry-run']), /--dry-run goes with --prefix or --all/);
      expectUsage(await tzkv(['del', '-d', s]), /missing KEY: give one or more keys to delete, or --prefix PREFIX/);
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['a', 'cache:x', 'cache:y']);
      expect((await tzkvJson(['del', '-d', s, '-b', 'cache', '--all', '--dry-run'])).json).toEqual({ deleted: 0, dryRun: true, keys: ['x', 'y'] });
      expect((await tzkvJson(['del', '-d', s, '-b', 'cache', '--all'])).json).toEqual({ deleted: 2 });
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['a']);
      expect((await tzkvJson(['del', '-d', s, '--all'])).json).toEqual({ deleted: 1 });
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual([]);
    });

    test('a glob-looking prefix that deletes nothing says so on stderr', async () => {
      const s = await newStore();
      await seed(s, [['put', 'tmp:1', 'a']]);
      const run = await tzkv(['del', '-d', s, '--prefix', 'tmp:*']);
      expect(run).toMatchObject({ exitCode: 0, stdout: '' });
      expect(run.stderr).toMatch(/no key starts with "tmp:\*": --prefix takes a prefix, not a pattern; to delete the keys matching it: tzkv keys --match 'tmp:\*' -0 \| xargs -0 tzkv del --/);
      expect((await tzkvJson(['keys', '-d', s])).json).toEqual(['tmp:1']);
    });
  });

  describe('keys --match, --long', () => {
    test('--match: a glob on the whole key, with PREFIX, -b, -n, -0 and --json', async () => {
      const s = await newStore();
      await seed(s, [['put', 'user:1:email', 'a'], ['put', 'user:2:email', 'b'], ['put', 'user:10:name', 'c'], ['put', 'user:x:email', 'd'], ['put', 'job*', 'e'], ['put', 'job1', 'f'], ['put', '-b', 'b', 'user:3:email', 'g']]);
      const keys = async (...args: string[]) => (await tzkvJson<string[]>(['keys', '-d', s, ...args])).json;
      expect(await keys('--match', 'user:*:email')).toEqual(['user:1:email', 'user:2:email', 'user:x:email']);
      expect(await keys('--match', 'user:?:*')).toEqual(['user:1:email', 'user:2:email', 'user:x:email']);
      expect(await keys('--match', 'user:[0-9]*')).toEqual(['user:10:name', 'user:1:email', 'user:2:email']);
      expect(await keys('--match', 'user:[!0-9]:*')).toEqual(['user:x:email']);
      expect(await keys('--match', '*:email', '-n', '2')).toEqual(['b:user:3:email', 'user:1:email']);
      expect(await keys('user:1', '--match', '*email')).toEqual(['user:1:email']);
      expect(await keys('job', '--match', 'user:*')).toEqual([]);
      expect(await keys('--match', 'job\\*')).toEqual(['job*']);
      expect(await keys('-b', 'b', '--match', 'user:*')).toEqual(['user:3:email']);
      expect((await tzkv(['keys', '-d', s, '--match', 'user:?:*', '-0'])).stdout).toBe('user:1:email\0user:2:email\0user:x:email\0');
      expectUsage(await tzkv(['keys', '-d', s, '--match', 'user:[12']), /invalid --match "user:\[12": the "\[" at character 6 is never closed by "\]"/);
      expectUsage(await tzkv(['keys', '-d', s, '--match', 'user:\\']), /ends with a lone "\\"/);
    });

    test('a glob given as PREFIX: empty listing, exit 0, and stderr says keys takes a prefix and suggests --match', async () => {
      const s = await newStore();
      await seed(s, [['put', 'users:1', 'a'], ['put', 'job*x', 'b']]);
      const run = await tzkv(['keys', '-d', s, 'users:*']);
      expect(run).toMatchObject({ exitCode: 0, stdout: '' });
      expect(run.stderr).toBe(`tzkv: no key starts with "users:*": keys takes a prefix, not a pattern; to list the keys matching it, use --match 'users:*'\n`);
      const asJson = await tzkv(['keys', '-d', s, 'users:[1]', '--json']);
      expect([asJson.exitCode, asJson.stdout]).toEqual([0, '[]\n']);
      expect(asJson.stderr).toMatch(/use --match 'users:\[1\]'/);
      // A key that really starts with it: no note.
      expect(await tzkv(['keys', '-d', s, 'job*'])).toMatchObject({ exitCode: 0, stdout: 'job*x\n', stderr: '' });
      expect(await tzkv(['keys', '-d', s, 'nothing:'])).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    });

    test('--long: SIZE<TAB>EXPIRES<TAB>KEY into a pipe (-0: NUL-ended), objects under --json', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', 'hello'], ['put', 'tab\tkey', ''], ['put', 'soon', 'xy', '--ttl', '1h']]);
      const long = await tzkv(['keys', '-d', s, '--long']);
      expect(long.exitCode).toBe(0);
      expect(long.stdout).toMatch(/^5\t-\ta\n2\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tsoon\n0\t-\ttab\tkey\n$/);
      expect((await tzkv(['keys', '-d', s, '-l', '-0', '--match', '[at]*'])).stdout).toBe('5\t-\ta\x000\t-\ttab\tkey\0');
      const json = (await tzkvJson<Array<{ key: string; size: number; expiresAt: string | null }>>(['keys', '-d', s, '--long', '-n', '2'])).json;
      expect(json).toEqual([
        { key: 'a', size: 5, expiresAt: null },
        { key: 'soon', size: 2, expiresAt: expect.stringMatching(/^\d{4}-/) },
      ]);
    });
  });

  describe('export --format', () => {
    test.each(['tsv', 'jsonl', 'json'])('export --format %s | import in that format reproduces the keys exactly', async (format) => {
      const s = await newStore();
      // Bytes every format carries: UTF-8 text with tabs, quotes and a newline only where the format can hold it.
      const binary = Buffer.from([0xff, 0x00, 0x09, 0xc3, 0x28]);
      await seed(s, [['put', 'a', 'plain'], ['put', 'é:quoted', 'say "hi"\\ \ttab'], ['put', 'empty', ''], ['put', '-b', 'b', 'k', 'v']]);
      if (format !== 'json') await seed(s, [['put', 'bin', '--file', await file(binary)]]);
      if (format !== 'tsv') await seed(s, [['put', 'lines', 'two\nlines']]);
      if (format === 'jsonl') await seed(s, [['put', 'ttl', 'x', '--ttl', '1h']]);
      const exported = await tzkv(['export', '-d', s, '--format', format]);
      expect(exported.exitCode, exported.stderr).toBe(0);
      const copy = await newStore();
      const imported = await tzkv(['import', '-d', copy, '-', '--format', format], { input: exported.bytes });
      expect(imported.exitCode, imported.stderr).toBe(0);
      // etcd keeps an expiry as a lease of whole seconds: its copy's expiry may differ by a second.
      const exact = (text: string) => (server ? text.replace(/"expiresAt":"[^"]+"/g, '"expiresAt":"<time>"') : text);
      const original = await tzkv(['export', '-d', s]);
      expect(exact((await tzkv(['export', '-d', copy])).stdout)).toBe(exact(original.stdout));
      if (format === 'jsonl') expect(original.stdout).toMatch(/"key":"ttl","value":"x","expiresAt":"\d{4}-/);
      if (format === 'tsv') expect(exported.bytes.includes(Buffer.concat([Buffer.from('bin\t'), binary, Buffer.from('\n')]))).toBe(true);
      if (format === 'json') expect(exported.stdout).toBe('{"a":"plain","b:k":"v","empty":"","lines":"two\\nlines","é:quoted":"say \\"hi\\"\\\\ \\ttab"}\n');
    });

    test('an entry the format cannot carry: exit 2 before any byte, naming the key; --out writes no file', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', '1'], ['put', 'z', 'x', '--ttl', '1h']]);
      expectUsage(await tzkv(['export', '-d', s, '--format', 'tsv']), /cannot export "z" as tsv exactly: it expires at .*, and tsv carries no expiry; nothing was written \(--format jsonl/);
      expectUsage(await tzkv(['export', '-d', s, '--format', 'json']), /cannot export "z" as json exactly/);
      await seed(s, [['ttl', 'z', '--persist'], ['put', 'nl', 'a\nb']]);
      expectUsage(await tzkv(['export', '-d', s, '--format', 'tsv']), /"nl" as tsv exactly: the value holds a newline/);
      expect((await tzkv(['export', '-d', s, '--format', 'json'])).exitCode).toBe(0);
      await seed(s, [['put', 'bin', '--file', await file(Buffer.from([0xff]))]]);
      expectUsage(await tzkv(['export', '-d', s, '--format', 'json']), /"bin" as json exactly: the value is not UTF-8 text/);
      const out = join(await tempDir(), 'out.tsv');
      expectUsage(await tzkv(['export', '-d', s, '--format', 'tsv', '--out', out]), /nothing was written/);
      expect(existsSync(out)).toBe(false);
      expect(await readdir(join(out, '..'))).toEqual([]);
      const both = await tzkvJson<{ error: { code: string; message: string } }>(['export', '-d', s, '--format', 'jsonl']);
      expect([both.run.exitCode, both.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
      expect(both.json.error.message).toMatch(/^give --format or --json, not both/);
      // With --out, --json describes the file.
      const file2 = join(await tempDir(), 'a.jsonl');
      expect((await tzkvJson(['export', '-d', s, '--format', 'jsonl', '--out', file2])).json).toEqual({ exported: 4, file: file2 });
      expect((await readFile(file2, 'utf8')).split('\n').length).toBe(5);
    });

    test('the default output is unchanged: JSON Lines', async () => {
      const s = await newStore();
      await seed(s, [['put', 'a', '1']]);
      const plain = await tzkv(['export', '-d', s]);
      expect(plain.stdout).toBe('{"key":"a","value":"1","expiresAt":null}\n');
      expect((await tzkv(['export', '-d', s, '--format', 'jsonl'])).stdout).toBe(plain.stdout);
    });
  });
});

describe('on a store directory only', () => {
  test('a missing store directory: exit 5 as before, and nothing is created', async () => {
    const dir = join(await tempDir(), 'typo');
    for (const line of [
      ['get', 'a', 'b'],
      ['get', '--prefix', 'a'],
      ['del', '--prefix', 'a'],
      ['del', '--all', '--dry-run'],
      ['keys', '--match', '*'],
      ['keys', '--long'],
      ['export', '--format', 'tsv'],
    ]) {
      const run = await tzkv([...line, '-d', dir]);
      expect(run.exitCode, line.join(' ')).toBe(5);
      expect(run.stderr).toMatch(/no tzkv store at .*typo: the directory does not exist/);
      expect(existsSync(dir)).toBe(false);
    }
  });

  test('damage under the prefix: get --prefix prints nothing and del --prefix deletes nothing (exit 4)', async () => {
    const dir = join(await tempDir(), 'store'); // damaged on purpose: not verified at the end
    await seed(dir, [['put', 'p:a', 'value of a, long enough'], ['put', 'p:b', 'value of b, long enough']]);
    const segment = (await readdir(dir)).filter((n) => n.endsWith('.tzds')).sort().pop()!;
    const bytes = await readFile(join(dir, segment));
    bytes[bytes.indexOf('value of a') + 3] ^= 0x01;
    await writeFile(join(dir, segment), bytes);
    const get = await tzkv(['get', '-d', dir, '--prefix', 'p:']);
    expect(get).toMatchObject({ exitCode: 4, stdout: '' });
    expect(get.stderr).toMatch(/get --prefix stepped over 1 damaged stretch of the store: nothing was printed/);
    const del = await tzkv(['del', '-d', dir, '--prefix', 'p:']);
    expect(del).toMatchObject({ exitCode: 4, stdout: '' });
    expect(del.stderr).toMatch(new RegExp(`${segment} offset 16: CRC mismatch`));
    expectNoStack(del);
    expect((await tzkv(['get', '-d', dir, 'p:b'])).stdout).toBe('value of b, long enough');
  });
});

describe('on a terminal', () => {
  test('keys --long is a table; get with several keys and --json show keys and values escaped', async () => {
    const dir = await storeDir();
    await seed(dir, [['put', 'a', 'hello'], ['put', 'esc', 'x\x1b[2Jy'], ['put', 'soon', 'xy', '--ttl', '1h']]);
    const table = await tzkvOnTerminal(['keys', '-d', dir, '--long']);
    expect(table.exitCode).toBe(0);
    expect(screenLines(table.text).slice(0, 4)).toEqual([
      'SIZE  EXPIRES                   KEY',
      '   5  -                         a',
      '   6  -                         esc',
      expect.stringMatching(/^ {3}2 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}soon$/),
    ]);
    const get = await tzkvOnTerminal(['get', '-d', dir, 'a', 'esc']);
    expect(screenLines(get.text).slice(0, 2)).toEqual(['a\thello', 'esc\tx\\x1b[2Jy']);
    const json = await tzkvOnTerminal(['get', '-d', dir, 'esc', 'a', '--json']);
    expect(screenLines(json.text).slice(0, 3)).toEqual(['{', '  "esc": {', '    "value": "x\\u001b[2Jy",']);
  });
});
