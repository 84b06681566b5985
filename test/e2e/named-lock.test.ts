// `tzkv lock` (docs/cli.md "lock"), through real processes: mutual exclusion
// between concurrent holders, a SIGKILLed holder replaced within its TTL, and
// a stale token's release refused.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { BIN, NODE, childEnv, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tzkv lock', () => {
  test('8 processes × 50 rounds of tzkv lock job -- sh -c ...: zero overlaps, every round ran', async () => {
    const dir = await storeDir();
    const work = await tempDir();
    expect((await tzkv(['put', 'seed', '1', '-d', dir])).exitCode).toBe(0);
    // The critical section: mkdir is atomic, so a second holder inside at once fails it and is counted.
    const critical = `mkdir "${work}/inside" 2>/dev/null || echo overlap >> "${work}/overlaps"; echo x >> "${work}/rounds"; sleep 0.01; rmdir "${work}/inside"`;
    const worker = `for i in $(seq 50); do "${NODE}" "${BIN}" lock job --ttl 10s -d "${dir}" -- sh -c '${critical}' || echo "exit $?" >> "${work}/failures"; done`;
    await writeFile(join(work, 'overlaps'), '');
    await writeFile(join(work, 'failures'), '');
    await Promise.all(Array.from({ length: 8 }, () => execa('sh', ['-c', worker], { env: childEnv(), extendEnv: false, timeout: 600_000 })));
    expect(await readFile(join(work, 'overlaps'), 'utf8')).toBe('');
    expect(await readFile(join(work, 'failures'), 'utf8')).toBe('');
    expect((await readFile(join(work, 'rounds'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(400);
    expect((await tzkvJson(['lock', 'list', '-d', dir])).json).toEqual([]);
  }, 600_000);

  test("passes COMMAND's exit code through and releases the lock", async () => {
    const dir = await storeDir();
    const run = await tzkv(['lock', 'job', '-d', dir, '--', 'sh', '-c', 'exit 7']);
    expect(run.exitCode).toBe(7);
    expect((await tzkv(['lock', 'acquire', 'job', '--wait', '0', '-d', dir])).exitCode).toBe(0);
  });

  test('a SIGKILLed holder is replaced within its TTL; until then a waiter with --wait 0 gets exit 3 naming it', async () => {
    const dir = await storeDir();
    const work = await tempDir();
    const pidFile = join(work, 'child');
    const holder = execa(NODE, [BIN, 'lock', 'job', '--ttl', '2s', '-d', dir, '--', 'sh', '-c', `echo $$ > "${pidFile}"; exec sleep 60`], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      stdio: 'ignore', // the orphaned sleep would hold a pipe open
    });
    let held: Array<{ pid: number }> = [];
    for (let i = 0; i < 200 && held.length === 0; i++) {
      await sleep(50);
      held = (await tzkvJson<Array<{ pid: number }>>(['lock', 'list', '-d', dir])).json;
    }
    expect(held).toHaveLength(1);
    expect(held[0]!.pid).toBe(holder.pid);
    holder.kill('SIGKILL');
    await holder;
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(child, 'SIGKILL');

    const refused = await tzkv(['lock', 'acquire', 'job', '--wait', '0', '-d', dir]);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain(`lock "job" is held by pid ${holder.pid}`);
    expectNoStack(refused);

    const started = Date.now();
    const taken = await tzkvJson<{ token: string }>(['lock', 'acquire', 'job', '--wait', '5s', '-d', dir]);
    expect(taken.run.exitCode).toBe(0);
    expect(taken.json.token).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 30_000);

  test('release with a stale token is refused with exit 1 and leaves the new holder its lock', async () => {
    const dir = await storeDir();
    const stale = (await tzkv(['lock', 'acquire', 'job', '--ttl', '1s', '-d', dir])).stdout.trim();
    const fresh = (await tzkv(['lock', 'acquire', 'job', '--ttl', '1m', '--wait', '10s', '-d', dir])).stdout.trim();
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(stale);

    const refused = await tzkv(['lock', 'release', 'job', stale, '-d', dir]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`lock "job" is not held by token ${stale}`);
    expectNoStack(refused);
    const list = (await tzkvJson<Array<{ name: string; token: string }>>(['lock', 'list', '-d', dir])).json;
    expect(list.map((l) => [l.name, l.token])).toEqual([['job', fresh]]);

    expect((await tzkvJson(['lock', 'release', 'job', fresh, '-d', dir])).json).toEqual({ name: 'job', released: true });
    expect((await tzkv(['keys', '.tzkv-lock/', '-d', dir])).stdout).toBe('');
  }, 30_000);
});
