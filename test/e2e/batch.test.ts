// `tzkv batch` (docs/cli.md "batch"), through the built CLI on a store
// directory and on etcd: the line grammar and its quoting, all-or-nothing
// by default, --each line by line, results in input order as text or JSON
// Lines, and what a user meets on the way (no FILE, a missing one, a typo,
// a pipe, a `while read` loop). On a directory, a batch SIGKILLed while it
// commits leaves all of it or none.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bothBackends } from './fixtures/backends.js';
import { prng, tzkvChild } from './fixtures/processes.js';
import { needsServer } from '../helpers/servers.js';
import { expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

const backends = bothBackends('batch');

/** Runs `tzkv batch -d STORE -` with `input` on stdin (and any further arguments). */
const batch = (store: string, input: string | Buffer, ...args: string[]) => tzkv(['batch', '-d', store, '-', ...args], { input });

/** The keys of a store, one per line. */
const keys = async (store: string) => (await tzkv(['keys', '-d', store])).stdout;

describe.each(backends)('tzkv batch on %s', (_name, newStore, server) => {
  if (server) needsServer(server);

  test('one result a line, in input order; reads see the batch\'s own earlier writes', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'old', 'there']);
    const input = [
      'put a 1',
      'incr a 5', // a key put earlier in the batch
      'get a',
      '# a comment, then a blank line',
      '',
      'get missing',
      'ttl a',
      'put b "two words" 1h',
      'ttl b',
      'get b',
      'del old',
      'del old',
      'expire b 30m',
      'expire missing 10',
      'incr n -3',
      '  get\told  ',
      'set alias yes', // the command line's aliases: set for put, rm and delete for del
      'rm alias',
      'delete alias',
    ].join('\n');
    const run = await batch(s, `${input}\n`);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const results = run.stdout.split('\n');
    // A TTL printed is the whole seconds left when the batch ended, rounded up: a slow run may show a second less.
    const seconds = (line: string, full: number) => {
      expect(Number(line)).toBeGreaterThanOrEqual(full - 2);
      expect(Number(line)).toBeLessThanOrEqual(full);
    };
    seconds(results[6], 3600);
    seconds(results[10], 1800);
    expect([...results.slice(0, 6), results[7], ...results.slice(8, 10), ...results.slice(11)]).toEqual(['OK', '6', '6', '', '-1', 'OK', '"two words"', '1', '0', '', '-3', '', 'OK', '1', '0', '']);
    expect((await tzkv(['get', '-d', s, 'a'])).stdout).toBe('6');
    expect((await tzkv(['get', '-d', s, 'b'])).stdout).toBe('two words');
    expect(Number((await tzkv(['ttl', '-d', s, 'b'])).stdout)).toBeGreaterThan(1700);
    expect(await keys(s)).toBe('a\nb\nn\n');
  });

  test('quoting: spaces, empty, binary and a value starting with "-" are stored exactly, and what get prints reads back as the same bytes', async () => {
    const s = await newStore();
    const input = [
      'put spaced "  two  spaces  "',
      'put empty ""',
      'put binary "\\x00\\xff\\n\\t\\r\\\\\\"end"',
      'put dash -x',
      'put dashdash --json',
      'put "key with space" v',
      'put tab\tseparated',
      'put json {"a":[1,2]}',
      'put win C:\\dir\\file',
    ].join('\n');
    const put = await batch(s, input);
    expect([put.exitCode, put.stderr]).toEqual([0, '']);
    const expected: Array<[string, Buffer]> = [
      ['spaced', Buffer.from('  two  spaces  ')],
      ['empty', Buffer.alloc(0)],
      ['binary', Buffer.from([0x00, 0xff, 0x0a, 0x09, 0x0d, 0x5c, 0x22, 0x65, 0x6e, 0x64])],
      ['dash', Buffer.from('-x')],
      ['dashdash', Buffer.from('--json')],
      ['key with space', Buffer.from('v')],
      ['tab', Buffer.from('separated')],
      ['json', Buffer.from('{"a":[1,2]}')],
      ['win', Buffer.from('C:\\dir\\file')],
    ];
    for (const [key, bytes] of expected) expect((await tzkv(['get', '-d', s, '--', key])).bytes.equals(bytes), key).toBe(true);
    const got = await batch(s, expected.map(([key]) => `get "${key}"`).join('\n'));
    expect(got.stdout).toBe(['"  two  spaces  "', '""', '"\\x00\\xff\\n\\t\\r\\\\\\"end"', '-x', '--json', 'v', 'separated', '{"a":[1,2]}', 'C:\\dir\\file', ''].join('\n'));
    // Each printed value put back under a new key is the same bytes again.
    const lines = got.stdout.trimEnd().split('\n');
    const again = await batch(s, lines.map((word, i) => `put copy${i} ${word}`).join('\n'));
    expect(again.exitCode).toBe(0);
    for (const [i, [, bytes]] of expected.entries()) expect((await tzkv(['get', '-d', s, `copy${i}`])).bytes.equals(bytes), `copy${i}`).toBe(true);
  });

  test('the JSON Lines form, mixed with words; --json prints one object per operation line', async () => {
    const s = await newStore();
    const input = [
      '{"op":"put","key":"k","value":"v","ttl":"10m"}',
      '{"op":"put","key":"bin","value":"AP8=","encoding":"base64"}',
      'get bin',
      '{"op":"incr","key":"n","by":4}',
      '{"op":"get","key":"k"}',
      '{"op":"del","key":"nope"}',
      '{"op":"expire","key":"n","ttl":60}',
      'ttl missing',
    ].join('\n');
    const run = await batch(s, input, '--json');
    expect([run.exitCode, run.stderr]).toEqual([0, '']);
    const objects = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const expiresAt = objects[0].expiresAt as string;
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(500_000);
    const nExpiresAt = objects[6].expiresAt as string;
    const nTtl = objects[6].ttl as number;
    expect(nTtl).toBeGreaterThanOrEqual(58);
    expect(nTtl).toBeLessThanOrEqual(60);
    expect(objects).toEqual([
      { line: 1, op: 'put', key: 'k', ok: true, expiresAt },
      { line: 2, op: 'put', key: 'bin', ok: true, expiresAt: null },
      { line: 3, op: 'get', key: 'bin', ok: true, found: true, value: 'AP8=', encoding: 'base64', expiresAt: null },
      { line: 4, op: 'incr', key: 'n', ok: true, value: 4 },
      { line: 5, op: 'get', key: 'k', ok: true, found: true, value: 'v', expiresAt },
      { line: 6, op: 'del', key: 'nope', ok: true, deleted: false },
      { line: 7, op: 'expire', key: 'n', ok: true, found: true, ttl: nTtl, expiresAt: nExpiresAt },
      { line: 8, op: 'ttl', key: 'missing', ok: true, found: false, ttl: null, expiresAt: null },
    ]);
    expect((await tzkv(['get', '-d', s, 'bin'])).bytes.equals(Buffer.from([0x00, 0xff]))).toBe(true);
  });

  test('atomic (the default): a malformed line in the middle applies nothing, exit 2 naming the line', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'kept', 'before']);
    for (const [bad, why] of [
      ['put onlykey', /line 3: expected put KEY VALUE \[TTL\], got 1 word after put \(nothing was applied\)/],
      ['PUT x 1', /line 3: unknown operation "PUT"; did you mean "put"\?/],
      ['put x "open', /line 3: a quoted word is not closed/],
      ['put x 1 10 minutes', /line 3: expected put KEY VALUE \[TTL\], got 4 words after put/],
      ['put x 1 10x', /line 3: invalid TTL "10x"/],
      ['put x hello world', /line 3: invalid TTL "world": .*\(a word with spaces goes in double quotes: put KEY "two words"/],
      ['pt x 1', /line 3: unknown operation "pt"; did you mean "put"\?/],
      ['{"op":"put","key":"x"}', /line 3: "value" must be a string/],
      ['{"op":"put","key":"x","value":"1","vaule":2}', /line 3: "vaule" is not a field of put/],
    ] as const) {
      const run = await batch(s, `put kept after\ndel kept\n${bad}\nput late 1\n`);
      expect(run.exitCode, bad).toBe(2);
      expect(run.stderr, bad).toMatch(why);
      expect(run.stderr).toMatch(/^tzkv: standard input line 3: /);
      expect(run.stdout).toBe('');
      expectNoStack(run);
    }
    expect((await tzkv(['get', '-d', s, 'kept'])).stdout).toBe('before');
    expect(await keys(s)).toBe('kept\n');
  });

  test('atomic: a line that fails when applied (incr of a value that is no integer) applies nothing, exit 1', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'word', 'hello']);
    const run = await batch(s, 'put a 1\nincr word\nput b 2\n');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe('tzkv: standard input line 2: value of "word" is not an integer: left as it was (nothing was applied)\n');
    expect(run.stdout).toBe('');
    expect(await keys(s)).toBe('word\n');
    const json = await batch(s, 'put a 1\nincr word\n', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'PRECONDITION', message: expect.stringContaining('line 2'), exitCode: 1 } });
  });

  test('--each: every line on its own; a failing one prints ERR and its code, the rest go on, exit 1', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'word', 'hello']);
    const input = 'put a 1\nput onlykey\nincr word\nincr a\nget a\n';
    const run = await batch(s, input, '--each');
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('OK\nERR INVALID_ARGUMENT\nERR PRECONDITION\n2\n2\n');
    expect(run.stderr).toBe(
      'tzkv: standard input line 2: expected put KEY VALUE [TTL], got 1 word after put\n' +
        'tzkv: standard input line 3: value of "word" is not an integer: left as it was\n',
    );
    expect(await keys(s)).toBe('a\nword\n');
    const json = await batch(s, 'put onlykey\nget a\n', '--each', '--json');
    expect(json.exitCode).toBe(1);
    expect(json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual([
      { line: 1, op: null, key: null, ok: false, error: { code: 'INVALID_ARGUMENT', message: 'standard input line 1: expected put KEY VALUE [TTL], got 1 word after put', exitCode: 2 } },
      { line: 2, op: 'get', key: 'a', ok: true, found: true, value: '2', expiresAt: null },
    ]);
    const clean = await batch(s, 'get a\nget nothing\n', '--each');
    expect([clean.exitCode, clean.stdout]).toEqual([0, '2\n\n']);
  });

  test('-b: every key in the bucket, shown without it', async () => {
    const s = await newStore();
    const run = await batch(s, 'put 42 alice\nget 42\n', '-b', 'users', '--json');
    expect(run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).key)).toEqual(['42', '42']);
    expect(await keys(s)).toBe('users:42\n');
  });

  test('empty input, blank lines and comments only: exit 0, nothing printed', async () => {
    const s = await newStore();
    for (const input of ['', '\n\n', '# nothing to do\n   \n']) {
      for (const mode of ['--atomic', '--each']) {
        const run = await batch(s, input, mode);
        expect([run.exitCode, run.stdout, run.stderr]).toEqual([0, '', '']);
      }
    }
  });
});

