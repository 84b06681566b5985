// Recognises the plainest `tzkv get`, `put`, `del`, `keys`, `incr` and `ttl` command lines,
// which the launcher runs without loading oclif (src/cli/fast.ts): most of a
// one-shot command's start-up is oclif loading its configuration and parser.
//
// Only lines whose meaning is beyond doubt qualify: known flags, each at most
// once, with non-empty values that do not look like flags; the exact number
// of arguments, none starting with "-" unless after `--`; a store directory rather than an
// etcd address (nor etcd settings in the environment). Anything else (help, stdin values, --file, --expire-at,
// a flag this command lacks, a mistake) returns undefined and goes through
// oclif as before, which also reports every error in the usual way.
// TZKV_NO_FAST_PATH=1 turns the fast path off.
//
// The launcher imports this file: it must stay small (its one import, the
// etcd address test, brings only src/errors.ts along).

import { isEtcdAddress } from '../etcd/url.js';

export type FastCommand = 'get' | 'put' | 'del' | 'keys' | 'incr' | 'ttl';

export interface FastPlan {
  command: FastCommand;
  /** The arguments: get KEY, put KEY VALUE, del KEY..., keys [PREFIX], incr KEY [BY], ttl KEY [DURATION]. */
  args: string[];
  /** --dir, else $TZKV_DIR (empty counts as unset, as oclif has it). */
  dir?: string;
  bucket?: string;
  json: boolean;
  ttl?: string;
  'if-absent': boolean;
  /** --lock-timeout, else $TZKV_LOCK_TIMEOUT (commands that write). */
  'lock-timeout'?: string;
  /** --mode, else $TZKV_MODE (commands that may create a store). */
  mode?: string;
  /** keys --limit. */
  limit?: number;
  /** keys -0/--null (absent when not given). */
  null?: true;
  /** ttl --persist. */
  persist: boolean;
}

type FlagName = 'dir' | 'bucket' | 'json' | 'ttl' | 'if-absent' | 'lock-timeout' | 'mode' | 'limit' | 'persist' | 'null';

/** Each command's flags: true for those that take a value. */
const FLAGS: Record<FastCommand, Partial<Record<FlagName, boolean>>> = {
  get: { dir: true, bucket: true, json: false },
  put: { dir: true, bucket: true, json: false, ttl: true, 'if-absent': false, 'lock-timeout': true, mode: true },
  del: { dir: true, bucket: true, json: false, 'lock-timeout': true },
  keys: { dir: true, bucket: true, json: false, limit: true, null: false },
  incr: { dir: true, bucket: true, json: false, 'lock-timeout': true, mode: true },
  ttl: { dir: true, bucket: true, json: false, 'lock-timeout': true, mode: true, persist: false },
};
const SHORT: Record<string, FlagName> = { '-d': 'dir', '-b': 'bucket', '-n': 'limit', '-0': 'null' };

/** The flag a word names (`-d`, `--dir`), whichever command has it. */
const flagName = (written: string): FlagName | undefined => SHORT[written] ?? (written.startsWith('--') ? (written.slice(2) as FlagName) : undefined);

/** Whether a written flag takes a value, by the table above. */
function takesValue(written: string): boolean {
  const name = flagName(written);
  return name !== undefined && Object.values(FLAGS).some((known) => known[name] === true);
}

/** How many arguments each command takes: [least, most]. */
const ARGUMENTS: Record<FastCommand, [number, number]> = { get: [1, 1], put: [2, 2], del: [1, Infinity], keys: [0, 1], incr: [1, 2], ttl: [1, 2] };
const isCommand = (word: string): word is FastCommand => Object.hasOwn(FLAGS, word);

/**
 * The flags whose value src/cli/main.ts's commandFirst steps over when they
 * come before the command (any other word starting with "-" it takes for a
 * flag without a separate value): every flag of the table above that takes
 * one, so `tzkv --mode 0750 put k v` and `tzkv -n 1 keys` find their command.
 */
