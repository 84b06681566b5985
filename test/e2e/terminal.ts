// Runs tzkv as a person at a terminal runs it: util-linux `script` gives the
// CLI a pseudo-terminal of a chosen width for stdin, stdout and stderr, all
// three on the one screen. (helpers.tzkv gives it pipes, as a script would.)

import { execa } from 'execa';
import { BIN, NODE, childEnv } from './helpers.js';

export interface Screen {
  exitCode: number;
  /** Everything stdout and stderr wrote, in order; newlines as written (no CR added). */
  text: string;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export async function tzkvOnTerminal(args: string[], { columns = 80, env = {} }: { columns?: number; env?: Record<string, string> } = {}): Promise<Screen> {
  const command = `stty cols ${columns} rows 50 -onlcr; exec ${[NODE, BIN, ...args].map(quote).join(' ')}`;
  const run = await execa('script', ['-qec', command, '/dev/null'], {
    env: childEnv({ SHELL: '/bin/sh', ...env }),
    extendEnv: false,
    reject: false,
    input: '',
    timeout: 30_000,
    stripFinalNewline: false,
  });
  if (run.exitCode === undefined) throw new Error(`tzkv ${args.join(' ')} did not exit on a terminal: ${run.message}`);
  return { exitCode: run.exitCode, text: String(run.stdout) };
}

/** Colour and bold (SGR sequences), which tzkv itself writes to a terminal. */
export const stripStyle = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** A screen without the start-up trace (TZKV_TRACE_STARTUP), which may follow output that has no newline. */
export const withoutTrace = (text: string) => text.replace(/tzkv start-up: [^\n]*\n/g, '');

/** The lines of a screen without the trace and the styling. */
export const screenLines = (text: string) => stripStyle(withoutTrace(text)).split('\n');
