// What verify's worker thread is sent of the store's codec (posted-codec.ts):
// it crosses the worker boundary by structured clone, as workerData does.
import { randomBytes, createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TzkvError, isTzkvError } from '../../src/errors.js';
import { postCodec, receivedCodec } from '../../src/engine/verify/posted-codec.js';
import { DataKeys, PLAIN } from '../../src/format/store-codec.js';
import type { StoreCodec } from '../../src/format/store-codec.js';

const across = (codec: StoreCodec): StoreCodec => receivedCodec(structuredClone(postCodec(codec)));

describe('the codec posted to verify’s worker', () => {
  it('is PLAIN for a version 1 store', () => {
    expect(across(PLAIN)).toEqual(PLAIN);
  });

  it('carries every data key, the current id and the compression', () => {
    const one = randomBytes(32);
    const two = randomBytes(32);
    const keys = new DataKeys(new Map([[1, createSecretKey(one)], [2, createSecretKey(two)]]), 2);
    const compression = { algorithm: 'brotli' as const, minBytes: 256 };
    const got = across({ encryption: { keys: () => keys }, compression });
    expect(got.compression).toEqual(compression);
    const back = got.encryption!.keys();
    expect(back.current).toBe(2);
    expect(back.ids).toEqual([1, 2]);
    expect(back.key(1, 'x').export()).toEqual(one);
    expect(back.key(2, 'x').export()).toEqual(two);
  });

  it('without the key, throws the KEY_REQUIRED the store’s codec throws', () => {
    const message = 'store /s is encrypted: give its key';
    const got = across({ encryption: { keys: () => { throw new TzkvError('KEY_REQUIRED', message); } }, compression: undefined });
    let thrown: unknown;
    try {
      got.encryption!.keys();
    } catch (err) {
      thrown = err;
    }
    expect(isTzkvError(thrown, 'KEY_REQUIRED')).toBe(true);
    expect((thrown as Error).message).toBe(message);
  });
});
