import { TzkvCommand } from '../cli/base.js';
import { lockFlag } from '../cli/flags.js';
import { note, printJson } from '../cli/output.js';
import { storeDirectory } from '../cli/open-store.js';
import { adminOf } from '../cli/store-admin.js';
import { TzkvError } from '../errors.js';

export default class Promote extends TzkvCommand {
  static override summary = 'Turn a follower into an independent, writable store.';
  static override description =
    'A follower made by `tzkv replicate` refuses writes. promote makes it a store of its own: writes work, and replicate from the old leader into it is refused from then on. Exit 1 when the store is not a follower. With --json prints {"promoted": true}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> -d /mnt/backup/kv',
    '<%= config.bin %> <%= command.id %> -d /mnt/backup/kv --json',
  ];
  static override flags = { ...lockFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Promote);
    const promoted = await this.withStore(flags, 'write', (store) => adminOf(store, (at) => `${at} is an etcd cluster, never a follower: there is nothing to promote`).promote());
    if (!promoted) throw new TzkvError('PRECONDITION', `store ${storeDirectory(flags.dir)} is not a follower: nothing to promote`);
    if (flags.json) return printJson({ promoted: true });
    note('promoted: the store is now independent and writable');
  }
}
