// Constants of the on-disk format. docs/format.md is the authority; each
// constant names the section that defines it.

/** docs/format.md "Common file header": version written and the newest understood. */
export const FORMAT_VERSION = 1;
/** docs/format.md "Format version 2": encrypted and compressed stores (a plain store stays version 1). */
export const VERSION_2 = 2;

/** docs/format.md "Common file header". */
export const FILE_HEADER_BYTES = 16;
export const MAGIC_SEGMENT = 'TZDS';
export const MAGIC_RUN = 'TZIX';
export const MAGIC_MANIFEST = 'TZMF';

/** docs/format.md "Data segment": record header size and kinds. */
export const RECORD_HEADER_BYTES = 20;
export const KIND_PUT = 1;
export const KIND_DEL = 2;
export const KIND_COMMIT = 3;
/** docs/format.md "Records, version 2": opens a group of encrypted records (version 2 segments only). */
export const KIND_SEAL = 4;
/** A SEAL record's value: u32 group length, 12-byte nonce, 16-byte tag (src/format/seal.ts). */
export const SEAL_VALUE_BYTES = 32;
export const FLAG_BATCH = 1;
/** docs/format.md "Records, version 2": flags bits 1–2, a PUT value's compression (0 none, 1 deflate, 2 brotli, 3 reserved). */
export const FLAG_COMPRESSION_MASK = 0x06;
export const COMMIT_VALUE_BYTES = 4;

/** docs/format.md "Limits and why". */
export const MAX_KEY_BYTES = 1024;
export const MAX_VALUE_BYTES = 256 * 1024 * 1024;
/** The latest expiry a write may set: 9999-12-31T23:59:59.999Z, the last time a four-digit ISO 8601 year can name. */
export const MAX_EXPIRY_MS = 253_402_300_799_999;
export const MAX_FILE_NUMBER = 0xffffffff;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** docs/format.md "Index run". */
export const RUN_HEADER_BYTES = 64;
export const BLOCK_HEADER_BYTES = 8;
export const BLOCK_TRAILER_BYTES = 4;
export const BLOCK_TARGET_BYTES = 4096;
export const BLOCK_LEAF = 1;
export const BLOCK_BRANCH = 2;
/** Fixed part of a leaf entry: u16 keyLen + kind + u32 segment + u64 offset + u32 length + u64 expiresAt. */
export const LEAF_ENTRY_FIXED_BYTES = 27;
/** Fixed part of a branch entry: u16 keyLen + u64 child offset + u32 child length. */
export const BRANCH_ENTRY_FIXED_BYTES = 14;

/** docs/format.md "Bloom filter". */
export const BLOOM_PAGE_BYTES = 4096;
export const BLOOM_PAGE_STRIDE = BLOOM_PAGE_BYTES + 4;
export const BLOOM_BUCKET_BYTES = 64;
export const BLOOM_BUCKETS_PER_PAGE = BLOOM_PAGE_BYTES / BLOOM_BUCKET_BYTES;
export const BLOOM_BITS_PER_KEY = 10;
export const BLOOM_PROBES = 7;
export const BLOOM_SEED_1 = 0x7a6b7631;
export const BLOOM_SEED_2 = 0x2545f491;

/** docs/format.md "MANIFEST". */
export const MANIFEST_HEADER_BYTES = 16;
export const MANIFEST_NAME = 'MANIFEST';
export const LOCK_NAME = 'LOCK';
/** docs/format.md "KEYRING": an encrypted store's wrapped data keys. */
export const KEYRING_NAME = 'KEYRING';
/** docs/format.md "The store directory": a follower's note of a replicate under way. */
export const REPLICATING_NAME = 'REPLICATING';
/** docs/format.md "The store directory": a leader's records of its followers. */
export const FOLLOWERS_DIR = 'followers';
/** docs/format.md "VERIFIED": when verify last ran and what it found. */
export const VERIFIED_NAME = 'VERIFIED';
/** docs/format.md "Quarantine": `QUARANTINE-TIME.tzq`, bytes `verify --repair` moved out of data segments. */
export const QUARANTINE_PREFIX = 'QUARANTINE-';
export const QUARANTINE_EXT = '.tzq';
/** docs/format.md "The store directory": the TTL scratch file of a run being written (`compact-PID-NNNNNNNN.ttl.tmp`). */
export const TTL_SCRATCH_EXT = '.ttl';
export const TMP_SUFFIX = '.tmp';
export const SEGMENT_EXT = '.tzds';
export const RUN_EXT = '.tzix';

/** docs/format.md "TTL section". */
export const MAGIC_TTL = 'TZTL';
export const TTL_HEADER_BYTES = 16;
export const TTL_ENTRY_BYTES = 16;

/**
 * docs/format.md "Records, version 2": flags bits 1–2 hold a PUT value's
 * compression, code 0 none, 1 deflate (raw), 2 brotli, 3 reserved (a reader
 * rejects it). A compressed value is stored as u32 uncompressed length ‖
 * compressed bytes.
 */
export const COMPRESSION_MASK = 0x06;
export const COMPRESSION_SHIFT = 1;
export const FLAG_DEFLATE = 1 << COMPRESSION_SHIFT;
export const FLAG_BROTLI = 2 << COMPRESSION_SHIFT;
export const COMPRESSED_LENGTH_BYTES = 4;
