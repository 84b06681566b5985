// The compression candidates bench/compression-choice.mjs measures (issue
// #17 "Compression"): node:zlib's deflate (raw) and brotli at the levels a
// per-value store would use, and zstd and lz4 from npm packages that install
// without an install script (bench/'s dependencies, `npm run bench:install`).
// Each candidate is one value in, one value out, one synchronous call, as
// tzkv compresses: load() resolves to { compress(value), decompress(stored,
// length) }, where length is the value's length (tzkv stores it beside the
// compressed bytes) and bounds what decompression may produce.

import { createRequire } from 'node:module';
const require = createRequire(new URL('../package.json', import.meta.url));
/** node:zlib, loaded by the first candidate that uses it (so a process that loads none does not pay for it). */
const zlib = () => require('node:zlib');

const deflate = (level) => ({
  name: `deflate ${level}`,
  family: 'deflate',
  package: 'node:zlib',
  load: async () => {
    const { deflateRawSync, inflateRawSync } = zlib();
    return {
      compress: (value) => deflateRawSync(value, { level }),
      decompress: (stored, length) => inflateRawSync(stored, { maxOutputLength: length }),
    };
  },
});

const brotli = (quality) => ({
  name: `brotli ${quality}`,
  family: 'brotli',
  package: 'node:zlib',
  load: async () => {
    const { brotliCompressSync, brotliDecompressSync, constants } = zlib();
    return {
      compress: (value) =>
        brotliCompressSync(value, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: quality,
            [constants.BROTLI_PARAM_SIZE_HINT]: value.length,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          },
        }),
      decompress: (stored, length) => brotliDecompressSync(stored, { maxOutputLength: length }),
    };
  },
});

const fflate = (level) => ({
  name: `deflate ${level} (fflate, pure JS)`,
  family: 'deflate',
  package: 'fflate',
  load: async () => {
    const { deflateSync, inflateSync } = require('fflate');
    return { compress: (value) => deflateSync(value, { level }), decompress: (stored, length) => inflateSync(stored, { out: new Uint8Array(length) }) };
  },
});

const bokuwebZstd = (level) => ({
  name: `zstd ${level} (@bokuweb/zstd-wasm)`,
  family: 'zstd',
  package: '@bokuweb/zstd-wasm',
  load: async () => {
    const zstd = require('@bokuweb/zstd-wasm');
    await zstd.init();
    return { compress: (value) => zstd.compress(value, level), decompress: (stored) => zstd.decompress(stored) };
  },
});

const hpccZstd = (level) => ({
  name: `zstd ${level} (@hpcc-js/wasm-zstd)`,
  family: 'zstd',
  package: '@hpcc-js/wasm-zstd',
  load: async () => {
    const { Zstd } = await import(require.resolve('@hpcc-js/wasm-zstd'));
    const zstd = await Zstd.load();
    return { compress: (value) => zstd.compress(value, level), decompress: (stored) => zstd.decompress(stored) };
  },
});

const zstdCodec = (level) => ({
  name: `zstd ${level} (zstd-codec)`,
  family: 'zstd',
  package: 'zstd-codec',
  load: () =>
    new Promise((resolve) => {
      require('zstd-codec').ZstdCodec.run((zstd) => {
        const simple = new zstd.Simple();
        resolve({ compress: (value) => simple.compress(value, level), decompress: (stored) => simple.decompress(stored) });
      });
    }),
});

const lz4js = {
  name: 'lz4 (lz4js, pure JS)',
  family: 'lz4',
  package: 'lz4js',
  load: async () => {
    const lz4 = require('lz4js');
    return { compress: (value) => lz4.compress(value), decompress: (stored, length) => lz4.decompress(stored, length) };
  },
};

const lz4Napi = {
  name: 'lz4 (lz4-napi, native)',
  family: 'lz4',
  package: 'lz4-napi',
  load: async () => {
    const lz4 = require('lz4-napi');
    return { compress: (value) => lz4.compressSync(value), decompress: (stored) => lz4.uncompressSync(stored) };
  },
};

const lz4Wasm = {
  name: 'lz4 (lz4-wasm-nodejs)',
  family: 'lz4',
  package: 'lz4-wasm-nodejs',
  load: async () => {
    const lz4 = require('lz4-wasm-nodejs');
    return { compress: (value) => lz4.compress(value), decompress: (stored) => lz4.decompress(stored) };
  },
};

/** Every candidate, in the order the tables list them. */
export const CANDIDATES = [
  deflate(1),
  deflate(3),
  deflate(6),
  fflate(6),
  brotli(1),
  brotli(4),
  brotli(5),
  brotli(6),
  bokuwebZstd(1),
  bokuwebZstd(3),
  hpccZstd(1),
  hpccZstd(3),
  zstdCodec(1),
  zstdCodec(3),
  lz4js,
  lz4Napi,
  lz4Wasm,
];

/** The package directories a candidate installs (its platform binary's too), relative to bench/node_modules; none for node:zlib. */
export function installedPackages(candidate) {
  if (candidate.package.startsWith('node:')) return [];
  return candidate.package === 'lz4-napi' ? ['lz4-napi', `@antoniomuso/lz4-napi-${process.platform}-${process.arch}-gnu`] : [candidate.package];
}
