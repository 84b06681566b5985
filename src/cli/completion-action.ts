// The work of `tzkv completion SHELL`: the completion script for a shell,
// written from the command table oclif loaded (completion-spec.ts).

import type { Command } from '@oclif/core/command';
import { bashScript } from './completion-bash.js';
import { fishScript } from './completion-fish.js';
import { completionSpec, type CompletionSpec } from './completion-spec.js';
import { zshScript } from './completion-zsh.js';

/** The shells tzkv writes completion for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

const WRITERS: Record<Shell, (spec: CompletionSpec) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };

export interface CompletionRequest {
  shell: Shell;
  /** oclif's loaded commands (config.commands: aliases appear as commands too). */
  commands: readonly Command.Loadable[];
  /** The names of the flags every command has (the base command's). */
  baseFlags: readonly string[];
  bin: string;
  version: string;
}

/** The script to source in `shell`. */
export function completionScript({ shell, commands, baseFlags, bin, version }: CompletionRequest): string {
  return WRITERS[shell](completionSpec(commands, baseFlags, bin, version));
}
