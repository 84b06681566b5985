import { TzkvCommand } from '../cli/base.js';
import { newKeyText, prepareKeyOutput } from '../cli/keygen-action.js';
import { printJson, writeOut } from '../cli/output.js';

export default class Keygen extends TzkvCommand {
  static override summary = 'Print a new key for an encrypted store, for a key file.';
  static override description =
    'Prints 32 random bytes as base64 and a newline, the form --key-file and $TZKV_KEY_FILE read. Redirect it to a file: when stdout is a regular file, keygen makes it private (mode 0600) before writing; on a terminal it refuses (exit 2), so a key never lands in a scrollback. Keep the file apart from the store: whoever has both can read the data, and without the key (or a passphrase the store was made with) nobody can, you included. With --json prints {"key"}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> > ~/.config/tzkv/store.key',
    '<%= config.bin %> init --encrypt --key-file ~/.config/tzkv/store.key -d ./secrets',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Keygen);
    prepareKeyOutput(1, process.stdout.isTTY === true);
    const key = newKeyText();
    if (flags.json) return printJson({ key: key.trim() });
    await writeOut(key);
  }
}
