import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { lockFlag } from '../cli/flags.js';
import { note, printJson } from '../cli/output.js';
import { rekeyStore } from '../cli/rekey-action.js';

export default class Rekey extends TzkvCommand {
  static override summary = "Change an encrypted store's secret, without rewriting its data.";
  static override description =
    'Opens the store with its current secret (--key-file, $TZKV_KEY_FILE or $TZKV_PASSPHRASE) and wraps its data keys under the new one (--new-key-file, $TZKV_NEW_KEY_FILE, or a passphrase in $TZKV_NEW_PASSPHRASE): KEYRING is replaced whole under the writer lock, the data stays as it is, so it takes the same time for any size of store. Killed at any point, the store opens with the old secret or the new one. Afterwards only the new secret opens the store; a command already running keeps working. Exit 6 when the current secret does not open the store or no new one is given; exit 2 for a store that is not encrypted (as compact --new-data-key). With --json prints {"rekeyed": true, "location"}.';
  static override examples = [
    '<%= config.bin %> keygen > new.key && <%= config.bin %> <%= command.id %> -d ./secrets --key-file old.key --new-key-file new.key',
    'TZKV_PASSPHRASE=old TZKV_NEW_PASSPHRASE=new <%= config.bin %> <%= command.id %> -d ./secrets',
  ];
  static override flags = {
    'new-key-file': Flags.string({ summary: 'The key file that opens the store from now on.', env: 'TZKV_NEW_KEY_FILE', helpValue: 'PATH' }),
    ...lockFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Rekey);
    const location = await rekeyStore(flags);
    if (flags.json) return printJson({ rekeyed: true, location });
    note(`rekeyed ${location}: only the new secret opens it from now on`);
  }
}
