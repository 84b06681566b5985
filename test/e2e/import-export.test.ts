import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import type { StoreStats } from '../../src/api.js';
import { BIN, NODE, START_PATHS, childEnv, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

interface Record {
  key: string;
  value: string;
  encoding?: string;
  expiresAt: string | null;
}

const lines = (records: object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('export', () => {
  test('JSON Lines in key order, base64 for bytes that are not UTF-8', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'b', 'text'], {});
    await tzkv(['put', '-d', dir, 'a', '-'], { input: Buffer.from([0xff, 0x00, 0xfe]) });
    await tzkv(['put', '-d', dir, 'c', 'x', '--expire-at', '2099-01-01T00:00:00Z']);
    const run = await tzkv(['export', '-d', dir]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(
      lines([
        { key: 'a', value: '/wD+', encoding: 'base64', expiresAt: null },
        { key: 'b', value: 'text', expiresAt: null },
        { key: 'c', value: 'x', expiresAt: '2099-01-01T00:00:00.000Z' },
      ]),
    );
    const prefixed = await tzkv(['export', '-d', dir, 'b']);
    expect(prefixed.stdout).toBe(lines([{ key: 'b', value: 'text', expiresAt: null }]));
    const json = await tzkvJson<Record[]>(['export', '-d', dir]);
    expect(json.json.map((r) => r.key)).toEqual(['a', 'b', 'c']);
  });

  test('--out writes the file only when complete', async () => {
    const dir = await storeDir();
    const out = join(await tempDir(), 'backup.jsonl');
    await tzkv(['put', '-d', dir, 'k', 'v']);
    expect(await tzkv(['export', '-d', dir, '--out', out])).toMatchObject({ exitCode: 0, stdout: '' });
    expect(await readFile(out, 'utf8')).toBe(lines([{ key: 'k', value: 'v', expiresAt: null }]));
    expect((await tzkvJson(['export', '-d', dir, '-o', out])).json).toEqual({ exported: 1, file: out });
    const bad = await tzkv(['export', '-d', dir, '--out', '/nonexistent/dir/out.jsonl']);
    expect(bad.exitCode).toBe(5);
    expect(bad.stderr).toContain('/nonexistent/dir/out.jsonl');
  });

  describe.each(START_PATHS)('--out, by $path', ({ env }) => {
    test('-o - is stdout, as - is stdin for put -f and import', async () => {
      const dir = await storeDir();
      const cwd = await tempDir();
      await tzkv(['put', '-d', dir, 'k', 'v']);
      const plain = await tzkv(['export', '-d', dir], { env, cwd });
      expect(await tzkv(['export', '-d', dir, '-o', '-'], { env, cwd })).toMatchObject({ exitCode: 0, stdout: plain.stdout, stderr: '' });
      expect((await tzkvJson(['export', '-d', dir, '--out', '-'], { env, cwd })).json).toEqual([{ key: 'k', value: 'v', expiresAt: null }]);
      expect(await readdir(cwd)).toEqual([]);
    });

    test('a directory as FILE: exit 5 naming it, and no temporary file anywhere', async () => {
      const dir = await storeDir();
      await tzkv(['put', '-d', dir, 'k', 'v']);
      const base = await tempDir();
      const target = join(base, 'backups');
      await mkdir(target);
      for (const [out, reason] of [[target, 'it is a directory'], [`${target}/`, 'it is a directory'], [`${join(base, 'new')}/`, 'it names a directory']]) {
        const run = await tzkv(['export', '-d', dir, '-o', out], { env });
        expect(run.exitCode, out).toBe(5);
        expect(run.stderr, out).toBe(`tzkv: cannot write ${out}: ${reason}\n`);
        expect(await readdir(base), out).toEqual(['backups']);
        expect(await readdir(target), out).toEqual([]);
      }
    });
  });

  test('export | import -d other reproduces every key, value byte and expiry', async () => {
    const from = await storeDir();
    const to = await storeDir();
    const values = new Map<string, Buffer>();
    for (let i = 0; i < 40; i++) values.set(`key ${i}: ünï`, randomBytes(i * 37));
    values.set('text', Buffer.from('plain text\nwith lines'));
    const importLines = [...values].map(([key, value], i) =>
      JSON.stringify({ key, value: value.toString('base64'), encoding: 'base64', ...(i % 3 === 0 ? { expiresAt: '2098-05-06T07:08:09.123Z' } : {}) }),
    );
    expect((await tzkv(['import', '-d', from, '-'], { input: importLines.join('\n') })).exitCode).toBe(0);

    const pipeline = execa(NODE, [BIN, 'export', '-d', from], { env: childEnv(), extendEnv: false }).pipe(NODE, [BIN, 'import', '-d', to, '-'], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
    });
    expect((await pipeline).exitCode).toBe(0);

    expect((await tzkv(['export', '-d', to])).stdout).toBe((await tzkv(['export', '-d', from])).stdout);
    for (const [key, value] of values) expect((await tzkv(['get', '-d', to, key])).bytes.equals(value), key).toBe(true);
    expect((await tzkvJson(['get', '-d', to, 'key 3: ünï'])).json).toMatchObject({ expiresAt: '2098-05-06T07:08:09.123Z' });
  });

  test('a bucket exports without its prefix and imports into another bucket', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, '-b', 'a', 'k', 'v']);
    const exported = await tzkv(['export', '-d', dir, '-b', 'a']);
    expect(exported.stdout).toBe(lines([{ key: 'k', value: 'v', expiresAt: null }]));
    expect((await tzkv(['import', '-d', dir, '-', '-b', 'b'], { input: exported.stdout })).exitCode).toBe(0);
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['a:k', 'b:k']);
  });
});

