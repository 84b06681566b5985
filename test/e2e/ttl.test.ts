import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { expectNoStack, storeDir, tzkv, tzkvJson } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('expiry', () => {
  test.each([
    ['60', 60],
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    ['2d', 172800],
  ])('--ttl %s gives a time to live of %i seconds', async (ttl, seconds) => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v', '--ttl', ttl])).exitCode).toBe(0);
    const run = await tzkv(['ttl', '-d', dir, 'k']);
    expect(run.exitCode).toBe(0);
    // Whole seconds, rounded up: at most one second has passed since the put.
    expect(Number(run.stdout.trim())).toBeGreaterThanOrEqual(seconds - 1);
    expect(Number(run.stdout.trim())).toBeLessThanOrEqual(seconds);
  });

  test.each(['5x', '0', '-1', '1.5h', '10 m', 'ms', '', 'soon', '1e3', '99999999999999999999d'])(
    'a bad --ttl %j is rejected with exit 2 and nothing is stored',
    async (ttl) => {
      const dir = await storeDir();
      const run = await tzkv(['put', '-d', dir, 'k', 'v', `--ttl=${ttl}`]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/--ttl/);
      expect(run.stdout).toBe('');
      expectNoStack(run);
      expect(existsSync(dir)).toBe(false);
    },
  );

  test('a bad duration in ttl KEY DURATION is rejected and the expiry unchanged', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const run = await tzkv(['ttl', '-d', dir, 'k', '3 days']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/DURATION "3 days"/);
    expect((await tzkv(['ttl', '-d', dir, 'k'])).stdout).toBe('-1\n');
  });

  test('--ttl and --expire-at together is a usage error', async () => {
    const dir = await storeDir();
    const run = await tzkv(['put', '-d', dir, 'k', 'v', '--ttl', '1m', '--expire-at', '2099-01-01T00:00:00Z']);
    expect(run.exitCode).toBe(2);
    expect(existsSync(dir)).toBe(false);
  });

  test('--expire-at takes an ISO time or epoch seconds', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'iso', 'v', '--expire-at', '2099-01-02T03:04:05Z']);
    await tzkv(['put', '-d', dir, 'epoch', 'v', '--expire-at', '4070908800']);
    expect((await tzkvJson(['get', '-d', dir, 'iso'])).json).toMatchObject({ expiresAt: '2099-01-02T03:04:05.000Z' });
    expect((await tzkvJson(['get', '-d', dir, 'epoch'])).json).toMatchObject({ expiresAt: '2099-01-01T00:00:00.000Z' });
  });

  test('--expire-at in the past or malformed is rejected', async () => {
    const dir = await storeDir();
    for (const bad of ['2001-01-01T00:00:00Z', '1000', 'tomorrow', '2099-13-45']) {
      const run = await tzkv(['put', '-d', dir, 'k', 'v', '--expire-at', bad]);
      expect(run.exitCode, bad).toBe(2);
    }
    expect(existsSync(dir)).toBe(false);
  });

  test('ttl: -1 for a key that never expires, exit 1 for a missing key', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'forever', 'v']);
    expect(await tzkv(['ttl', '-d', dir, 'forever'])).toMatchObject({ exitCode: 0, stdout: '-1\n' });
    expect((await tzkvJson(['ttl', '-d', dir, 'forever'])).json).toEqual({ key: 'forever', ttl: -1, expiresAt: null });
    const missing = await tzkv(['ttl', '-d', dir, 'missing']);
    expect(missing).toMatchObject({ exitCode: 1, stdout: '' });
  });

  test('ttl KEY DURATION sets an expiry; --persist removes it', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const set = await tzkvJson<{ ttl: number; expiresAt: string }>(['ttl', '-d', dir, 'k', '30m']);
    expect(set.run.exitCode).toBe(0);
    expect(set.json.ttl).toBe(1800);
    expect(Date.parse(set.json.expiresAt) - Date.now()).toBeGreaterThan(1790_000);
    expect(Number((await tzkv(['ttl', '-d', dir, 'k'])).stdout)).toBeGreaterThan(1790);
    expect(await tzkv(['ttl', '-d', dir, 'k', '--persist'])).toMatchObject({ exitCode: 0, stdout: '-1\n' });
    expect((await tzkv(['ttl', '-d', dir, 'k'])).stdout).toBe('-1\n');
    expect((await tzkv(['ttl', '-d', dir, 'missing', '10s'])).exitCode).toBe(1);
    expect((await tzkv(['ttl', '-d', dir, 'missing', '--persist'])).exitCode).toBe(1);
    expect((await tzkv(['ttl', '-d', dir, 'k', '10s', '--persist'])).exitCode).toBe(2);
  });

  test('a key is gone once its time is up', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'short', 'v', '--ttl', '300ms']);
    await tzkv(['put', '-d', dir, 'long', 'v', '--ttl', '1h']);
    await sleep(600);
    expect(await tzkv(['get', '-d', dir, 'short'])).toMatchObject({ exitCode: 1, stdout: '' });
    expect((await tzkv(['ttl', '-d', dir, 'short'])).exitCode).toBe(1);
    expect((await tzkvJson(['keys', '-d', dir])).json).toEqual(['long']);
  });

  describe.each([
    ['fast path', {}],
    ['oclif', { TZKV_NO_FAST_PATH: '1' }],
  ])('an expiry after 9999-12-31T23:59:59.999Z (%s)', (_, env) => {
    const LIMIT = /after 9999-12-31T23:59:59\.999Z, the latest expiry tzkv stores/;

    test('is a usage error from put --ttl and ttl KEY DURATION; nothing changes', async () => {
      const dir = await storeDir();
      await tzkv(['put', '-d', dir, 'k', 'v'], { env });
      for (const line of [
        ['put', '-d', dir, 'k', 'w', '--ttl', '999999999999'],
        ['put', '-d', dir, 'new', 'w', '--ttl', '3000000d', '--json'],
        ['ttl', '-d', dir, 'k', '999999999999'],
      ]) {
        const run = await tzkv(line, { env });
        expect(run.exitCode, line.join(' ')).toBe(2);
        expect(run.stderr, line.join(' ')).toMatch(LIMIT);
        expect(run.stderr).toMatch(/^tzkv: invalid (--ttl|DURATION) "/);
        expectNoStack(run);
      }
      expect((await tzkvJson(['export', '-d', dir])).json).toEqual([{ key: 'k', value: 'v', expiresAt: null }]);
    });

    test('is a usage error from --expire-at and import; an expiry just before it is kept as ISO 8601', async () => {
      const dir = await storeDir();
      await tzkv(['put', '-d', dir, 'k', 'v'], { env });
      for (const at of ['999999999999', '253402300800']) {
        for (const line of [
          ['put', '-d', dir, 'k', 'w', '--expire-at', at],
          ['ttl', '-d', dir, 'k', '--expire-at', at],
        ]) {
          const run = await tzkv(line, { env });
          expect(run.exitCode, line.join(' ')).toBe(2);
          expect(run.stderr, line.join(' ')).toMatch(LIMIT);
        }
      }
      const imported = await tzkv(['import', '-d', dir, '-'], { input: '{"key":"a","value":"1"}\n{"key":"b","value":"2","expiresAt":"+033715-09-02T01:18:06.613Z"}\n' });
      expect(imported.exitCode).toBe(2);
      expect(imported.stderr).toMatch(/line 2: "expiresAt" is after 9999-12-31T23:59:59\.999Z/);
      expect((await tzkvJson(['export', '-d', dir])).json).toEqual([{ key: 'k', value: 'v', expiresAt: null }]);
      expect((await tzkv(['put', '-d', dir, 'k', 'w', '--expire-at', '253402300799'], { env })).exitCode).toBe(0);
      expect((await tzkvJson(['get', '-d', dir, 'k'], { env })).json).toMatchObject({ expiresAt: '9999-12-31T23:59:59.000Z' });
    });
  });
});
