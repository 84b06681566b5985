// Flags and arguments shared by several commands. Durations and times are
// taken as strings and parsed by the command (src/text/duration.ts), so a bad
// value gets tzkv's own message and exit code 2 rather than oclif's wrapping.

import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { DURATION_HELP } from '../text/duration.js';

/** On every command (the base command's baseFlags). */
export const globalFlags = {
  dir: Flags.string({
    char: 'd',
    summary: 'Store directory, or etcd://host:port[,host:port...]/PREFIX.',
    description:
      'Defaults to $TZKV_DIR, else $XDG_DATA_HOME/tzkv (~/.local/share/tzkv). An etcd:// (etcds:// for TLS) address keeps the keys under PREFIX in an etcd v3 cluster (docs/etcd.md).',
    env: 'TZKV_DIR',
    helpValue: 'DIR',
  }),
  json: Flags.boolean({
    summary: 'Print exactly one JSON document on stdout.',
    default: false,
  }),
  'key-file': Flags.string({
    summary: 'Key file of an encrypted store (tzkv keygen makes one).',
    description:
      'Defaults to $TZKV_KEY_FILE; without either, a passphrase in $TZKV_PASSPHRASE. The file holds 32 bytes, or their base64. A store that is not encrypted never reads it.',
    env: 'TZKV_KEY_FILE',
    helpValue: 'PATH',
  }),
  'etcd-user': Flags.string({
    summary: 'etcd user name (the password comes from $TZKV_ETCD_PASSWORD).',
    env: 'TZKV_ETCD_USER',
    helpValue: 'NAME',
    helpGroup: 'ETCD',
  }),
  'etcd-ca': Flags.string({ summary: 'CA certificate (PEM) for etcds://.', helpValue: 'FILE', helpGroup: 'ETCD' }),
  'etcd-cert': Flags.string({ summary: 'Client certificate (PEM) for etcds://.', helpValue: 'FILE', helpGroup: 'ETCD' }),
  'etcd-key': Flags.string({ summary: 'Client key (PEM) for etcds://.', helpValue: 'FILE', helpGroup: 'ETCD' }),
  'etcd-timeout': Flags.string({
    summary: 'How long an etcd call may take, all members tried (default 5s).',
    env: 'TZKV_ETCD_TIMEOUT',
    helpValue: 'DURATION',
    helpGroup: 'ETCD',
  }),
};

/** On commands that read or write keys: `-b users` turns key `42` into `users:42`. */
export const bucketFlag = {
  bucket: Flags.string({
    char: 'b',
    summary: 'Prefix every key with NAME: (a namespace).',
    helpValue: 'NAME',
  }),
};

/** On commands that write: how long to wait for another writer. */
export const lockFlag = {
  'lock-timeout': Flags.string({
    summary: 'How long to wait for the writer lock (0: fail at once).',
    description: `A duration: ${DURATION_HELP}. Defaults to $TZKV_LOCK_TIMEOUT, else 10s.`,
    env: 'TZKV_LOCK_TIMEOUT',
    helpValue: 'DURATION',
  }),
};

/** On commands that may create a store: the new directory's permissions. */
export const modeFlag = {
  mode: Flags.string({
    summary: 'Permissions of a store directory this command creates (default 0700: private).',
    description:
      'Octal, for example 0750 to let a group read the store. The owner needs rwx; setgid (2750) makes new files take the directory\'s group. Files tzkv creates get the directory\'s bits less execute (0700: 0600, 0750: 0640). An existing directory keeps its mode; one that group or others may write to is warned about whenever it is opened. Defaults to $TZKV_MODE.',
    env: 'TZKV_MODE',
    helpValue: 'MODE',
  }),
};

/** The key argument. Never filled from stdin: a `while read` loop must keep its lines. */
export const keyArg = Args.string({ name: 'key', description: 'The key (any text, as UTF-8); after "--" when it starts with "-".', required: true, ignoreStdin: true });

/** On `lock` and `lock acquire`: the lock's TTL and how long to wait for it (docs/cli.md "lock"). */
export const lockWaitFlags = {
  ttl: Flags.string({
    summary: 'How long the lock outlives a holder that stops renewing it (at least 1s).',
    description: `A duration: ${DURATION_HELP}. \`tzkv lock NAME -- COMMAND\` renews the lock every TTL/3 while COMMAND runs; \`lock acquire\`'s lock is not renewed: it ends after the TTL unless released first.`,
    helpValue: 'DURATION',
    default: '30s',
  }),
  wait: Flags.string({
    summary: 'How long to wait while another holds the lock (default: for ever; 0: not at all), then exit 3.',
    description: `A duration: ${DURATION_HELP}.`,
    helpValue: 'DURATION',
  }),
};

/** The lock NAME argument. */
export const lockNameArg = Args.string({ name: 'name', description: 'The lock name (printable ASCII, no spaces).', required: true, ignoreStdin: true });
