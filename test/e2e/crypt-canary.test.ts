// Encryption at rest, from outside (issue 17 "Tests"; docs/format.md "Format
// version 2"): a canary key and value written to an encrypted store (and an
// encrypted and compressed one) are never found in any file under the store
// directory, its follower's, or verify's scratch directory: not in plain
// form, not in base64 (each of the three alignments), not in hex. After
// every way bytes get written: single puts, a batch, an import large enough
// to be staged in a file of its own (docs/design.md "Atomic batches"), a
// compaction, a repair that quarantines a damaged record, a replicate, a
// rekey and a compaction to a new data key.
//
// The canary values are short (under the 256 bytes from which values are
// compressed): compression cannot hide them, only encryption can.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { filesUnder, leakForms, leaks } from '../helpers/leaks.js';
import { ENCRYPTED_KINDS, writeKeyFile } from '../helpers/store-kinds.js';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';
import { initKindStore } from './store-kinds.js';
import type { KindStore } from './store-kinds.js';

/** A canary: printable, unique to the test run, long enough that a chance match of any of its forms is impossible. */
function canary(what: string): string {
  return `canary-${what}-${randomBytes(12).toString('hex')}`;
}

/** The store has a canary key holding a canary value, both read back with the key. */
interface Canaries {
  key: string;
  value: string;
}

async function putCanary(s: KindStore, what = 'single'): Promise<Canaries> {
  const c = { key: canary(`${what}-key`), value: canary(`${what}-value`) };
  const run = await tzkv(['put', ...s.args, c.key, c.value]);
  expect(run.exitCode, run.stderr).toBe(0);
  return c;
}

async function expectReadable(s: KindStore, c: Canaries): Promise<void> {
  expect(await tzkv(['get', ...s.args, c.key])).toMatchObject({ exitCode: 0, stdout: c.value });
}

function expectNoLeak(roots: string[], cs: Canaries[]): void {
  const files = roots.flatMap(filesUnder);
  expect(files.length, 'files scanned').toBeGreaterThan(0);
  expect(leaks(roots, cs.flatMap((c) => [c.key, c.value]))).toEqual([]);
}

async function ok(args: string[], options: Parameters<typeof tzkv>[1] = {}): Promise<void> {
  const run = await tzkv(args, options);
  expect(run.exitCode, `tzkv ${args.join(' ')}: ${run.stderr}`).toBe(0);
}

describe('the canary test finds what it looks for', () => {
  test('in a plain store every form is found; the scan reads subdirectories', async () => {
    const dir = await tempDir();
    const text = canary('self');
    const forms = leakForms(text);
    mkdirSync(join(dir, 'sub'));
    for (const [form, needle] of forms) {
      writeFileSync(join(dir, 'sub', form), Buffer.concat([randomBytes(5), needle, randomBytes(5)]));
    }
    const found = leaks([dir], [text]);
    for (const form of forms.keys()) expect(found).toContain(`${join(dir, 'sub', form)}: ${form} of ${text}`);
    // Each base64 alignment really is the one of text after 0, 1 or 2 other bytes.
    for (const lead of [0, 1, 2]) {
      const embedded = Buffer.concat([randomBytes(7 + lead), Buffer.from(text), randomBytes(3)]).toString('base64');
      expect(embedded.includes(forms.get(`base64+${(7 + lead) % 3}`)!.toString())).toBe(true);
    }
    const plain = await initKindStore({ name: 'plain', encrypt: false, compression: undefined });
    const c = await putCanary(plain);
    expect(leaks([plain.dir], [c.key, c.value]).length).toBeGreaterThan(0);
  });
});

