// `tzkv serve`'s command line as serve()'s options (docs/cli.md "serve"):
// every flag is checked here, before any store is opened or port taken, so a
// bad one changes nothing. A bad value is INVALID_ARGUMENT (exit 2); a file
// or directory that is not there is IO (exit 5); each message names the flag.

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TzkvError, ioError } from '../errors.js';
import type { SyncMode } from '../serve/core/served-store.js';
import type { ServeOptions } from '../serve/serve.js';
import { checkTlsPair } from '../serve/tls-pair.js';
import { parseDuration } from '../text/duration.js';
import { parseSize } from './size.js';

/** The flags of `tzkv serve` that shape the server (src/commands/serve.ts declares them). */
export interface ServeFlags {
  port: number;
  'http-port': number;
  redis: boolean;
  http: boolean;
  bind: string;
  unix?: string;
  requirepass?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  sync: string;
  cache: string;
  'max-clients': number;
  timeout?: string;
}

/** The command line as serve()'s options (without `log`). `env`: where TZKV_PASSWORD is read, to tell an empty one from none. */
export function serveOptions(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeOptions {
  if (!flags.redis && !flags.http) throw new TzkvError('INVALID_ARGUMENT', '--no-redis and --no-http together leave nothing to serve');
  if (!flags.redis && flags.unix !== undefined) throw new TzkvError('INVALID_ARGUMENT', '--unix serves the Redis protocol: it cannot go with --no-redis');
  const port = (value: number, flag: string) => {
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new TzkvError('INVALID_ARGUMENT', `invalid ${flag} ${value}: expected a port from 1 to 65535 (0: any free port)`);
    return value;
  };
  if (flags.bind.trim() === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --bind "": expected an address such as 127.0.0.1, ::1 or 0.0.0.0');
  if (flags.requirepass === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --requirepass "" (or TZKV_PASSWORD): a password cannot be empty');
  // oclif takes an empty variable for an unset one: serving with no password would then be a surprise.
  if (flags.requirepass === undefined && env.TZKV_PASSWORD === '') {
    throw new TzkvError('INVALID_ARGUMENT', 'invalid TZKV_PASSWORD "": a password cannot be empty (unset TZKV_PASSWORD to serve without one)');
  }
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) {
    throw new TzkvError('INVALID_ARGUMENT', 'TLS needs both --tls-cert and --tls-key');
  }
  if (!Number.isInteger(flags['max-clients']) || flags['max-clients'] < 1) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --max-clients ${flags['max-clients']}: expected 1 or more`);
  }
  const options: ServeOptions = {
    redis: flags.redis ? { host: flags.bind, port: port(flags.port, '--port') } : null,
    http: flags.http ? { host: flags.bind, port: port(flags['http-port'], '--http-port') } : null,
    password: flags.requirepass ?? null,
    sync: parseSync(flags.sync),
    cacheBytes: parseSize(flags.cache, '--cache'),
    maxClients: flags['max-clients'],
    idleTimeoutMs: flags.timeout === undefined ? 0 : parseDuration(flags.timeout, '--timeout', { allowZero: true }),
  };
  return { ...options, unix: socketPath(flags.unix), tls: tlsPair(flags['tls-cert'], flags['tls-key']) };
}

/** `always`, `never`, or `batch-ms=N` (fsync at most N ms after acknowledging; `batch-ms:N` and `batch-ms N` as one word too). */
function parseSync(text: string): SyncMode {
  const t = text.trim().toLowerCase();
  if (t === 'always') return { kind: 'always' };
  if (t === 'never') return { kind: 'never' };
  const match = /^batch-ms(?:[=:\s]\s*(\d+))?$/.exec(t);
  if (match && match[1] === undefined) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --sync "${text}": batch-ms needs its window in ms, as in --sync batch-ms=100`);
  }
  const ms = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 60_000) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --sync "${text}": expected always, never, or batch-ms=N (N from 1 to 60000 ms)`);
  }
  return { kind: 'batch', ms };
}

/**
 * Before oclif parses: `--sync batch-ms 100` (the window as a word of its
 * own) would be refused as "Unexpected argument: 100", which names no flag.
 */
export function refuseSplitSync(argv: readonly string[]): void {
  for (let i = 0; i + 1 < argv.length; i++) {
    if (argv[i] === '--') return;
    const value = argv[i] === '--sync' ? argv[i + 1] : argv[i]!.startsWith('--sync=') ? argv[i]!.slice('--sync='.length) : undefined;
    const next = argv[i] === '--sync' ? argv[i + 2] : argv[i + 1];
    if (value?.toLowerCase() === 'batch-ms' && next !== undefined && /^\d+$/.test(next)) {
      throw new TzkvError('INVALID_ARGUMENT', `invalid --sync "${value}" followed by "${next}": write it as one word, --sync batch-ms=${next}`);
    }
  }
}

/** --unix, absolute; its directory must be there (Node would say only "permission denied"). */
function socketPath(path: string | undefined): string | null {
  if (path === undefined) return null;
  if (path === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --unix "": expected the path of a socket to create');
  const socket = resolve(path);
  const directory = dirname(socket);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(err, `cannot listen on ${socket}: cannot reach the directory`, directory);
    throw new TzkvError('IO', `cannot listen on ${socket}: the directory ${directory} does not exist`, { path: directory });
  }
  if (!isDirectory) throw new TzkvError('IO', `cannot listen on ${socket}: ${directory} is not a directory`, { path: directory });
  return socket;
}

/** --tls-cert and --tls-key read and checked (a file that is not PEM, or a key of another certificate, is exit 2 naming it). */
function tlsPair(certPath: string | undefined, keyPath: string | undefined): ServeOptions['tls'] {
  if (certPath === undefined || keyPath === undefined) return null;
  const cert = readTlsFile(certPath, '--tls-cert');
  const key = readTlsFile(keyPath, '--tls-key');
  checkTlsPair(cert, key, { cert: `--tls-cert ${certPath}`, key: `--tls-key ${keyPath}` });
  return { cert, key };
}

function readTlsFile(path: string, flag: string): Buffer {
  if (path === '') throw new TzkvError('INVALID_ARGUMENT', `invalid ${flag} "": expected a PEM file`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError(err, `cannot read ${flag}`, path);
  }
}
