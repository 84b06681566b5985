import * as Args from '@oclif/core/args';
import { TzkvCommand } from '../cli/base.js';
import { SHELLS, completionScript } from '../cli/completion-action.js';
import { printJson, writeOut } from '../cli/output.js';

export default class Completion extends TzkvCommand {
  static override summary = 'Print the shell completion script for bash, zsh or fish.';
  static override description = [
    'Completes command names and their aliases, subcommands, flags, the values of flags that take a fixed set (--format), files and directories, and the keys of the store: a KEY argument (get, put, del, ttl, incr, watch), a PREFIX (keys, export) or --prefix offers up to 100 keys that start with what is typed, from the store the line names with -d and -b (else $TZKV_DIR or the default store). Listing keys never creates a store; it gives up after 2 s and stays silent on any error. The script lists the commands and flags of this version: write it again after upgrading tzkv. Reads no store itself; with --json prints {"shell", "script"}.',
    'Install it once, then start a new shell:',
    '  bash: tzkv completion bash > ~/.local/share/bash-completion/completions/tzkv   (read by the bash-completion package; without it, put `source <(tzkv completion bash)` in ~/.bashrc)',
    '  zsh:  tzkv completion zsh > ~/.zfunc/_tzkv   (with `fpath=(~/.zfunc $fpath)` before compinit in ~/.zshrc; or `source <(tzkv completion zsh)` after compinit)',
    '  fish: tzkv completion fish > ~/.config/fish/completions/tzkv.fish',
    'Create the directory first if it is missing (mkdir -p).',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> bash > ~/.local/share/bash-completion/completions/<%= config.bin %>',
    '<%= config.bin %> <%= command.id %> zsh > ~/.zfunc/_<%= config.bin %>   # with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc',
    '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/<%= config.bin %>.fish',
  ];
  static override args = {
    shell: Args.string({ description: 'The shell: bash, zsh or fish.', options: [...SHELLS], required: true, ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Completion);
    const shell = args.shell as (typeof SHELLS)[number];
    const script = completionScript({ shell, commands: this.config.commands, baseFlags: Object.keys(Completion.baseFlags), bin: this.config.bin, version: this.config.version });
    await (flags.json ? printJson({ shell, script }) : writeOut(script));
  }
}
