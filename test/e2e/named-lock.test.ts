// `tzkv lock` (docs/cli.md "lock"), through real processes, on a store
// directory and on a real etcd server: mutual exclusion between concurrent
// holders, a SIGKILLed holder replaced within its TTL, a stale token's release
// refused, giving up after --wait naming the holder, signals passed on to
// COMMAND, and the lock as a plain key. Bad lines and input: named-lock-input.test.ts.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { etcdForFile } from './fixtures/etcd.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';
import { BIN, NODE, childEnv, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const etcdStore = etcdForFile('locks');

/** A store directory with a store in it. */
async function directoryStore(): Promise<string> {
  const dir = await storeDir();
  expect((await tzkv(['put', 'seed', '1', '-d', dir])).exitCode).toBe(0);
  return dir;
}

const backends: Array<[string, () => Promise<string>, ServerNeed | undefined]> = [
  ['a store directory', directoryStore, undefined],
  ['an etcd server', async () => etcdStore(), etcd],
];

interface Held {
  name: string;
  token: string;
  pid: number;
  host: string;
  command: string;
  since: string;
  expiresAt: string;
}

/** Starts `tzkv lock ...` in the background; resolves once its COMMAND has written `ready` (wrapped: a returned promise would be awaited). */
async function startHolder(args: string[], ready: string) {
  // forceKillAfterDelay off: execa's kill('SIGTERM') would otherwise follow with SIGKILL after 5 s, which
  // on a loaded CI machine came before tzkv had released the lock and exited with COMMAND's code.
  const holder = execa(NODE, [BIN, 'lock', ...args], { env: childEnv(), extendEnv: false, reject: false, stdio: 'ignore', forceKillAfterDelay: false });
  for (let i = 0; i < 200 && !existsSync(ready); i++) await sleep(50);
  expect(existsSync(ready), 'COMMAND started').toBe(true);
  return { holder };
}

describe.each(backends)('tzkv lock on %s', (_name, newStore, server) => {
  if (server) needsServer(server);

  test('8 processes × 50 rounds of tzkv lock job -- sh -c ...: zero overlaps, every round ran', async () => {
    const store = await newStore();
    const work = await tempDir();
    // The critical section: mkdir is atomic, so a second holder inside at once fails it and is counted.
    const critical = `mkdir "${work}/inside" 2>/dev/null || echo overlap >> "${work}/overlaps"; echo x >> "${work}/rounds"; sleep 0.01; rmdir "${work}/inside"`;
    const worker = `for i in $(seq 50); do "${NODE}" "${BIN}" lock job --ttl 10s -d "${store}" -- sh -c '${critical}' || echo "exit $?" >> "${work}/failures"; done`;
    await writeFile(join(work, 'overlaps'), '');
    await writeFile(join(work, 'failures'), '');
    await Promise.all(Array.from({ length: 8 }, () => execa('sh', ['-c', worker], { env: childEnv(), extendEnv: false, timeout: 600_000 })));
    expect(await readFile(join(work, 'overlaps'), 'utf8')).toBe('');
    expect(await readFile(join(work, 'failures'), 'utf8')).toBe('');
    expect((await readFile(join(work, 'rounds'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(400);
    expect((await tzkvJson(['lock', 'list', '-d', store])).json).toEqual([]);
  }, 600_000);

  test("passes COMMAND's exit code and output through, and releases the lock at once", async () => {
    const store = await newStore();
    const run = await tzkv(['lock', 'job', '-d', store, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect([run.exitCode, run.stdout, run.stderr]).toEqual([7, 'out\n', 'err\n']);
    // Released, not left to expire: taken again with no wait at all.
    expect((await tzkv(['lock', 'acquire', 'job', '--wait', '0', '-d', store])).exitCode).toBe(0);
    // stdin reaches COMMAND: tzkv lock sits in a pipe.
    const piped = await tzkv(['lock', 'sort', '-d', store, '--', 'sort', '-r'], { input: 'a\nc\nb\n' });
    expect([piped.exitCode, piped.stdout]).toEqual([0, 'c\nb\na\n']);
  });

  test('a SIGKILLed holder is replaced within its TTL; until then a waiter with --wait 0 gets exit 3 naming it', async () => {
    const store = await newStore();
    const work = await tempDir();
    const pidFile = join(work, 'child');
    const { holder } = await startHolder(['job', '--ttl', '2s', '-d', store, '--', 'sh', '-c', `echo $$ > "${pidFile}.tmp"; mv "${pidFile}.tmp" "${pidFile}"; exec sleep 60`], pidFile);
    const held = (await tzkvJson<Held[]>(['lock', 'list', '-d', store])).json;
    expect(held.map((h) => [h.name, h.pid, h.host])).toEqual([['job', holder.pid, hostname()]]);
    holder.kill('SIGKILL');
    await holder;
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');

    const refused = await tzkv(['lock', 'acquire', 'job', '--wait', '0', '-d', store]);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain(`tzkv: lock "job" is held by pid ${holder.pid} on ${hostname()} (tzkv lock job -- sh -c `);
    expect(refused.stderr).toContain('which no longer runs');
    expect(refused.stderr).toContain('gave up after --wait 0');
    expectNoStack(refused);

    const started = Date.now();
    const taken = await tzkvJson<{ name: string; token: string; expiresAt: string }>(['lock', 'acquire', 'job', '--wait', '5s', '-d', store]);
    expect(taken.run.exitCode).toBe(0);
    expect(taken.json.name).toBe('job');
    expect(taken.json.token).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 30_000);

  test('release with a stale token is refused with exit 1 naming the new holder, and leaves it its lock', async () => {
    const store = await newStore();
    const stale = (await tzkv(['lock', 'acquire', 'job', '--ttl', '1s', '-d', store])).stdout.trim();
    const fresh = (await tzkv(['lock', 'acquire', 'job', '--ttl', '1m', '--wait', '10s', '-d', store])).stdout.trim();
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(stale);

    const refused = await tzkv(['lock', 'release', 'job', stale, '-d', store]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`tzkv: lock "job" is not held by token ${stale}: it is held by pid ${process.pid} on ${hostname()} (tzkv lock acquire job)`);
    expectNoStack(refused);
    const list = (await tzkvJson<Held[]>(['lock', 'list', '-d', store])).json;
    expect(list.map((l) => [l.name, l.token])).toEqual([['job', fresh]]);

    expect((await tzkvJson(['lock', 'release', 'job', fresh, '-d', store])).json).toEqual({ name: 'job', released: true });
    expect((await tzkv(['keys', '.tzkv-lock/', '-d', store])).stdout).toBe('');
    const again = await tzkv(['lock', 'release', 'job', fresh, '-d', store]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe(`tzkv: lock "job" is not held by token ${fresh}: nobody holds it (it expired, or was released already)\n`);
  }, 30_000);

  test('--wait gives up after the wait with exit 3 naming the holder: pid, host, command, since', async () => {
    const store = await newStore();
    const acquired = await tzkvJson<{ token: string; expiresAt: string }>(['lock', 'acquire', 'job', '--ttl', '1m', '-d', store]);
    expect(acquired.run.exitCode).toBe(0);
    const [held] = (await tzkvJson<Held[]>(['lock', 'list', '-d', store])).json;
    // lock acquire records the process that ran it (here the test), not its own short-lived pid.
    expect(held).toMatchObject({ name: 'job', token: acquired.json.token, pid: process.pid, host: hostname(), command: 'tzkv lock acquire job' });

    const started = Date.now();
    const waited = await tzkv(['lock', 'job', '--wait', '1s', '-d', store, '--', 'sh', '-c', 'echo ran']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waited.exitCode).toBe(3);
    expect(waited.stdout).toBe(''); // COMMAND never ran
    expect(waited.stderr).toMatch(
      new RegExp(`^tzkv: lock "job" is held by pid ${process.pid} on ${hostname()} \\(tzkv lock acquire job\\) since ${held!.since.replace(/\./g, '\\.')} \\(\\d+s ago\\), until .+ unless renewed; gave up after --wait 1s\n$`),
    );
    const asJson = await tzkvJson<{ error: { code: string; message: string; exitCode: number } }>(['lock', 'acquire', 'job', '--wait', '0', '-d', store]);
    expect(asJson.run.exitCode).toBe(3);
    expect(asJson.json.error).toMatchObject({ code: 'LOCKED', exitCode: 3 });
    expect(asJson.json.error.message).toContain(`is held by pid ${process.pid}`);
    expect((await tzkv(['lock', 'release', 'job', acquired.json.token, '-d', store])).exitCode).toBe(0);
  }, 30_000);

  test('SIGTERM to tzkv lock goes to COMMAND; its exit code comes back and the lock is released', async () => {
    const store = await newStore();
    const work = await tempDir();
    const ready = join(work, 'ready');
    const script = `trap 'echo TERM > "${work}/got"; kill $!; exit 42' TERM; sleep 30 & touch "${ready}"; wait`;
    const { holder } = await startHolder(['job', '-d', store, '--', 'sh', '-c', script], ready);
    holder.kill('SIGTERM');
    const ended = await holder;
    expect({ exitCode: ended.exitCode, signal: ended.signal }).toEqual({ exitCode: 42, signal: undefined });
    expect(await readFile(join(work, 'got'), 'utf8')).toBe('TERM\n');
    expect((await tzkvJson(['lock', 'list', '-d', store])).json).toEqual([]);
  }, 30_000);

  test('the lock is a plain key: keys and export show it, lock list parses it', async () => {
    const store = await newStore();
    const token = (await tzkv(['lock', 'acquire', 'nightly', '--ttl', '10m', '-d', store])).stdout.trim();
    expect((await tzkv(['keys', '.tzkv-lock/', '-d', store])).stdout).toBe('.tzkv-lock/nightly\n');
    const exported = (await tzkvJson<Array<{ key: string; value: string; expiresAt: string }>>(['export', '.tzkv-lock/', '-d', store])).json;
    expect(exported).toHaveLength(1);
    expect(exported[0]!.key).toBe('.tzkv-lock/nightly');
    expect(JSON.parse(exported[0]!.value)).toMatchObject({ token, pid: process.pid, host: hostname(), command: 'tzkv lock acquire nightly', ttlMs: 600_000 });
    const expiresIn = Date.parse(exported[0]!.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThan(602_000);
    const text = await tzkv(['lock', 'list', '-d', store]);
    expect(text.stdout).toMatch(new RegExp(`^nightly\tpid ${process.pid} on ${hostname()} \\(tzkv lock acquire nightly\\)\tsince \\S+Z\texpires \\S+Z\n$`));
    expect((await tzkv(['lock', 'release', 'nightly', token, '-d', store])).exitCode).toBe(0);
    expect((await tzkv(['lock', 'list', '-d', store])).stdout).toBe('');
    expect((await tzkvJson(['lock', 'list', '-d', store])).json).toEqual([]);
  }, 30_000);
});

describe('tzkv lock on a store directory: what other commands see', () => {
  test('stats counts the lock as a key; replicate carries it to a follower, where lock list shows it', async () => {
    const dir = await storeDir();
    await tzkv(['put', 'seed', '1', '-d', dir]);
    const token = (await tzkv(['lock', 'acquire', 'nightly', '--ttl', '10m', '-d', dir])).stdout.trim();
    expect((await tzkvJson<{ keys: number }>(['stats', '-d', dir])).json.keys).toBe(2);
    const follower = join(await tempDir(), 'follower');
    expect((await tzkv(['replicate', '--to', follower, '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', follower])).stdout).toBe('.tzkv-lock/nightly\nseed\n');
    expect((await tzkvJson<Held[]>(['lock', 'list', '-d', follower])).json.map((l) => [l.name, l.token])).toEqual([['nightly', token]]);
    expect((await tzkv(['lock', 'release', 'nightly', token, '-d', dir])).exitCode).toBe(0);
  }, 30_000);
});
