import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

interface Report {
  initial: boolean;
  filesShipped: number;
  bytesShipped: number;
  position: { generation: number; segment: number; offset: number };
}

describe('replicate and promote', () => {
  test('a follower gets every key and expiry; writes are refused until promote', async () => {
    const dir = await storeDir();
    const follower = join(await tempDir(), 'follower');
    await tzkv(['put', '-d', dir, 'a', '1']);
    await tzkv(['put', '-d', dir, 'bin', '-'], { input: Buffer.from([0, 255, 1]) });
    await tzkv(['put', '-d', dir, 'soon', 'x', '--ttl', '1h']);
    const first = await tzkvJson<Report>(['replicate', '-d', dir, '--to', follower]);
    expect(first.run.exitCode).toBe(0);
    expect(first.json).toMatchObject({ initial: true });
    expect(first.json.bytesShipped).toBeGreaterThan(0);
    const leaderExport = await tzkv(['export', '-d', dir]);
    const followerExport = await tzkv(['export', '-d', follower]);
    expect(followerExport.stdout).toBe(leaderExport.stdout);
    expect((await tzkv(['verify', '-d', follower])).exitCode).toBe(0);

    await tzkv(['put', '-d', dir, 'a', '2']);
    const second = await tzkvJson<Report>(['replicate', '-d', dir, '--to', follower]);
    expect(second.json.initial).toBe(false);
    expect((await tzkv(['get', '-d', follower, 'a'])).stdout).toBe('2');

    const refused = await tzkv(['put', '-d', follower, 'b', '1']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/is a follower of .*tzkv promote/);
    expectNoStack(refused);
    expect((await tzkv(['promote', '-d', follower])).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', follower, 'b', '1'])).exitCode).toBe(0);
    const notFollower = await tzkv(['promote', '-d', follower]);
    expect(notFollower.exitCode).toBe(1);
    expect(notFollower.stderr).toContain('is not a follower');
    const overwrite = await tzkv(['replicate', '-d', dir, '--to', follower]);
    expect(overwrite.exitCode).toBe(5);
    expect(overwrite.stderr).toContain('independent tzkv store');
  });

  test('text output names the follower and what was shipped; --to is required', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const follower = await tempDir();
    const run = await tzkv(['replicate', '-d', dir, '--to', follower]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`follower: ${follower}`);
    expect(run.stdout).toMatch(/^bytes shipped: \d+$/m);
    const missing = await tzkv(['replicate', '-d', dir]);
    expect(missing.exitCode).toBe(2);
  });

  test('a follower segment cut short says how to get it back, and the next replicate does', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'a', '1']);
    await tzkv(['put', '-d', dir, 'b', '2']);
    const follower = join(await tempDir(), 'follower');
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    truncateSync(join(follower, '00000001.tzds'), 40);
    const damaged = await tzkv(['verify', '-d', follower]);
    expect(damaged.exitCode).toBe(4);
    expect(damaged.stdout + damaged.stderr).toMatch(/00000001\.tzds offset \d+: file is \d+ bytes, shorter than the follower's cut at \d+; the next replicate from the leader copies it again/);
    expect((await tzkv(['replicate', '-d', dir, '--to', follower])).exitCode).toBe(0);
    expect((await tzkv(['verify', '-d', follower])).exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', follower])).stdout).toBe('a\nb\n');
  });
});
