// A `while read` loop feeds lines to a shell that runs tzkv once per line:
// tzkv must read stdin only when told to, or the loop loses lines.

import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, NODE, START_PATHS, childEnv, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

async function shell(script: string, env: Record<string, string>) {
  return execa('bash', ['-c', script], { env: childEnv({ ...env, NODE, BIN }), extendEnv: false, reject: false });
}

describe.each(START_PATHS)('stdin is read only when asked for, by $path', ({ env }) => {
  test('a loop of puts whose VALUE is left out: each put is a usage error, and the loop keeps its lines', async () => {
    const dir = await storeDir();
    const run = await shell('printf "x\\ny\\nz\\n" | while read k; do "$NODE" "$BIN" put -d "$DIR" "$k" $EMPTY; echo "$k: $?"; done', { ...env, DIR: dir });
    expect(run.stdout).toBe('x: 2\ny: 2\nz: 2');
    expect(run.stderr).toBe('tzkv: missing VALUE: give it as an argument, "-" to read stdin, or --file PATH\n'.repeat(3).trimEnd());
    expect(existsSync(dir)).toBe(false);
  });

  test('put KEY - and put KEY --file - read stdin, byte for byte', async () => {
    const dir = await storeDir();
    const bytes = Buffer.from([0, 255, 10, 13]);
    expect((await tzkv(['put', '-d', dir, 'a', '-'], { env, input: bytes })).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', dir, 'b', '--file', '-'], { env, input: bytes })).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', dir, 'c', '-f', '-'], { env, input: '' })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'a'], { env })).bytes).toEqual(bytes);
    expect((await tzkv(['get', '-d', dir, 'b'], { env })).bytes).toEqual(bytes);
    expect((await tzkv(['get', '-d', dir, 'c'], { env })).stdout).toBe('');
  });

  test('put without VALUE, with stdin piped or not: exit 2, nothing stored', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
    for (const input of ['piped value', '']) {
      const run = await tzkv(['put', '-d', dir, 'k', '--json'], { env, input });
      expect(run.exitCode).toBe(2);
      expect(JSON.parse(run.stdout).error.code).toBe('INVALID_ARGUMENT');
    }
    expect((await tzkv(['get', '-d', dir, 'k'], { env })).stdout).toBe('v');
  });

  test('import reads stdin only for FILE "-"; without FILE it is a usage error and reads nothing', async () => {
    const dir = await storeDir();
    const run = await shell('echo \'{"key":"x","value":"y"}\' | { "$NODE" "$BIN" import -d "$DIR"; echo "exit $?"; cat; }', { ...env, DIR: dir });
    expect(run.stdout).toBe('exit 2\n{"key":"x","value":"y"}');
    expect(run.stderr).toBe('tzkv: missing FILE: give a file, or "-" to read stdin');
    expect(existsSync(dir)).toBe(false);
    const piped = await shell('echo \'{"key":"x","value":"y"}\' | "$NODE" "$BIN" import -d "$DIR" -', { ...env, DIR: dir });
    expect(piped.exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'x'], { env })).stdout).toBe('y');
  });
});

describe('stdin', () => {
  test('a while-read loop of puts stores every line', async () => {
    const dir = await storeDir();
    const file = join(await tempDir(), 'pairs.txt');
    const pairs = Array.from({ length: 8 }, (_, i) => [`key${i}`, `value ${i}`]);
    await writeFile(file, pairs.map(([k, v]) => `${k} ${v}\n`).join(''));
    const run = await shell('while read -r k v; do "$NODE" "$BIN" put -d "$DIR" "$k" "$v" || exit 1; done < "$FILE"', { DIR: dir, FILE: file });
    expect(run.exitCode).toBe(0);
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(pairs.map(([k]) => k));
    for (const [k, v] of pairs) expect((await tzkv(['get', '-d', dir, k])).stdout).toBe(v);
  });

  test('commands whose optional arguments are left out do not eat the loop\'s lines', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v', '--ttl', '1h']);
    const file = join(await tempDir(), 'lines.txt');
    await writeFile(file, 'one\ntwo\nthree\n');
    const commands = ['keys', 'export', 'stats', 'verify', 'ttl -d "$DIR" k', 'get -d "$DIR" k', 'del -d "$DIR" nothing', 'compact --dry-run'];
    for (const command of commands) {
      const call = command.includes('"$DIR"') ? `"$NODE" "$BIN" ${command}` : `"$NODE" "$BIN" ${command} -d "$DIR"`;
      const run = await shell(`while read -r line; do ${call} > /dev/null || exit 1; echo "$line"; done < "$FILE"`, { DIR: dir, FILE: file });
      expect(run.exitCode, command).toBe(0);
      expect(run.stdout, command).toBe('one\ntwo\nthree');
    }
  });

  test('output to a pipe closed early ends quietly', async () => {
    const dir = await storeDir();
    const input = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ key: `k${i}:${'p'.repeat(60)}`, value: 'x'.repeat(100) })).join('\n');
    await tzkv(['import', '-d', dir, '-'], { input });
    const run = await shell('"$NODE" "$BIN" export -d "$DIR" | head -n 1; exit "${PIPESTATUS[0]}"', { DIR: dir });
    expect(run.stdout).toMatch(/^\{"key":"k0:p/);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    // keys and get take the fast path (src/cli/fast.ts): the same there. 5000 keys are over 300 KB, past a pipe's buffer.
    const keys = await shell('"$NODE" "$BIN" keys -d "$DIR" | head -n 1; exit "${PIPESTATUS[0]}"', { DIR: dir, TZKV_TRACE_STARTUP: '1' });
    expect(keys.stdout).toBe(`k0:${'p'.repeat(60)}`);
    expect(keys.stderr).toMatch(/^tzkv start-up: [^\n]*fast path[^\n]*$/);
    expect(keys.exitCode).toBe(0);
    await tzkv(['put', '-d', dir, 'big', '--file', '-'], { input: Buffer.alloc(4 * 1024 * 1024, 'y') });
    const get = await shell('"$NODE" "$BIN" get -d "$DIR" big | head -c 3; exit "${PIPESTATUS[0]}"', { DIR: dir });
    expect(get).toMatchObject({ stdout: 'yyy', stderr: '', exitCode: 0 });
  });
});
