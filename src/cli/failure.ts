// Turns anything a command throws into what the user sees: one `tzkv: ...`
// line on stderr (never a stack trace for an expected error), the JSON error
// document on stdout under --json, and the exit code of the README's table.

import { EXIT_CODES, TzkvError, type ErrorCode } from '../errors.js';
import { OutputClosed, jsonText, printMessage } from './output.js';
import { closest } from './suggest.js';

export interface Failure {
  code: ErrorCode;
  message: string;
  exitCode: number;
  /** The command line itself was wrong (oclif's parse errors): worth pointing at --help. */
  usage: boolean;
}

const BUG_REPORT = 'This is a bug in tzkv. Please report it with the command you ran and the lines below.';

/** Classifies an error: TzkvError as it is, oclif's usage errors as INVALID_ARGUMENT, the rest INTERNAL. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof TzkvError) return { code: err.code, message: err.message, exitCode: err.exitCode, usage: false };
  const oclifExit = (err as { oclif?: { exit?: unknown } } | undefined)?.oclif?.exit;
  if (err instanceof Error && typeof oclifExit === 'number') {
    // oclif's parse and "command not found" errors: always a usage error.
    return { code: 'INVALID_ARGUMENT', message: cleanOclifMessage(err.message) + flagHint(err), exitCode: EXIT_CODES.INVALID_ARGUMENT, usage: true };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `internal error: ${message}`, exitCode: EXIT_CODES.INTERNAL, usage: false };
}

/**
 * oclif appends "See more help with --help" to its messages (tzkv says it
 * once, its own way) and wraps a flag's parse error as "Parsing --flag \n\t...".
 */
function cleanOclifMessage(message: string): string {
  return message
    .replace(/\n?See more help with --help\s*$/, '')
    .replace(/^Parsing (--\S+)\s*\n\t/, 'invalid $1: ')
    .trim();
}

/** For oclif's "Nonexistent flag: --jsn": "; did you mean --json?" when a flag of the command is near enough. */
function flagHint(err: Error): string {
  const { flags: typed, parse } = err as { flags?: unknown; parse?: { input?: { flags?: Record<string, unknown> } } };
  if (!Array.isArray(typed) || parse?.input?.flags === undefined) return '';
  const names = Object.keys(parse.input.flags);
  for (const word of typed) {
    if (typeof word !== 'string' || !word.startsWith('--')) continue;
    const nearest = closest(word.slice(2).split('=')[0], names);
    if (nearest !== undefined) return `; did you mean --${nearest}?`;
  }
  return '';
}

/**
 * Reports `err` and sets the exit code. `command` (for example "get") adds a
 * pointer to its help after usage errors. A closed stdout is no failure.
 */
export function reportFailure(err: unknown, { json, command }: { json: boolean; command?: string }): Failure | undefined {
  if (err instanceof OutputClosed) return undefined;
  const failure = describeFailure(err);
  if (json) process.stdout.write(jsonText({ error: { code: failure.code, message: failure.message, exitCode: failure.exitCode } }));
  let text = failure.message;
  if (failure.usage) text += `\nSee 'tzkv${command ? ` ${command}` : ''} --help'.`;
  if (failure.code === 'INTERNAL') text += `\n${BUG_REPORT}\n${err instanceof Error && err.stack ? err.stack : String(err)}`;
  printMessage(text);
  process.exitCode = failure.exitCode;
  return failure;
}

/** Whether --json was given (before any `--`), readable even when parsing failed. */
export function jsonRequested(argv: readonly string[]): boolean {
  return hasFlag(argv, '--json');
}

/** Whether any of `flags` is written before `--` (after it every word is an argument). */
export function hasFlag(argv: readonly string[], ...flags: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((word) => flags.includes(word));
}
