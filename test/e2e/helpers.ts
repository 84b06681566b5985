// Process-level test helpers: every test runs the built bin/run.js in a real
// child process, in a temporary directory of its own, and every store a test
// wrote to is checked with `tzkv verify` when the test ends.
//
// TZKV_TEST_NODE selects the Node binary that runs the CLI (scripts/test-node24.mjs
// sets it to the node@24 package's binary); default: the Node running vitest.

import { execa, type Options, type Result } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');
export const NODE = process.env.TZKV_TEST_NODE || process.execPath;

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, exactly. */
  bytes: Buffer;
}

export interface RunOptions {
  input?: string | Buffer;
  /** A file to connect to stdin. */
  inputFile?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Milliseconds before the process is killed and the run fails (default 30 s). */
  timeout?: number;
}

/** Variables that would change tzkv's behaviour and must come only from a test. */
const CONTROLLED = ['TZKV_DIR', 'TZKV_LOCK_TIMEOUT', 'TZKV_MODE', 'TZKV_KEY_FILE', 'TZKV_PASSPHRASE', 'TZKV_NEW_KEY_FILE', 'TZKV_NEW_PASSPHRASE', 'TZKV_NO_FAST_PATH', 'TZKV_TRACE_STARTUP', 'TZKV_ETCD_USER', 'TZKV_ETCD_PASSWORD', 'TZKV_ETCD_TIMEOUT', 'TZKV_NO_CODE_CACHE', 'NO_COLOR', 'FORCE_COLOR', 'XDG_DATA_HOME', 'NODE_OPTIONS'];

export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONTROLLED.includes(k)) env[k] = v;
  // vitest's NODE_ENV=test would put oclif in development mode.
  delete env.NODE_ENV;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `tzkv ...args`; never throws on a non-zero exit. */
export async function tzkv(args: string[], options: RunOptions = {}): Promise<Run> {
  const execaOptions: Options = {
    reject: false,
    encoding: 'buffer',
    env: childEnv(options.env),
    extendEnv: false,
    cwd: options.cwd ?? ROOT,
    timeout: options.timeout ?? 30_000,
    stripFinalNewline: false,
    ...(options.inputFile !== undefined ? { inputFile: options.inputFile } : { input: options.input ?? '' }),
  };
  const result = (await execa(NODE, [BIN, ...args], execaOptions)) as Result<{ encoding: 'buffer' }>;
  const bytes = Buffer.from(result.stdout as Uint8Array);
  if (result.exitCode === undefined) throw new Error(`tzkv ${args.join(' ')} did not exit: ${result.message}`);
  return { exitCode: result.exitCode, stdout: bytes.toString('utf8'), stderr: Buffer.from(result.stderr as Uint8Array).toString('utf8'), bytes };
}

/**
 * The CLI's two start paths (docs/cli.md "Start-up time"): the fast path, which
 * takes the plainest get, put, del, keys, incr and ttl lines and leaves every
 * other line to oclif, and oclif for every line. A behaviour holds on both.
 */
export const START_PATHS = [
  { path: 'the fast path', env: {} as Record<string, string> },
  { path: 'oclif', env: { TZKV_NO_FAST_PATH: '1' } as Record<string, string> },
];

/** Runs tzkv and parses stdout as exactly one JSON document. */
export async function tzkvJson<T = unknown>(args: string[], options: RunOptions = {}): Promise<{ run: Run; json: T }> {
  const run = await tzkv([...args, '--json'], options);
  return { run, json: JSON.parse(run.stdout) as T };
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tzkv-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A store directory path inside a fresh temporary directory (not yet created).
 * When the test ends, if a store is there (the directory exists and is not
 * empty), `tzkv verify` must find it clean.
 */
export async function storeDir(): Promise<string> {
  const dir = join(await tempDir(), 'store');
  cleanups.push(async () => {
    if (!existsSync(dir) || readdirSync(dir).length === 0) return;
    const run = await tzkv(['verify', '-d', dir]);
    expect(run.stderr, `verify after the test: ${run.stdout}`).toBe('');
    expect(run.exitCode).toBe(0);
  });
  return dir;
}

/** stderr never carries a stack trace for an expected error. */
export function expectNoStack(run: Run): void {
  expect(run.stderr).not.toMatch(/\n\s+at /);
}
