// A flipped bit in an encrypted store's files (issue 17 "Tests", docs/format.md
// "Format version 2", docs/cli.md "Reads past damage"). Each sealed thing — a
// group of records in a segment, an index block, a bloom page — is damaged
// twice: with its CRC left wrong, which verify sees without the key (exit 4);
// then with the CRC fixed up over the changed bytes, which verify WITHOUT the
// key cannot see (it checks CRCs and framing only: the same bytes could have
// been written so) and verify WITH the key reports as a failed tag
// ("authentication failed", exit 4). `get` of an affected key never returns a
// byte of it (exit 4); a bloom page costs time, not answers. A changed KEYRING
// is CORRUPT, named.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { crc32 } from '../../src/format/bytes.js';
import { KIND_PUT } from '../../src/format/constants.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../src/format/record.js';
import { SEALED_PAGE_STRIDE } from '../../src/format/seal.js';
import { ENCRYPTED_KINDS } from '../helpers/store-kinds.js';
import { START_PATHS, expectNoStack, tzkv } from './helpers.js';
import { initKindStore } from './store-kinds.js';
import type { KindStore } from './store-kinds.js';

const KIND_SEAL = 4;
const FILE_HEADER_BYTES = 16;
const RUN_HEADER_BYTES = 64;
const BLOCK_HEADER_BYTES = 8;
const NONCE_BYTES = 12;

/** The records of a version 2 segment: offset, kind, key length, length. */
function records(bytes: Buffer): Array<{ pos: number; kind: number; keyLength: number; length: number }> {
  const out = [];
  const info = new RecordInfo();
  for (let pos = FILE_HEADER_BYTES; decodeRecord(bytes, pos, bytes.length, info, true, true) === RECORD_OK; pos += info.length) {
    out.push({ pos, kind: info.kind, keyLength: info.keyLength, length: info.length });
  }
  return out;
}

/** A change of one byte of a file, and the stretch whose CRC (stored little-endian at crcAt) covers it. */
interface Flip {
  file: string;
  at: number;
  crcOf: [number, number];
  crcAt: number;
}

function flipByte(path: string, flip: Flip, fixCrc: boolean): () => void {
  const original = readFileSync(path);
  const bytes = Buffer.from(original);
  bytes[flip.at] ^= 0x10;
  if (fixCrc) bytes.writeUInt32LE(crc32(bytes, flip.crcOf[0], flip.crcOf[1]), flip.crcAt);
  writeFileSync(path, bytes);
  return () => writeFileSync(path, original);
}

async function verifyRun(s: KindStore, withKey: boolean) {
  return tzkv(['verify', '-d', s.dir, ...(withKey ? ['--key-file', s.keyFile] : [])]);
}

/** `get key` refuses on both start paths: exit 4, not one byte printed. */
async function expectGetRefused(s: KindStore, key: string): Promise<void> {
  for (const { path, env } of START_PATHS) {
    const run = await tzkv(['get', ...s.args, key], { env });
    expect({ path, exit: run.exitCode, stdout: run.stdout }).toEqual({ path, exit: 4, stdout: '' });
    expectNoStack(run);
  }
}

/**
 * The two flips of one sealed thing: CRC wrong, seen without the key; CRC
 * fixed up, seen only with it. `reads` checks gets after each.
 */
async function bothFlips(s: KindStore, flip: Flip, reads: () => Promise<void>): Promise<void> {
  const path = join(s.dir, flip.file);
  const undo = flipByte(path, flip, false);
  const crcWrong = await verifyRun(s, false);
  expect(crcWrong.exitCode, `verify without the key, CRC left wrong: ${crcWrong.stdout}`).toBe(4);
  expect(crcWrong.stdout + crcWrong.stderr).toContain(flip.file);
  await reads();
  undo();

  flipByte(path, flip, true);
  // Without the key verify checks CRCs and framing only: changed bytes under a fixed-up CRC look as written.
  const blind = await verifyRun(s, false);
  expect(blind.exitCode, `verify without the key cannot see a fixed-up CRC: ${blind.stdout}`).toBe(0);
  const keyed = await verifyRun(s, true);
  expect(keyed.exitCode, `verify with the key: ${keyed.stdout}`).toBe(4);
  expect(keyed.stdout + keyed.stderr).toContain('authentication failed');
  expect(keyed.stdout + keyed.stderr).toContain(flip.file);
  await reads();
  // The fixed-up damage stays: the end-of-test verify (without the key) passes over it.
}

