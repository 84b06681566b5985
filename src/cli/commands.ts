// The command table oclif reads (package.json oclif.commands: strategy
// "explicit", identifier COMMANDS). Adding a command: one file in
// src/commands/, one line here, then `npm run build` regenerates
// oclif.manifest.json.

import Compact from '../commands/compact.js';
import Del from '../commands/del.js';
import Export from '../commands/export.js';
import Get from '../commands/get.js';
import Import from '../commands/import.js';
import Incr from '../commands/incr.js';
import Keys from '../commands/keys.js';
import Promote from '../commands/promote.js';
import Put from '../commands/put.js';
import Replicate from '../commands/replicate.js';
import Stats from '../commands/stats.js';
import Ttl from '../commands/ttl.js';
import Unlock from '../commands/unlock.js';
import Verify from '../commands/verify.js';

export const COMMANDS = {
  compact: Compact,
  del: Del,
  export: Export,
  get: Get,
  import: Import,
  incr: Incr,
  keys: Keys,
  promote: Promote,
  put: Put,
  replicate: Replicate,
  stats: Stats,
  ttl: Ttl,
  unlock: Unlock,
  verify: Verify,
};