describe('import', () => {
  test('JSON Lines from a file or stdin; --json counts', async () => {
    const dir = await storeDir();
    const file = join(await tempDir(), 'in.jsonl');
    await writeFile(file, lines([{ key: 'f', value: '1' }]));
    expect((await tzkvJson(['import', '-d', dir, file])).json).toEqual({ imported: 1, expired: 0 });
    expect((await tzkvJson(['import', '-d', dir, '-'], { input: lines([{ key: 's', value: '2' }]) })).json).toEqual({ imported: 1, expired: 0 });
    expect((await tzkvJson(['import', '-d', dir, '-'], { input: `\n${lines([{ key: 't', value: '3', expiresAt: null }])}\r\n` })).json).toEqual({
      imported: 1,
      expired: 0,
    });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['f', 's', 't']);
  });

  test('a malformed line 3 aborts: the error names line 3 and nothing is stored', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'existing', 'kept']);
    const input = `${lines([{ key: 'a', value: '1' }, { key: 'b', value: '2' }])}{"key": "c", "value": 3}\n${lines([{ key: 'd', value: '4' }])}`;
    const run = await tzkv(['import', '-d', dir, '-'], { input });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/line 3:/);
    expect(run.stderr).toMatch(/"value" must be a string/);
    expectNoStack(run);
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['existing']);
  });

  test.each([
    ['not JSON', 'this is not json', /not valid JSON/],
    ['not an object', '[1, 2]', /expected a JSON object/],
    ['no key', '{"value": "v"}', /"key" must be a string/],
    ['empty key', '{"key": "", "value": "v"}', /"key" is empty/],
    ['bad encoding', '{"key": "k", "value": "v", "encoding": "hex"}', /"encoding"/],
    ['bad base64', '{"key": "k", "value": "!!", "encoding": "base64"}', /not valid base64/],
    ['bad expiresAt', '{"key": "k", "value": "v", "expiresAt": "next week"}', /"expiresAt"/],
    ['key over the limit', JSON.stringify({ key: 'k'.repeat(5000), value: 'v' }), /key/],
  ])('%s on line 2 is refused, naming line 2', async (_, line, message) => {
    const dir = await storeDir();
    const run = await tzkv(['import', '-d', dir, '-'], { input: `${lines([{ key: 'ok', value: 'v' }])}${line}\n` });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/standard input line 2: /);
    expect(run.stderr).toMatch(message);
    expect((await tzkv(['get', '-d', dir, 'ok'])).exitCode).not.toBe(0);
  });

  test('entries whose expiry has passed are skipped', async () => {
    const dir = await storeDir();
    const input = lines([
      { key: 'old', value: 'v', expiresAt: '2001-01-01T00:00:00Z' },
      { key: 'new', value: 'v', expiresAt: '2099-01-01T00:00:00Z' },
    ]);
    expect((await tzkvJson(['import', '-d', dir, '-'], { input })).json).toEqual({ imported: 1, expired: 1 });
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['new']);
  });

  test('--format tsv: KEY<TAB>VALUE, the value being the rest of the line', async () => {
    const dir = await storeDir();
    const run = await tzkvJson(['import', '-d', dir, '-', '--format', 'tsv'], { input: 'k1\tv1\nk 2\tv\twith\ttabs\r\n\nk3\t\n' });
    expect(run.json).toEqual({ imported: 3, expired: 0 });
    expect((await tzkv(['get', '-d', dir, 'k 2'])).stdout).toBe('v\twith\ttabs');
    expect((await tzkv(['get', '-d', dir, 'k3'])).stdout).toBe('');
    const bad = await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: 'x\ty\nno tab here\n' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/line 2: expected KEY<TAB>VALUE/);
    expect((await tzkv(['get', '-d', dir, 'x'])).exitCode).toBe(1);
  });

  test('--format tsv: any byte in a value, a last line without \\n, -b, a 2.5 MB file read in pieces, a key over the limit named by its line', async () => {
    const dir = await storeDir();
    const binary = Buffer.from([0x00, 0xff, 0x0d, 0x01, 0x0d, 0x7f]);
    const file = join(await tempDir(), 'in.tsv');
    const rows = Array.from({ length: 30000 }, (_, i) => `row${String(i).padStart(5, '0')}\t${'v'.repeat(i % 150)}\n`);
    await writeFile(file, Buffer.concat([Buffer.from('bin\t'), binary, Buffer.from(`\n${rows.join('')}last\tno newline`)]));
    expect((await tzkvJson(['import', '-d', dir, file, '--format', 'tsv', '-b', 'b'])).json).toEqual({ imported: 30002, expired: 0 });
    expect((await tzkv(['get', '-d', dir, 'b:bin'])).bytes).toEqual(binary);
    expect((await tzkv(['get', '-d', dir, 'b:last'])).stdout).toBe('no newline');
    expect((await tzkv(['get', '-d', dir, 'b:row29999'])).stdout).toBe('v'.repeat(29999 % 150));
    expect((await tzkvJson<StoreStats>(['stats', '-d', dir])).json.keys).toBe(30002);
    const tooLong = await tzkv(['import', '-d', dir, '-', '--format', 'tsv', '-b', 'b'], { input: `x\t1\n${'k'.repeat(1023)}\tv\nno tab\n` });
    expect(tooLong.exitCode).toBe(2);
    expect(tooLong.stderr).toMatch(/standard input line 2: key is 1025 bytes, over the limit of 1024 bytes/);
    expectNoStack(tooLong);
    expect((await tzkv(['get', '-d', dir, 'b:x'])).exitCode).toBe(1);
  });

  test('--format json: one object of key to string', async () => {
    const dir = await storeDir();
    const input = '{\n  "a": "1",\n  "b:c": "line\\nbreak \\u00e9",\n  "d": ""\n}\n';
    expect((await tzkvJson(['import', '-d', dir, '-', '--format', 'json'], { input })).json).toEqual({ imported: 3, expired: 0 });
    expect((await tzkv(['get', '-d', dir, 'b:c'])).stdout).toBe('line\nbreak é');
    const bad = await tzkv(['import', '-d', dir, '-', '--format', 'json'], { input: '{\n  "x": "1",\n  "y": 2\n}\n' });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/line 3: the value of "y" must be a string/);
    expect((await tzkv(['get', '-d', dir, 'x'])).exitCode).toBe(1);
    for (const broken of ['{"a": "1"', '["a"]', '{"a": "1",}', '{"a": "1"} trailing']) {
      expect((await tzkv(['import', '-d', dir, '-', '--format', 'json'], { input: broken })).exitCode, broken).toBe(2);
    }
  });

  test('a missing input file names its path, exit 5, and creates no store', async () => {
    const dir = await storeDir();
    const run = await tzkv(['import', '-d', dir, '/nonexistent/input.jsonl']);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain('/nonexistent/input.jsonl');
    expect(existsSync(dir)).toBe(false);
  });

  test('a large input shows a progress bar when stderr is a terminal', async () => {
    const dir = await storeDir();
    const file = join(await tempDir(), 'big.jsonl');
    await writeFile(file, lines(Array.from({ length: 60000 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(80) }))));
    const command = [NODE, BIN, 'import', '-d', dir, file].map((word) => `'${word}'`).join(' ');
    const tty = await execa('script', ['-qec', command, '/dev/null'], { env: childEnv(), extendEnv: false, reject: false });
    expect(tty.exitCode).toBe(0);
    expect(tty.stdout).toMatch(/importing \[/);
    expect(tty.stdout).toMatch(/imported 60000 keys/);
    expect((await tzkvJson<StoreStats>(['stats', '-d', dir])).json.keys).toBe(60000);
  });

  test('an unknown --format is a usage error', async () => {
    const dir = await storeDir();
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'xml'], { input: '' })).exitCode).toBe(2);
  });

  test('a large input streams in and is stored whole', async () => {
    const dir = await storeDir();
    const tmp = await tempDir();
    const file = join(tmp, 'big.jsonl');
    const records = Array.from({ length: 20000 }, (_, i) => ({ key: `k${String(i).padStart(6, '0')}`, value: `v${i}`.repeat(10) }));
    await writeFile(file, lines(records));
    const imported = await tzkvJson(['import', '-d', dir, file]);
    expect(imported.json).toEqual({ imported: 20000, expired: 0 });
    expect(imported.run.stderr).toBe('');
    const keys = await tzkv(['keys', '-d', dir]);
    expect(keys.stdout.split('\n').length).toBe(20001);
    expect((await tzkv(['get', '-d', dir, 'k019999'])).stdout).toBe('v19999'.repeat(10));
    expect((await readdir(tmp)).length).toBe(1);
  });
});
