// Many keys in one command (issue #15, docs/cli.md "export"): export --format.
// The same cases run against a store directory and an etcd server.
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { etcdForFile } from './fixtures/etcd.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';
import { type Run, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

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
    for (const line of [['export', '--format', 'tsv']]) {
      const run = await tzkv([...line, '-d', dir]);
      expect(run.exitCode, line.join(' ')).toBe(5);
      expect(run.stderr).toMatch(/no tzkv store at .*typo: the directory does not exist/);
      expect(existsSync(dir)).toBe(false);
    }
  });
});