for (const kind of ENCRYPTED_KINDS) {
  describe(`bit flips in an ${kind.name} store`, () => {
    test('in a segment: a PUT body in a sealed group', async () => {
      const s = await initKindStore(kind);
      expect((await tzkv(['put', ...s.args, 'victim', 'a value that must never come back changed'])).exitCode).toBe(0);
      expect((await tzkv(['put', ...s.args, 'bystander', 'another group'])).exitCode).toBe(0);
      const file = '00000001.tzds';
      const recs = records(readFileSync(join(s.dir, file)));
      expect(recs.map((r) => r.kind), 'a SEAL, then the PUT it seals, for each write').toEqual([KIND_SEAL, KIND_PUT, KIND_SEAL, KIND_PUT]);
      const victim = recs[1];
      const at = victim.pos + 20 + victim.keyLength + 3;
      await bothFlips(s, { file, at, crcOf: [victim.pos + 4, victim.pos + victim.length], crcAt: victim.pos }, async () => {
        await expectGetRefused(s, 'victim');
        expect(await tzkv(['get', ...s.args, 'bystander'])).toMatchObject({ exitCode: 0, stdout: 'another group' });
      });
    });

    test('in an index run: a leaf block and a bloom page', async () => {
      const s = await initKindStore(kind);
      // An import over flushBytes (1 MiB) is indexed at once into a run of its own.
      const lines = Array.from({ length: 20_000 }, (_, i) => `key${String(i).padStart(5, '0')}\tvalue-${i}-${'.'.repeat(40)}`);
      expect((await tzkv(['import', ...s.args, '--format', 'tsv', '-'], { input: `${lines.join('\n')}\n` })).exitCode).toBe(0);
      const file = readdirSync(s.dir).find((n) => n.endsWith('.tzix'))!;
      expect(file, 'the import wrote an index run').toBeDefined();
      const run = readFileSync(join(s.dir, file));

      // The first leaf block starts after the run header; its first entries hold key00000.
      const leafLength = run.readUInt32LE(RUN_HEADER_BYTES + 4);
      const leaf: Flip = { file, at: RUN_HEADER_BYTES + BLOCK_HEADER_BYTES + NONCE_BYTES + 5, crcOf: [RUN_HEADER_BYTES, RUN_HEADER_BYTES + leafLength - 4], crcAt: RUN_HEADER_BYTES + leafLength - 4 };
      await bothFlips(s, leaf, () => expectGetRefused(s, 'key00000'));
      writeFileSync(join(s.dir, file), run);

      // A bloom page: nonce, 4096 sealed bytes, tag, CRC of the 4124 before it. A read passes it by: time, not answers.
      const bloom = Number(run.readBigUInt64LE(48));
      const page: Flip = { file, at: bloom + NONCE_BYTES + 100, crcOf: [bloom, bloom + SEALED_PAGE_STRIDE - 4], crcAt: bloom + SEALED_PAGE_STRIDE - 4 };
      await bothFlips(s, page, async () => {
        for (const { path, env } of START_PATHS) {
          expect({ path, ...(await tzkv(['get', ...s.args, 'key00007'], { env })) }).toMatchObject({ path, exitCode: 0, stdout: `value-7-${'.'.repeat(40)}` });
        }
      });
    });

    test('in KEYRING: CORRUPT naming it, on reads and writes with the key, and from verify without it', async () => {
      const s = await initKindStore(kind);
      expect((await tzkv(['put', ...s.args, 'k', 'v'])).exitCode).toBe(0);
      const path = join(s.dir, 'KEYRING');
      const original = readFileSync(path);
      const flipped = Buffer.from(original);
      flipped[original.length - 10] ^= 0x01;
      writeFileSync(path, flipped);
      for (const args of [['get', 'k'], ['put', 'k2', 'v2'], ['keys']]) {
        for (const { path: start, env } of START_PATHS) {
          const run = await tzkv([...args, ...s.args], { env });
          expect({ start, args, exit: run.exitCode, stdout: run.stdout }).toEqual({ start, args, exit: 4, stdout: '' });
          expect(run.stderr).toMatch(/^tzkv: .*KEYRING.*\n$/);
          expectNoStack(run);
        }
      }
      const verify = await tzkv(['verify', '-d', s.dir]);
      expect(verify.exitCode).toBe(4);
      expect(verify.stdout + verify.stderr).toContain('KEYRING');
      expect(readFileSync(path)).toEqual(flipped);
      writeFileSync(path, original);
      expect(await tzkv(['get', ...s.args, 'k'])).toMatchObject({ exitCode: 0, stdout: 'v' });
    });
  });
}
