// The suite's rule for tests that need a server from Debian
// (test/helpers/servers.ts), run as `npm test` runs it: a child vitest over
// test/fixtures/needs-server with etcd hidden from PATH, or a stand-in etcd on it.
import { execa } from 'execa';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { onPath, serverNeed } from '../helpers/servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const config = join(root, 'test', 'fixtures', 'needs-server', 'vitest.config.ts');

/**
 * A PATH of one folder holding only node and, when asked, a stand-in `etcd`:
 * node's own folder may hold the real etcd (/usr/bin), so it is not on it.
 */
function pathWith(fakeEtcd: boolean): string {
  const bin = mkdtempSync(join(tmpdir(), 'tzkv-path-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  if (fakeEtcd) {
    writeFileSync(join(bin, 'etcd'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'etcd'), 0o755);
  }
  return bin;
}

async function childSuite(env: Record<string, string>) {
  const run = await execa(process.execPath, [vitest, 'run', '--config', config], {
    cwd: root,
    env: { ...env, NO_COLOR: '1', CI: '1' },
    extendEnv: false,
    reject: false,
    all: true,
  });
  return { exitCode: run.exitCode, out: run.all ?? '' };
}

describe('tests that need a server', () => {
  test('absent: skipped, and the last line of the output names the binary and its install command; exit 0', async () => {
    const run = await childSuite({ PATH: pathWith(false) });
    expect(run.exitCode).toBe(0);
    expect(run.out).toMatch(/1 passed \| 2 skipped|2 skipped \| 1 passed|1 passed.*2 skipped/);
    const last = run.out.trimEnd().split('\n').at(-1);
    expect(last).toBe('skipped 2 tests: needs etcd, which is not on PATH; install it with `apt-get install -y etcd-server`');
  });

  test('absent with TZKV_REQUIRE_SERVERS=1 (as .ci/run sets it): both fail, naming the binary; exit 1', async () => {
    const run = await childSuite({ PATH: pathWith(false), TZKV_REQUIRE_SERVERS: '1' });
    expect(run.exitCode).toBe(1);
    expect(run.out).toMatch(/2 failed/);
    expect(run.out).toContain('TZKV_REQUIRE_SERVERS=1, but this test needs etcd, which is not on PATH');
    expect(run.out).not.toMatch(/^skipped /m);
  });

  test('present: the gated tests run (and pass only because they ran); nothing is reported skipped', async () => {
    const run = await childSuite({ PATH: pathWith(true), TZKV_REQUIRE_SERVERS: '1' });
    expect(run.exitCode).toBe(0);
    expect(run.out).toMatch(/3 passed/);
    expect(run.out).not.toMatch(/^skipped /m);
  });

  test('onPath looks for an executable file, not a folder or a file without the x bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tzkv-path-'));
    writeFileSync(join(dir, 'plain'), 'x');
    chmodSync(join(dir, 'plain'), 0o644);
    expect(onPath('plain', dir)).toBe(false);
    expect(onPath('tmp', dirname(dir))).toBe(false); // a folder named like the binary
    expect(onPath('node', `/nonexistent:${dirname(process.execPath)}`)).toBe(true);
    expect(serverNeed('etcd', 'x', { PATH: dir }).present).toBe(false);
  });
});