describe('tzkv batch: where the operations come from', () => {
  test('FILE, or "-" for stdin; FILE left out is a usage error whatever stdin is, so a loop\'s input is never taken', async () => {
    const s = await storeDir();
    const file = join(await tempDir(), 'ops.txt');
    await writeFile(file, 'put a 1\nget a\n');
    expect((await tzkv(['batch', '-d', s, file])).stdout).toBe('OK\n1\n');
    const none = await tzkv(['batch', '-d', s], { input: 'put b 2\n' });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toBe('tzkv: missing FILE: give a file of operations, or "-" to read them from stdin (… | tzkv batch -)\n');
    expect(await keys(s)).toBe('a\n');
  });

  test('a missing FILE: exit 5 naming it, no store created; an empty FILE name: exit 2', async () => {
    const dir = await tempDir();
    const s = join(dir, 'store');
    const missing = await tzkv(['batch', '-d', s, join(dir, 'nope.txt')]);
    expect(missing.exitCode).toBe(5);
    expect(missing.stderr).toBe(`tzkv: cannot read ${join(dir, 'nope.txt')}: no such file or directory\n`);
    for (const mode of ['--each', '--atomic']) expect((await tzkv(['batch', '-d', s, join(dir, 'nope.txt'), mode])).exitCode).toBe(5);
    expect((await tzkv(['batch', '-d', s, ''])).exitCode).toBe(2);
    expect(existsSync(s)).toBe(false);
  });

  test('empty input creates no store', async () => {
    const s = join(await tempDir(), 'store');
    expect((await tzkv(['batch', '-d', s, '-'], { input: '' })).exitCode).toBe(0);
    expect((await tzkv(['batch', '-d', s, '-', '--each'], { input: '# nothing\n' })).exitCode).toBe(0);
    expect(existsSync(s)).toBe(false);
  });

  test('a `while read` loop writing lines into one batch', async () => {
    const s = await storeDir();
    const dir = await tempDir();
    await writeFile(join(dir, 'users.txt'), 'ada Ada Lovelace\nalan Alan Turing\n-x dash user\n');
    const script = `while read -r id name; do printf 'put "user:%s" "%s"\\n' "$id" "$name"; done < users.txt | "$NODE" "$BIN" batch -d "$STORE" -`;
    const { execa } = await import('execa');
    const { BIN, NODE, childEnv } = await import('./helpers.js');
    const run = await execa('sh', ['-c', script], { cwd: dir, env: childEnv({ NODE, BIN, STORE: s }), extendEnv: false, reject: false });
    expect([run.exitCode, run.stdout]).toEqual([0, 'OK\nOK\nOK']);
    expect((await tzkv(['get', '-d', s, 'user:alan'])).stdout).toBe('Alan Turing');
    expect((await tzkv(['get', '-d', s, 'user:-x'])).stdout).toBe('dash user');
  });

  test('--atomic and --each together are a usage error; --help shows the grammar and examples', async () => {
    const s = await storeDir();
    const both = await tzkv(['batch', '-d', s, '-', '--atomic', '--each'], { input: 'put a 1\n' });
    expect(both.exitCode).toBe(2);
    expect(await keys(s)).toBe('');
    const help = await tzkv(['batch', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('put KEY VALUE [TTL]');
    expect(help.stdout).toContain('--each');
    expect(help.stdout).toMatch(/EXAMPLES/);
  });

  test('a damaged file (a NUL in a word, a cut last line, bytes that are not UTF-8): stored as the bytes are, or refused naming the line', async () => {
    const s = await storeDir();
    const file = join(await tempDir(), 'damaged.txt');
    await writeFile(file, Buffer.from('put a x\x00y\nput b \xff\xfe\nput c "cut', 'latin1'));
    const run = await tzkv(['batch', '-d', s, file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(`tzkv: ${file} line 3: a quoted word is not closed (the " at column 7 has no closing ") (nothing was applied)\n`);
    await writeFile(file, Buffer.from('put a x\x00y\r\nput b \xff\xfe\nget b', 'latin1'));
    const fixed = await tzkv(['batch', '-d', s, file]);
    expect([fixed.exitCode, fixed.stdout]).toEqual([0, 'OK\nOK\n"\\xff\\xfe"\n']);
    // A file an editor began with a UTF-8 byte order mark.
    for (const mode of ['--atomic', '--each']) {
      const bom = await tzkv(['batch', '-d', s, '-', mode], { input: Buffer.from('\xef\xbb\xbfput bom 1\nget bom\n', 'latin1') });
      expect([bom.exitCode, bom.stdout, bom.stderr]).toEqual([0, 'OK\n1\n', '']);
    }
    expect((await tzkv(['get', '-d', s, 'a'])).bytes.equals(Buffer.from('x\x00y', 'latin1'))).toBe(true);
  });
});

describe('tzkv batch on etcd, past one etcd transaction', () => {
  const [, [, etcdStore, etcd]] = backends;
  needsServer(etcd!);

  test('an atomic batch writing 129 keys is refused with exit 2 and nothing written; --each applies it', async () => {
    const s = await etcdStore();
    const input = Array.from({ length: 129 }, (_, i) => `put k${i} v`).join('\n');
    const run = await batch(s, input);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/at most 128 .*writes 129 .*nothing was written; split the input, or apply it line by line with --each/);
    expect(await keys(s)).toBe('');
    const each = await batch(s, input, '--each');
    expect(each.exitCode).toBe(0);
    expect((await keys(s)).split('\n').filter(Boolean)).toHaveLength(129);
    // A batch that only reads has no such limit: its reads are one revision of the store.
    const reads = await batch(s, Array.from({ length: 200 }, (_, i) => `get k${i}`).join('\n'));
    expect(reads.exitCode).toBe(0);
    expect(reads.stdout.split('\n').filter((line) => line === 'v')).toHaveLength(129);
  });
});

describe('tzkv batch under SIGKILL', () => {
  test('killed at random moments while it holds the writer lock: each batch is wholly there or not at all, and the store verifies', async () => {
    const dir = await storeDir();
    const work = await tempDir();
    const seed = 20261206;
    const random = prng(seed);
    /** A batch file of `n` puts under prefix `name:`; the value each gets. */
    const batchFile = async (name: string, n: number) => {
      const file = join(work, `${name}.txt`);
      const value = `${name}:`.padEnd(300, 'v');
      await writeFile(file, Array.from({ length: n }, (_, i) => `put ${name}:${String(i).padStart(6, '0')} ${value}`).join('\n'));
      return { file, value };
    };
    const count = async (name: string) => (await tzkv(['keys', '-d', dir, `${name}:`])).stdout.split('\n').filter(Boolean).length;
    /** Starts a batch and resolves once it holds the writer lock (it has read its input and is applying it), with the child. */
    const started = async (file: string) => {
      const child = tzkvChild(['batch', '-d', dir, file]);
      let ended = false;
      void child.then(() => (ended = true));
      while (!ended && !existsSync(join(dir, 'LOCK'))) await new Promise((r) => setTimeout(r, 1));
      return { child, locked: Date.now() };
    };
    // A batch in memory (one append and fsync) and one large enough to spill to a staging file that becomes a segment.
    // Each runs to the end first, twice (the first may write the code cache): how long it holds the lock is where kills are drawn from.
    const sizes = [20_000, 60_000];
    const holds: number[] = [];
    for (const n of sizes) {
      const { file } = await batchFile(`full${n}`, n);
      let hold = 0;
      for (const _ of [1, 2]) {
        const { child, locked } = await started(file);
        const run = await child;
        hold = Date.now() - locked;
        expect(run.exitCode, String(run.stderr)).toBe(0);
      }
      holds.push(Math.max(hold, 20));
      expect(await count(`full${n}`)).toBe(n);
    }
    const outcomes = { none: 0, all: 0, notKilled: 0 };
    for (let round = 1; round <= 10; round++) {
      const n = sizes[round % 2];
      const name = `r${round}`;
      const { file, value } = await batchFile(name, n);
      const { child } = await started(file);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 1.2 * holds[round % 2])));
      child.kill('SIGKILL');
      const r = await child;
      if (!r.isTerminated) expect(r.exitCode, `round ${round}: ${String(r.stderr)}`).toBe(0);
      const verify = await tzkv(['verify', '-d', dir]);
      expect(verify.exitCode, `round ${round} (seed ${seed}): ${verify.stdout} ${verify.stderr}`).toBe(0);
      const there = await count(name);
      expect([0, n], `round ${round} (seed ${seed}): ${there} of ${n} keys`).toContain(there);
      if (there === n) expect((await tzkv(['get', '-d', dir, `${name}:${String(n - 1).padStart(6, '0')}`])).stdout).toBe(value);
      outcomes[!r.isTerminated ? 'notKilled' : there === 0 ? 'none' : 'all']++;
    }
    // Most runs are killed while they hold the lock, before or after their commit: a run that ended first proves nothing.
    expect(outcomes.none + outcomes.all, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(5);
  }, 300_000);
});
