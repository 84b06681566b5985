// `tzkv verify` with the key on an encrypted store big enough for its two
// threads (64 MiB of sealed segments: docs/design.md "Verify", Two cores): a
// group whose tag fails under a fixed-up CRC, which only the worker thread
// checks, is reported as verify on one thread reports it: the same problems,
// word for word, and exit 4. (test/fault/verify-worker-v2.test.ts
// shows the worker is the one that finds it.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openCodec } from '../../src/engine/files/keyring-file.js';
import { readManifest } from '../../src/engine/files/store-manifest.js';
import { PARALLEL_MIN_BYTES, verifyStore } from '../../src/engine/verify/verify.js';
import { crc32 } from '../../src/format/bytes.js';
import { FILE_HEADER_BYTES, KIND_PUT } from '../../src/format/constants.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../src/format/record.js';
import { realFs } from '../../src/io/fs.js';
import { ENCRYPTED_KINDS } from '../helpers/store-kinds.js';
import { tzkv, tzkvJson } from './helpers.js';
import { initKindStore } from './store-kinds.js';

interface Report {
  ok: boolean;
  problems: Array<{ file: string; offset: number | null; kind: string; message: string }>;
}

describe('verify with the key of a big encrypted store', () => {
  test('reports a group whose tag fails as one thread does, exit 4', async () => {
    const s = await initKindStore(ENCRYPTED_KINDS[0]);
    // 560k records of 16-byte keys and 100-byte values: one sealed segment of about 76 MB.
    const value = 'v'.repeat(100);
    const lines = Array.from({ length: 560_000 }, (_, i) => `key:${String(i).padStart(12, '0')}\t${value}`);
    expect((await tzkv(['import', ...s.args, '--format', 'tsv', '-'], { input: `${lines.join('\n')}\n` })).exitCode).toBe(0);
    const m = readManifest(realFs, s.dir)!;
    const sealed = m.segments.filter((x) => x.size !== null).sort((a, b) => b.size! - a.size!)[0];
    expect(sealed.size, 'big enough for two threads').toBeGreaterThanOrEqual(PARALLEL_MIN_BYTES);

    // A value byte in the middle of the segment, its record's CRC fixed up: only the group's tag shows it.
    const path = join(s.dir, `${String(sealed.file).padStart(8, '0')}.tzds`);
    const bytes = readFileSync(path);
    const info = new RecordInfo();
    let pos = FILE_HEADER_BYTES;
    for (;;) {
      expect(decodeRecord(bytes, pos, bytes.length, info, true, true)).toBe(RECORD_OK);
      if (pos >= bytes.length / 2 && info.kind === KIND_PUT) break;
      pos += info.length;
    }
    bytes[pos + info.length - 1] ^= 0x10;
    bytes.writeUInt32LE(crc32(bytes, pos + 4, pos + info.length), pos);
    writeFileSync(path, bytes);

    const alone = verifyStore(realFs, s.dir, openCodec(realFs, s.dir, m, { keyFile: s.keyFile }));
    expect(alone.problems.map((p) => p.message).join('\n')).toContain('authentication failed');
    const { run, json } = await tzkvJson<Report>(['verify', ...s.args]);
    expect(run.exitCode).toBe(4);
    expect(json.ok).toBe(false);
    expect(json.problems).toEqual(alone.problems);
    const text = await tzkv(['verify', ...s.args]);
    expect(text.exitCode).toBe(4);
    expect(text.stdout + text.stderr).toContain('authentication failed');
  }, 180_000);
});
