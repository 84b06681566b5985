// A writer taking the lock removes what interrupted writes left
// (docs/format.md "Recovery rules" 1), but never a temp file a running
// process is about to rename or link into place: a `tzkv verify`'s
// VERIFIED.PID.tmp (verify runs without the lock) and a waiting writer's
// LOCK.TOKEN.tmp. Once that process is gone, the next writer removes them.
import { execa } from 'execa';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { storeDir, tzkv, tzkvJson } from './helpers.js';
import { startTimeOf } from './fixtures/processes.js';

describe('temp files of a running process', () => {
  test("a put keeps a running process's VERIFIED.PID.tmp and LOCK.TOKEN.tmp, verify does not call them leftovers; once it exits a put removes them", async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v1'])).exitCode).toBe(0);
    const other = execa('sleep', ['60'], { reject: false });
    const pid = other.pid!;
    const verifiedTemp = join(dir, `VERIFIED.${pid}.tmp`);
    const lockTemp = join(dir, 'LOCK.0a1b2c3d4e5f.tmp');
    try {
      writeFileSync(verifiedTemp, '{"verifiedAt":"2026-11-29T17:00:00.000Z","ok":true,"problems":0,"bytes":0,"durationMs":1}\n');
      const holder = { pid, host: hostname(), startTime: startTimeOf(pid), acquiredAt: new Date().toISOString(), command: 'tzkv import', token: '0a1b2c3d4e5f' };
      writeFileSync(lockTemp, JSON.stringify(holder) + '\n');
      expect((await tzkv(['put', '-d', dir, 'k', 'v2'])).exitCode).toBe(0);
      expect(existsSync(verifiedTemp), 'the running verify’s note').toBe(true);
      expect(existsSync(lockTemp), 'the waiting writer’s lock file').toBe(true);
      const { json } = await tzkvJson<{ ok: boolean; warnings: Array<{ file: string }> }>(['verify', '-d', dir]);
      expect(json.ok).toBe(true);
      expect(json.warnings.map((w) => w.file)).toEqual([]);
    } finally {
      other.kill('SIGKILL');
      await other;
    }
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect((await tzkv(['put', '-d', dir, 'k', 'v3'])).exitCode).toBe(0);
    expect(existsSync(verifiedTemp)).toBe(false);
    expect(existsSync(lockTemp)).toBe(false);
  });
});
