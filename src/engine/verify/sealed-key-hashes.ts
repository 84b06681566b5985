// The records of an encrypted segment as verify's main thread adds them to
// its RecordJoin while the worker thread checks the segment's CRCs and tags
// (docs/design.md "Verify"): the scan here reads the groups sealed (framing
// only), and each record's key is decrypted for its key hash a batch at a
// time (group-keystream.ts), without a GCM message per group. The hashes
// count only when the worker found every group's tag good: verify.ts
// verifies the store again on one thread otherwise.
import type { KeyObject } from 'node:crypto';
import { KIND_PUT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { GroupKeystream, SEAL_NONCE_AT } from '../../format/group-keystream.js';
import type { RecordInfo } from '../../format/record.js';
import type { RecordGroup } from '../log/record-scan.js';
import type { RecordJoin } from './record-join.js';
import { fingerprint, keyHashOf } from './record-table.js';

/** Records held before their keys are decrypted: one ECB call per this many (memory: at most this many keys, each with its counter blocks). */
const BATCH = 4096;

export class SealedKeyHashes {
  private readonly stream: GroupKeystream;
  /** The group the last record was in (its SEAL's offset), and where the next body starts in its plaintext. */
  private groupAt = -1;
  private bodyOffset = 0;
  /** The held records: offset, key's place in the stream's result, key length, the rest of the fingerprint. */
  private readonly offsets = new Float64Array(BATCH);
  private readonly keyAt = new Int32Array(BATCH);
  private readonly keyLength = new Int32Array(BATCH);
  private readonly kinds = new Uint8Array(BATCH);
  private readonly lengths = new Float64Array(BATCH);
  private readonly expiries = new Float64Array(BATCH);
  private held = 0;

  /** Adds to `records` the records of groups sealed under `key`. */
  constructor(
    key: KeyObject,
    private readonly records: RecordJoin,
  ) {
    this.stream = new GroupKeystream(key);
  }

  /**
   * Takes the next PUT or DEL of the segment, as the scanner reports it from
   * a sealed group (buf[pos] at offset `at`, in `group`), every one of the
   * group's in order; adds it to the join when `indexed`.
   */
  record(buf: Buffer, pos: number, at: number, info: RecordInfo, group: RecordGroup, indexed: boolean): void {
    if (group.offset !== this.groupAt) {
      this.groupAt = group.offset;
      this.bodyOffset = 0;
      this.stream.group(buf, pos - (at - group.offset) + SEAL_NONCE_AT);
    }
    const body = this.bodyOffset;
    this.bodyOffset += info.keyLength + info.valueLength;
    if (!indexed) return;
    const i = this.held++;
    this.offsets[i] = at;
    this.keyAt[i] = this.stream.want(body, info.keyLength, buf, pos + RECORD_HEADER_BYTES);
    this.keyLength[i] = info.keyLength;
    this.kinds[i] = info.kind;
    this.lengths[i] = info.length;
    this.expiries[i] = info.expiresAt;
    if (this.held === BATCH) this.flush();
  }

  /** Adds the held records to the join, in the order they came. Call before the join's segment ends. */
  flush(): void {
    this.stream.run();
    for (let i = 0; i < this.held; i++) {
      const at = this.keyAt[i];
      const keyHash = keyHashOf(this.stream.plain(at, this.keyLength[i]), at, at + this.keyLength[i]);
      this.records.push(this.offsets[i], fingerprint(keyHash, this.kinds[i], this.lengths[i], this.expiries[i]), keyHash, this.kinds[i] === KIND_PUT);
    }
    this.held = 0;
  }
}
