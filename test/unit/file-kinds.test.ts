// The one classifier of names in a store directory (src/engine/files/file-kinds.ts):
// every name the store writes is one of its kinds, and names that only look
// like one are not tzkv's.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileKind, isTzkvFile, leftoverUnlessListed } from '../../src/engine/files/file-kinds.js';
import type { FileKind } from '../../src/engine/files/file-kinds.js';
import { compactFileName, runName, segmentName, stageFileName } from '../../src/engine/files/layout.js';
import { RUN_EXT, SEGMENT_EXT, TTL_SCRATCH_EXT } from '../../src/format/constants.js';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';
import { open } from '../../src/local/local-store.js';
import { initStore } from '../../src/local/init-store.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';

describe('fileKind', () => {
  it('names the kind, file number and process of every name tzkv writes', () => {
    const table: Array<[string, FileKind, number, number]> = [
      ['MANIFEST', 'manifest', 0, 0],
      ['MANIFEST.tmp', 'manifest-temp', 0, 0],
      ['KEYRING', 'keyring', 0, 0],
      ['KEYRING.tmp', 'keyring-temp', 0, 0],
      [segmentName(7), 'segment', 7, 0],
      [segmentName(0xffffffff), 'segment', 0xffffffff, 0],
      [`${segmentName(7)}.tmp`, 'segment-temp', 7, 0],
      [runName(12), 'run', 12, 0],
      [`${runName(12)}.tmp`, 'run-temp', 12, 0],
      ['LOCK', 'lock', 0, 0],
      ['LOCK.break', 'lock-break', 0, 0],
      ['LOCK.0123456789abcdef.tmp', 'lock-temp', 0, 0],
      [stageFileName(4242, 'a1b2c3'), 'stage', 0, 4242],
      [compactFileName(77, 9, SEGMENT_EXT), 'compaction-output', 9, 77],
      [compactFileName(77, 10, RUN_EXT), 'compaction-output', 10, 77],
      [compactFileName(77, 10, TTL_SCRATCH_EXT), 'ttl-scratch', 10, 77],
      ['REPLICATING', 'replicating', 0, 0],
      ['REPLICATING.tmp', 'replicating-temp', 0, 0],
      ['VERIFIED', 'verified', 0, 0],
      ['VERIFIED.31337.tmp', 'verified-temp', 0, 31337],
      ['VERIFIED.tmp', 'verified-temp', 0, 0],
      ['QUARANTINE-2026-11-29T17-00-00-000Z.tzq', 'quarantine', 0, 0],
      ['QUARANTINE-2026-11-29T17-00-00-000Z-2.tzq', 'quarantine', 0, 0],
      ['QUARANTINE-2026-11-29T17-00-00-000Z.tzq.tmp', 'quarantine-temp', 0, 0],
      ['followers', 'followers', 0, 0],
      ['followers/0123456789abcdef.json', 'follower-record', 0, 0],
      ['followers/0123456789abcdef.json.tmp', 'follower-record-temp', 0, 0],
      ['notes.tmp', 'other-temp', 0, 0],
    ];
    for (const [name, kind, file, pid] of table) {
      const f = fileKind(name);
      expect({ name, kind: f.kind, file: f.file, pid: f.pid, temp: f.temp }).toEqual({ name, kind, file, pid, temp: name.endsWith('.tmp') });
    }
  });

  it('does not take names that only look like tzkv files for its own', () => {
    const foreign = [
      'manifest',
      'MANIFEST.bak',
      'keyring',
      'KEYRING.old',
      'LOCK.break.old',
      '0000001.tzds', // 7 digits
      '00000000.tzds', // file 0
      '99999999999.tzds', // 11 digits
      '00000001.tzds.bak',
      '00000001.TZDS',
      '00000001.ttl', // TTL scratch only under a compaction's name
      'compact-12-00000001.tzds', // a compaction's output without .tmp
      'stage-12-abc', // a staging file without .tmp
      'VERIFIED.123',
      'VERIFIED.json',
      'QUARANTINE.tzq',
      'quarantine-2026.tzq',
      'QUARANTINE-2026.tzq.bak',
      'followers.json',
      'followers/notes.txt',
      'followers/0123456789ABCDEF.json',
      'followers/0123456789abcde.json',
      'other/0123456789abcdef.json',
      'REPLICATING.old',
    ];
    for (const name of foreign) expect(`${name}: ${fileKind(name).kind}`).toBe(`${name}: foreign`);
    const otherTemp = [
      'LOCK.tmp',
      'LOCK.break.tmp',
      'LOCK.token-xyz.tmp',
      'stage-0-abc.tmp', // pid 0
      'stage-12-xyz.tmp', // not hex
      'compact-0-00000001.tzds.tmp', // pid 0
      'compact-12-0000001.tzds.tmp',
      'compact-12-00000001.tzq.tmp',
      'MANIFEST.tmp.tmp',
      'VERIFIED.12a.tmp',
      '00000001.ttl.tmp',
      'followers.tmp',
    ];
    for (const name of otherTemp) expect(`${name}: ${fileKind(name).kind}`).toBe(`${name}: other-temp`);
    for (const name of [...foreign, ...otherTemp]) expect(isTzkvFile(fileKind(name)), name).toBe(false);
  });

  it('takes segments, runs and every *.tmp for leftovers when no manifest lists them, nothing else', () => {
    const leftovers = [segmentName(3), runName(4), 'MANIFEST.tmp', 'KEYRING.tmp', stageFileName(1, 'ab'), compactFileName(1, 5, RUN_EXT), 'notes.tmp', 'LOCK.ab.tmp'];
    const kept = ['MANIFEST', 'KEYRING', 'LOCK', 'LOCK.break', 'VERIFIED', 'REPLICATING', 'QUARANTINE-x.tzq', 'followers', 'notes.txt', '00000001.ttl'];
    for (const name of leftovers) expect(leftoverUnlessListed(fileKind(name)), name).toBe(true);
    for (const name of kept) expect(leftoverUnlessListed(fileKind(name)), name).toBe(false);
  });

  it('knows every name a store, its verify, repair, compaction and replication write', async () => {
    const leader = tempDir();
    const follower = join(tempDir(), 'follower');
    const encrypted = tempDir();
    const made = new Set<string>();
    const note = (path: string) => {
      for (const dir of [leader, follower, encrypted]) if (path.startsWith(`${dir}/`)) made.add(relative(dir, path));
    };
    const fs: FileSystem = {
      ...realFs,
      createExclusive: (path) => (note(path), realFs.createExclusive(path)),
      createTruncate: (path) => (note(path), realFs.createTruncate(path)),
      rename: (from, to) => (note(to), realFs.rename(from, to)),
      link: (from, to) => (note(to), realFs.link(from, to)),
      mkdirp: (path, mode) => (note(path), realFs.mkdirp(path, mode)),
    };
    await initStore(encrypted, { fs, encrypt: true, secret: { passphrase: 'p' } });
    const store = await open(leader, { fs, segmentBytes: 4096, flushBytes: 1024, spillBytes: 2048, compactTtlSpillChunk: 4, rebuildChunkKeys: 16 });
    for (let i = 0; i < 200; i++) await store.put(`k${i % 60}`, `value ${i}`, { expiresAt: 4_000_000_000_000 + i });
    const batch = store.batch();
    for (let i = 0; i < 100; i++) batch.put(`b${i}`, 'x'.repeat(40), { expiresAt: 4_000_000_000_000 + i });
    await batch.write();
    await store.compact();
    await store.admin()!.replicate(follower);
    await store.put('after', 'the replicate');
    await store.admin()!.replicate(follower);
    expect((await store.verify({ record: true })).recorded).toBe(true);
    await store.close();
    // Damage in a sealed segment: the repair quarantines it and rewrites from there, rebuilding the index.
    const first = readdirSync(leader).filter((n) => fileKind(n).kind === 'segment').sort()[0];
    const bytes = readFileSync(join(leader, first));
    bytes[40] ^= 0xff;
    writeFileSync(join(leader, first), bytes);
    skipVerify(leader);
    const repairing = await open(leader, { fs, rebuildChunkKeys: 16 });
    expect((await repairing.admin()!.repair()).repair?.quarantine).toBeTruthy();
    await repairing.close();

    const unknown = [...made].filter((n) => !isTzkvFile(fileKind(n)));
    expect(unknown, 'names tzkv wrote that the classifier does not know').toEqual([]);
    const kinds = new Set([...made].map((n) => fileKind(n).kind));
    const expected: FileKind[] = ['manifest', 'manifest-temp', 'keyring', 'keyring-temp', 'segment', 'segment-temp', 'run', 'run-temp', 'lock', 'lock-temp', 'stage'];
    expected.push('compaction-output', 'ttl-scratch', 'replicating', 'replicating-temp', 'verified', 'verified-temp', 'quarantine', 'quarantine-temp');
    expected.push('followers', 'follower-record', 'follower-record-temp');
    expect([...kinds].sort()).toEqual([...expected].sort());
  });
});