for (const kind of ENCRYPTED_KINDS) {
  describe(`no canary in the files of an ${kind.name} store`, () => {
    test('after single puts, a put with a TTL, an overwrite and a delete', async () => {
      const s = await initKindStore(kind);
      const c = await putCanary(s);
      const d = await putCanary(s, 'deleted');
      const t = { key: canary('ttl-key'), value: canary('ttl-value') };
      await ok(['put', ...s.args, '--ttl', '1h', t.key, t.value]);
      await ok(['put', ...s.args, c.key, `${c.value}-2`]);
      await ok(['del', ...s.args, d.key]);
      await expectReadable(s, { key: c.key, value: `${c.value}-2` });
      expectNoLeak([s.dir], [c, d, t]);
    });

    test('after a batch', async () => {
      const s = await initKindStore(kind);
      const cs = [0, 1, 2].map((i) => ({ key: canary(`batch${i}-key`), value: canary(`batch${i}-value`) }));
      const script = `${cs.map((c) => `put ${c.key} ${c.value}`).join('\n')}\ndel ${cs[2].key}\n`;
      await ok(['batch', ...s.args, '-'], { input: script });
      await expectReadable(s, cs[0]);
      expectNoLeak([s.dir], cs);
    });

    test("after an import staged in a file of its own, and a verify that spills to its scratch directory (the child's TMPDIR)", async () => {
      const s = await initKindStore(kind);
      const c = { key: canary('import-key'), value: canary('import-value') };
      // 600,000 records, over 16 MiB: the batch spills to a staging file; verify holds over 512K records, so it spills too.
      const lines: string[] = [];
      for (let i = 0; i < 600_000; i++) {
        lines.push(`k${String(i).padStart(6, '0')}\tv${i}-........................`);
        if (i === 300_000) lines.push(`${c.key}\t${c.value}`);
      }
      await ok(['import', ...s.args, '--format', 'tsv', '-'], { input: `${lines.join('\n')}\n`, timeout: 120_000 });
      await expectReadable(s, c);
      const scratch = join(await tempDir(), 'tmp');
      mkdirSync(scratch);
      for (const keyArgs of [[], ['--key-file', s.keyFile]]) {
        const { run, json } = await tzkvJson<{ ok: boolean; records: number }>(['verify', '-d', s.dir, ...keyArgs], { env: { TMPDIR: scratch }, timeout: 120_000 });
        expect(run.exitCode, run.stderr).toBe(0);
        expect(json.records).toBeGreaterThan(512 * 1024);
      }
      expectNoLeak([s.dir, scratch], [c]);
    }, 240_000);

    test('after a compaction', async () => {
      const s = await initKindStore(kind);
      const c = await putCanary(s);
      const gone = await putCanary(s, 'overwritten');
      await ok(['put', ...s.args, gone.key, 'x']);
      await ok(['compact', ...s.args]);
      await expectReadable(s, c);
      expectNoLeak([s.dir], [c, gone]);
    });

    test('after verify --repair moved a damaged record into a quarantine file', async () => {
      const s = await initKindStore(kind);
      const c = await putCanary(s);
      const kept = await putCanary(s, 'kept');
      // The canary is the first thing written after the segment's header: damage the bytes just past it.
      const segment = join(s.dir, '00000001.tzds');
      const bytes = readFileSync(segment);
      bytes[20] ^= 0x40;
      writeFileSync(segment, bytes);
      const { run, json } = await tzkvJson<{ repair: { moved: unknown[] } }>(['verify', '--repair', ...s.args]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(json.repair.moved.length).toBeGreaterThan(0);
      expect(readdirSync(s.dir).some((n) => n.startsWith('QUARANTINE-'))).toBe(true);
      expectNoLeak([s.dir], [c, kept]);
    });

    test("after a replicate: the follower's files too", async () => {
      const s = await initKindStore(kind);
      const c = await putCanary(s);
      await ok(['compact', ...s.args]);
      const more = await putCanary(s, 'after-compact');
      const follower = await storeDir();
      // replicate needs no key: without one, and again with one.
      await ok(['replicate', '-d', s.dir, '--to', follower]);
      const last = await putCanary(s, 'incremental');
      await ok(['replicate', ...s.args, '--to', follower]);
      await expectReadable({ ...s, dir: follower, args: ['--key-file', s.keyFile, '-d', follower] }, last);
      expectNoLeak([s.dir, follower], [c, more, last]);
    });

    test('after a rekey and a compaction to a new data key', async () => {
      const s = await initKindStore(kind);
      const c = await putCanary(s);
      const newKey = writeKeyFile(join(await tempDir(), 'new.key'));
      await ok(['rekey', ...s.args, '--new-key-file', newKey]);
      const rekeyed = { ...s, keyFile: newKey, args: ['--key-file', newKey, '-d', s.dir] };
      const after = await putCanary(rekeyed, 'after-rekey');
      expectNoLeak([s.dir], [c, after]);
      await ok(['compact', '--new-data-key', ...rekeyed.args]);
      const last = await putCanary(rekeyed, 'new-data-key');
      await expectReadable(rekeyed, c);
      await expectReadable(rekeyed, last);
      expectNoLeak([s.dir], [c, after, last]);
    });
  });
}