export const VALUE_FLAGS: ReadonlySet<string> = new Set(
  [...Object.keys(SHORT), ...Object.values(FLAGS).flatMap((known) => Object.keys(known).map((name) => `--${name}`))].filter(takesValue),
);

/** The value flags the fast path itself takes before the command; a line with another goes to oclif. */
const FAST_BEFORE_COMMAND: ReadonlySet<string> = new Set(['-d', '--dir', '-b', '--bucket', '--lock-timeout']);

/** Whether the fast path reads a flag before the command: one of its value flags, or a flag without a value. */
const fineBeforeCommand = (written: string) => FAST_BEFORE_COMMAND.has(written) || (flagName(written) !== undefined && !takesValue(written));

/** The plan for a plain get, put, del, keys, incr or ttl line, or undefined when oclif must handle it. */
export function fastPlan(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FastPlan | undefined {
  // The etcd flags' variables are read (and checked) by oclif even for a directory.
  if (env.TZKV_NO_FAST_PATH || env.TZKV_ETCD_USER || env.TZKV_ETCD_TIMEOUT) return undefined;
  let command: FastCommand | undefined;
  const flags = new Map<FlagName, string | true>();
  const positional: string[] = [];
  const pending: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      // The rest are arguments, whatever they look like (`tzkv get -- -k`).
      if (command === undefined) return undefined;
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (command === undefined && !word.startsWith('-')) {
      if (!isCommand(word)) return undefined;
      command = word;
      continue;
    }
    if (!word.startsWith('-')) {
      positional.push(word);
      continue;
    }
    // A flag, kept as written until the command (and so its flags) is known.
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq === -1 ? word : word.slice(0, eq);
    if (command === undefined && !fineBeforeCommand(name)) return undefined;
    if (takesValue(name) && eq === -1) {
      const value = argv[++i];
      if (value === undefined) return undefined;
      pending.push(name, value);
    } else if (eq !== -1) {
      pending.push(name, word.slice(eq + 1));
    } else {
      pending.push(name, '');
    }
  }
  if (command === undefined) return undefined;
  const [least, most] = ARGUMENTS[command];
  if (positional.length < least || positional.length > most || positional.includes('')) return undefined;
  const known = FLAGS[command];
  for (let i = 0; i < pending.length; i += 2) {
    const written = pending[i];
    const value = pending[i + 1];
    const name = flagName(written);
    if (name === undefined || !Object.hasOwn(known, name) || flags.has(name)) return undefined;
    if (known[name]) {
      if (value === '' || value.startsWith('-')) return undefined;
      flags.set(name, value);
    } else {
      if (value !== '') return undefined;
      flags.set(name, true);
    }
  }
  const dir = (flags.get('dir') as string | undefined) ?? (env.TZKV_DIR || undefined);
  if (dir !== undefined && isEtcdAddress(dir)) return undefined;
  const plan: FastPlan = { command, args: positional, json: flags.has('json'), 'if-absent': flags.has('if-absent'), persist: flags.has('persist') };
  if (flags.has('null')) plan.null = true;
  if (dir !== undefined) plan.dir = dir;
  const bucket = flags.get('bucket') as string | undefined;
  if (bucket !== undefined) plan.bucket = bucket;
  const ttl = flags.get('ttl') as string | undefined;
  if (ttl !== undefined) plan.ttl = ttl;
  const limit = flags.get('limit') as string | undefined;
  if (limit !== undefined) {
    // What oclif's integer flag takes without a word of its own: a plain positive count.
    if (!/^[1-9][0-9]{0,14}$/.test(limit)) return undefined;
    plan.limit = Number(limit);
  }
  const lockTimeout = (flags.get('lock-timeout') as string | undefined) ?? (Object.hasOwn(known, 'lock-timeout') ? env.TZKV_LOCK_TIMEOUT || undefined : undefined);
  if (lockTimeout !== undefined) plan['lock-timeout'] = lockTimeout;
  const mode = (flags.get('mode') as string | undefined) ?? (Object.hasOwn(known, 'mode') ? env.TZKV_MODE || undefined : undefined);
  if (mode !== undefined) plan.mode = mode;
  return plan;
}
