// Keys of sealed groups decrypted in bulk without their tags (format/group-keystream.ts):
// what it returns for any byte range of any group's bodies is what opening the group gives.
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../../src/format/constants.js';
import { GroupKeystream, SEAL_NONCE_AT } from '../../src/format/group-keystream.js';
import { encodeRecord } from '../../src/format/record.js';
import { SEAL_RECORD_BYTES, openGroup, sealGroup } from '../../src/format/seal.js';

/** A sealed group of `n` records of random key and value lengths at offset `at` of its segment; its records opened. */
function sealedGroup(n: number, at: number, key: ReturnType<typeof createSecretKey>) {
  const records = Array.from({ length: n }, (_, i) => {
    const del = i % 5 === 4;
    return encodeRecord(del ? KIND_DEL : KIND_PUT, 0, randomBytes(1 + ((i * 37) % 90)), del ? null : randomBytes((i * 53) % 300), 0);
  });
  const buf = Buffer.concat([Buffer.alloc(SEAL_RECORD_BYTES), ...records]);
  sealGroup(buf, 0, buf.length, at, key);
  return { buf, plain: openGroup(buf, 0, at, key)! };
}

describe('GroupKeystream', () => {
  it('decrypts every key of many groups in one run, as opening each group does', () => {
    const key = createSecretKey(randomBytes(32));
    const stream = new GroupKeystream(key);
    const groups = Array.from({ length: 40 }, (_, g) => sealedGroup(1 + (g % 17), 16 + g * 5000, key));
    const wanted: Array<{ at: number; plain: Buffer }> = [];
    for (const { buf, plain } of groups) {
      stream.group(buf, SEAL_NONCE_AT);
      let body = 0;
      for (let p = SEAL_RECORD_BYTES; p < buf.length; ) {
        const keyLength = buf.readUInt16LE(p + 6);
        const length = RECORD_HEADER_BYTES + keyLength + buf.readUInt32LE(p + 8);
        const start = p + RECORD_HEADER_BYTES;
        wanted.push({ at: stream.want(body, keyLength, buf, start), plain: plain.subarray(start - SEAL_RECORD_BYTES, start - SEAL_RECORD_BYTES + keyLength) });
        body += length - RECORD_HEADER_BYTES;
        p += length;
      }
    }
    stream.run();
    for (const w of wanted) expect(Buffer.from(stream.plain(w.at, w.plain.length).subarray(w.at, w.at + w.plain.length))).toEqual(w.plain);
  });
});
