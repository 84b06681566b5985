// How a data segment's records are framed, from its own header (docs/format.md
// "Common file header, version 2" and "Records, version 2"): version 1, a
// compressed-only version 2 segment, or an encrypted one, and whether the
// reader holds its data key. Every reader of records (the scanner, the
// boundary search, a value read) is told this by its caller; none guesses it.
import type { KeyObject } from 'node:crypto';
import { FORMAT_VERSION } from '../../format/constants.js';
import type { FileVersion } from '../../format/file-header.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { dataKey } from '../data-key.js';

export interface SegmentFormat {
  /** The header says version 2: SEAL records and compression bits may occur. */
  readonly version2: boolean;
  /** The header names a data key: every PUT and DEL lies in a sealed group. */
  readonly encrypted: boolean;
  /**
   * The data key, when the reader opens groups (tags checked, records reported
   * plain); undefined for an encrypted segment read without the key (framing,
   * CRCs and group tiling checked, records reported sealed).
   */
  readonly key: KeyObject | undefined;
  /**
   * With the key: the reader checks every group's tag but reads no plaintext
   * (verify's worker thread), so the records are reported sealed, as without
   * the key, and no group is copied out opened.
   */
  readonly tagsOnly?: boolean;
}

/** A version 1 segment: what a plain store has, and what a reader assumes when told nothing. */
export const V1_SEGMENT: SegmentFormat = Object.freeze({ version2: false, encrypted: false, key: undefined });

/**
 * The format of a segment whose header (accepted by checkFileHeader) says
 * `header`. `withKey`: the reader needs the plain records, so an encrypted
 * segment's data key is taken from the codec (KEY_REQUIRED without the
 * secret, CORRUPT for an id KEYRING lacks); false for the paths that must
 * work without the key (verify without --repair, replicate, stats).
 * `file`: the segment's path, for those messages.
 */
export function segmentFormat(header: FileVersion, codec: StoreCodec, file: string, withKey: boolean): SegmentFormat {
  if (header.version === FORMAT_VERSION) return V1_SEGMENT;
  const encrypted = header.keyId !== 0;
  return { version2: true, encrypted, key: encrypted && withKey ? dataKey(codec, header.keyId, file) : undefined };
}
