import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { lockFlag, modeFlag } from '../cli/flags.js';
import { describeStore, initStore } from '../cli/init-action.js';
import { note, printJson } from '../cli/output.js';
import { COMPRESSION_ALGORITHMS, DEFAULT_COMPRESSION, DEFAULT_COMPRESSION_MIN_BYTES } from '../format/store-codec.js';

export default class Init extends TzkvCommand {
  static override summary = 'Create a store: plain, encrypted, compressed, or both.';
  static override description = `Creates the store directory (parents included) or uses an empty one, and writes the store's first files at once. A plain store needs no init (its first write starts it); init is how a store becomes encrypted or compressed, for good: --encrypt encrypts every key and value on disk with a random data key, wrapped by the secret from --key-file, $TZKV_KEY_FILE or a passphrase in $TZKV_PASSPHRASE (refused without one, exit 6); every later command on the store needs the same secret. --compress compresses values of ${DEFAULT_COMPRESSION_MIN_BYTES} bytes or more with ${DEFAULT_COMPRESSION} (--compression chooses: ${COMPRESSION_ALGORITHMS.join(', ')}). A directory that already holds a store is exit 1 and is left as it is; one of other files is exit 5. Directory stores only: etcd has its own encryption at rest. With --json prints {"location", "formatVersion", "encrypted", "compression"}.`;
  static override examples = [
    '<%= config.bin %> keygen > ~/.config/tzkv/secrets.key',
    '<%= config.bin %> <%= command.id %> --encrypt --key-file ~/.config/tzkv/secrets.key -d ./secrets',
    'TZKV_PASSPHRASE=... <%= config.bin %> <%= command.id %> --encrypt --compress -d ./secrets',
    '<%= config.bin %> <%= command.id %> --compression deflate -d ./fixtures',
  ];
  static override flags = {
    encrypt: Flags.boolean({ summary: 'Encrypt keys and values at rest (needs --key-file, $TZKV_KEY_FILE or $TZKV_PASSPHRASE).', default: false }),
    compress: Flags.boolean({ summary: `Compress values (with ${DEFAULT_COMPRESSION}).`, default: false, exclusive: ['compression'] }),
    compression: Flags.string({ summary: 'Compress values with this algorithm.', options: [...COMPRESSION_ALGORITHMS], helpValue: 'ALGORITHM', exclusive: ['compress'] }),
    ...lockFlag,
    ...modeFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    const report = await initStore(flags);
    if (flags.json) return printJson(report);
    note(`created ${describeStore(report)} at ${report.location} (format version ${report.formatVersion})`);
  }
}
