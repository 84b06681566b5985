// What the engine needs to know to read and write a store's bytes beyond
// format version 1 (docs/format.md "Format version 2"): the data keys of an
// encrypted store and the compression a compressed store writes with.
//
// One StoreCodec per open store, handed down from the facade (src/local) to
// every engine path that reads or writes records, index blocks, bloom pages or
// manifest key ranges. The engine never decides a store is encrypted from the
// codec: a file says so itself (its header's data key id); the codec only
// answers "which key is id N" and "what do new writes use".
import type { KeyObject } from 'node:crypto';

/** docs/format.md "Records, version 2": the compression algorithms (codes 1, 2 of flags bits 1–2); the one list of them. */
export const COMPRESSION_ALGORITHMS = ['deflate', 'brotli'] as const;
export type CompressionAlgorithm = (typeof COMPRESSION_ALGORITHMS)[number];

/**
 * What `init --compress` chooses: brotli, the one candidate that keeps a
 * store of JSON documents within 0.35x the plain store's size (docs/benchmarks.md
 * "Compression: choosing the algorithm").
 */
export const DEFAULT_COMPRESSION: CompressionAlgorithm = 'brotli';

/**
 * docs/format.md "MANIFEST, version 2": `minBytes` of a store created with
 * compression. From 128 bytes brotli saves 1/8 on 95% of small values; below
 * it on 21% or none (docs/benchmarks.md).
 */
export const DEFAULT_COMPRESSION_MIN_BYTES = 128;

/** How a compressed store writes values (MANIFEST `compression`). */
export interface CompressionSetting {
  algorithm: CompressionAlgorithm;
  /** Values shorter than this are stored as they are. */
  minBytes: number;
}

/**
 * The data keys of an encrypted store that this process unwrapped with the
 * secret it was given (src/format/keyring.ts unwraps them).
 */
export class DataKeys {
  constructor(
    private readonly keys: ReadonlyMap<number, KeyObject>,
    /** The id new files are written with (KEYRING `current`). */
    readonly current: number,
  ) {}

  /** The data key with this id; undefined when KEYRING holds none (the engine's dataKey() turns that into CORRUPT). */
  key(id: number): KeyObject | undefined {
    return this.keys.get(id);
  }

  get ids(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }
}

export interface StoreCodec {
  /**
   * Undefined for a store that is not encrypted. For an encrypted one: its
   * keys when a secret was given and opened them; a function that throws
   * KEY_REQUIRED (naming the store and how to give the key) when none was.
   */
  readonly encryption: { keys(): DataKeys } | undefined;
  /** Undefined for a store that does not compress. */
  readonly compression: CompressionSetting | undefined;
}

/** A version 1 store: nothing encrypted, nothing compressed. */
export const PLAIN: StoreCodec = Object.freeze({ encryption: undefined, compression: undefined });

/** The format version of files a store with this codec writes. */
export function writtenVersion(codec: StoreCodec): 1 | 2 {
  return codec.encryption === undefined && codec.compression === undefined ? 1 : 2;
}
