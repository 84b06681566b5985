// The entry of the CLI bundle (dist/tzkv.cjs): bin/run.js → src/cli/launch.ts →
// main(). oclif reads the command table from the bundle's entry (package.json
// oclif.commands: strategy "explicit", identifier COMMANDS), so the table and
// the entry are one file, above the commands and src/cli, which is handed the
// command names. Adding a command: one file in src/commands/, one line here,
// then `npm run build` regenerates oclif.manifest.json.

import { runCli } from '../cli/main.js';
import Batch from './batch.js';
import Compact from './compact.js';
import Completion from './completion.js';
import Del from './del.js';
import Export from './export.js';
import Get from './get.js';
import Getset from './getset.js';
import Import from './import.js';
import Incr from './incr.js';
import Init from './init.js';
import Keygen from './keygen.js';
import Keys from './keys.js';
import Lock from './lock.js';
import LockAcquire from './lock-acquire.js';
import LockList from './lock-list.js';
import LockRelease from './lock-release.js';
import Promote from './promote.js';
import Put from './put.js';
import Rekey from './rekey.js';
import Replicate from './replicate.js';
import Serve from './serve.js';
import Stats from './stats.js';
import Ttl from './ttl.js';
import Unlock from './unlock.js';
import Verify from './verify.js';
import Watch from './watch.js';

export const COMMANDS = {
  batch: Batch,
  compact: Compact,
  completion: Completion,
  del: Del,
  export: Export,
  get: Get,
  getset: Getset,
  import: Import,
  incr: Incr,
  init: Init,
  keygen: Keygen,
  keys: Keys,
  lock: Lock,
  'lock:acquire': LockAcquire,
  'lock:list': LockList,
  'lock:release': LockRelease,
  promote: Promote,
  put: Put,
  rekey: Rekey,
  replicate: Replicate,
  serve: Serve,
  stats: Stats,
  ttl: Ttl,
  unlock: Unlock,
  verify: Verify,
  watch: Watch,
};

/** Every name a command answers to: its id and its aliases (`set` for put). */
const COMMAND_NAMES = Object.entries(COMMANDS).flatMap(([id, command]) => [id, ...command.aliases]);

/** Runs one tzkv command line through oclif; `root` is the package directory. */
export const main = (argv: string[], root: string): Promise<void> => runCli(argv, root, COMMAND_NAMES);

export { buildManifest } from '../cli/main.js';
