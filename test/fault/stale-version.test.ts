// A key's version (Entry.version) must never match a record other than the
// one it was read from (src/keys.ts recordVersion). A write whose fsync fails
// is undone (the segment cut back to its committed end), but a reader in
// another process may have seen its record meanwhile, and the next write lands
// at the very same offset. The version that reader holds must not be taken
// for that next record's.
import { cpSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

describe('a version read from a write that was undone', () => {
  it('is refused by the record written where it was (the same offset, other bytes)', async () => {
    const dir = tempDir();
    const seed = await tempStore({}, dir);
    await seed.put('cfg', 'v1');
    await seed.close();

    const fs = new FaultFs(dir).failAt('fsync', 1, { match: /\.tzds$/ });
    // What another process reads while the failing write's bytes are in the segment, before its fsync.
    const seen = join(tempDir(), 'seen');
    let copied = false;
    fs.beforeMutation = (op, path) => {
      if (op !== 'fsync' || !basename(path).endsWith('.tzds') || copied) return;
      cpSync(dir, seen, { recursive: true });
      copied = true;
    };
    const store = await tempStore({ fs }, dir);
    await expect(store.put('cfg', 'phantom')).rejects.toMatchObject({ code: 'IO' });

    const reader = await open(seen, { readOnly: true });
    const phantom = await reader.getEntry('cfg');
    await reader.close();
    expect(phantom?.value.toString()).toBe('phantom');

    // The next write lands where the undone one was.
    expect(await store.put('cfg', 'v2')).toBe(true);
    const now = await store.getEntry('cfg');
    expect(now?.value.toString()).toBe('v2');
    expect(now?.version).not.toBe(phantom!.version);
    expect(await store.swap('cfg', 'v3', { ifVersion: phantom!.version })).toMatchObject({ written: false });
    expect(await store.delIf('cfg', { ifVersion: phantom!.version })).toBe(false);
    expect((await store.get('cfg'))?.toString()).toBe('v2');
    await store.close();
  });
});
