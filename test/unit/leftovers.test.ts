// What a writer removes when it takes the lock (src/engine/files/leftovers.ts,
// docs/format.md "Recovery rules" 1): a temp file whose writer still runs is
// not a leftover. A verify's VERIFIED.PID.tmp is kept while PID lives; a
// lock's LOCK.TOKEN.tmp while the holder it records lives (it is renamed or
// linked into place a moment later); a dead process's are removed.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeLeftovers } from '../../src/engine/files/leftovers.js';
import { realFs } from '../../src/io/fs.js';
import { FakeProcesses } from '../helpers/fake-processes.js';
import { tempDir } from '../helpers/temp-store.js';

const LIVE = 4242;
const DEAD = 4343;

/** Writes each name into a new directory, removes the leftovers as a writer of a store without a manifest would, and returns what is still there. */
function afterRemoval(files: Record<string, string>, processes: FakeProcesses): string[] {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  removeLeftovers(realFs, dir, null, processes);
  return Object.keys(files).filter((name) => existsSync(join(dir, name)));
}

/** A lock's private file, as WriterLock writes it before linking it to LOCK. */
const lockTemp = (holder: { pid: number; host: string; startTime: string }, token: string) =>
  JSON.stringify({ ...holder, acquiredAt: new Date().toISOString(), command: 'tzkv put', token }) + '\n';

describe('removeLeftovers and the temp files of a running process', () => {
  it("keeps a live verify's VERIFIED.PID.tmp, removes a dead one's and this process's own (it writes the note without yielding)", () => {
    const processes = new FakeProcesses().start(LIVE);
    const kept = afterRemoval({ [`VERIFIED.${LIVE}.tmp`]: '{}', [`VERIFIED.${DEAD}.tmp`]: '{}', [`VERIFIED.${process.pid}.tmp`]: '{}', 'VERIFIED.tmp': '{}' }, processes);
    expect(kept).toEqual([`VERIFIED.${LIVE}.tmp`]);
    processes.exit(LIVE);
    expect(afterRemoval({ [`VERIFIED.${LIVE}.tmp`]: '{}' }, processes)).toEqual([]);
  });

  it('keeps a LOCK.TOKEN.tmp while the holder it records lives (or is on another host), removes a dead, recycled or unreadable one', () => {
    const processes = new FakeProcesses().start(LIVE).start(DEAD);
    const dead = processes.identity(DEAD);
    processes.exit(DEAD);
    const recycled = { ...processes.identity(LIVE), startTime: 'an earlier process' };
    const files = {
      'LOCK.00000001.tmp': lockTemp(processes.identity(LIVE), '00000001'),
      'LOCK.00000002.tmp': lockTemp({ pid: 7, host: 'other-host', startTime: '1' }, '00000002'),
      'LOCK.00000003.tmp': lockTemp(dead, '00000003'),
      'LOCK.00000004.tmp': lockTemp(recycled, '00000004'),
      'LOCK.00000005.tmp': lockTemp(processes.identity(process.pid), '00000005'),
      'LOCK.00000006.tmp': '',
      'LOCK.00000007.tmp': '{"pid":',
    };
    expect(afterRemoval(files, processes)).toEqual(['LOCK.00000001.tmp', 'LOCK.00000002.tmp']);
    processes.exit(LIVE);
    expect(afterRemoval({ 'LOCK.00000001.tmp': lockTemp({ pid: LIVE, host: 'this-host', startTime: `started-${LIVE}` }, '00000001') }, processes)).toEqual([]);
  });
});
