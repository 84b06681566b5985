// Everything a command prints goes through here. Data to stdout, messages to
// stderr. Colour and tables only for a terminal (NO_COLOR and FORCE_COLOR
// decide first); plain, stable lines otherwise. What a terminal is shown has
// its control characters escaped (src/cli/terminal-text.ts); pipes and files
// get the exact bytes. chalk and cli-table3 are loaded only when a terminal
// will see them.

import { once } from 'node:events';
import { terminalJson, terminalText } from './terminal-text.js';

type Stream = NodeJS.WriteStream;

/**
 * Thrown by writeOut once the reader of stdout has gone away
 * (`tzkv export | head -1`): the command stops, quietly and with exit 0.
 */
export class OutputClosed extends Error {
  constructor() {
    super('standard output was closed by its reader');
  }
}

let outputClosed = false;
let watching = false;

/** Writes bytes or text to stdout, waiting when the pipe is full. */
export async function writeOut(data: string | Uint8Array): Promise<void> {
  if (!watching) {
    watching = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') outputClosed = true;
    });
  }
  if (outputClosed) throw new OutputClosed();
  if (process.stdout.write(data)) return;
  const drained = once(process.stdout, 'drain').then(
    () => undefined,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') throw new OutputClosed();
      throw err;
    },
  );
  await drained;
}

/** One JSON document as stdout shows it, with its newline: indented and escaped for a terminal, one line for a program. */
export function jsonText(value: unknown): string {
  if (!process.stdout.isTTY) return `${JSON.stringify(value)}\n`;
  return `${terminalJson(JSON.stringify(value, null, 2))}\n`;
}

/** One JSON document on stdout (jsonText). */
export function printJson(value: unknown): Promise<void> {
  return writeOut(jsonText(value));
}

/** Text as `stream` should show it: escaped for a terminal (keeping the characters in `keep`), exactly as it is otherwise. */
export function shown(text: string, { stream = process.stdout, keep = '' }: { stream?: Stream; keep?: string } = {}): string {
  return stream.isTTY ? terminalText(text, keep) : text;
}

/** A `tzkv: ...` message on stderr, for scripts and people alike; it may span lines. */
export function printMessage(message: string): void {
  process.stderr.write(`tzkv: ${shown(message, { stream: process.stderr, keep: '\n' })}\n`);
}

/** A note for a person at a terminal (stderr); scripts see nothing. */
export function note(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${shown(message, { stream: process.stderr, keep: '\n' })}\n`);
}

/** Whether `stream` gets colour: NO_COLOR (any value) off, FORCE_COLOR on (unless 0/false), else a terminal. */
function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false');
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

/**
 * Key–value facts (stats, reports): on a terminal a two-column table without
 * rules between rows, as wide as the terminal at most (long values wrap);
 * `name: value` lines otherwise.
 */
export async function printFacts(facts: Array<[string, string | number | null]>): Promise<void> {
  if (process.stdout.isTTY) {
    const [{ default: Table }, chalk] = await Promise.all([import('cli-table3'), colours()]);
    const cells = facts.map(([name, value]): [string, string | null] => [name, value === null ? null : terminalText(String(value))]);
    // Each column pads its text by one space on either side; the borders take three columns.
    const nameWidth = Math.max(...cells.map(([name]) => name.length)) + 2;
    const longest = Math.max(1, ...cells.map(([, value]) => (value === null ? 1 : [...value].length))) + 2;
    const valueWidth = Math.max(MIN_VALUE_WIDTH, Math.min(longest, (process.stdout.columns || 80) - nameWidth - 3));
    const table = new Table({ style: { head: [], border: [], compact: true }, colWidths: [nameWidth, valueWidth] });
    for (const [name, value] of cells) table.push({ [chalk.bold(name)]: value === null ? chalk.dim('-') : wrap(value, valueWidth - 2) });
    return writeOut(`${table.toString()}\n`);
  }
  return writeOut(facts.map(([name, value]) => `${name}: ${value === null ? '-' : value}\n`).join(''));
}

/** The narrowest value column a table gets, however narrow the terminal. */
const MIN_VALUE_WIDTH = 12;

/** `text` in lines of at most `width` characters: broken at spaces where it can be, inside a word where it is longer than a line. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line: string[] = [];
  for (const word of text.split(' ')) {
    let chars = [...word];
    if (line.length > 0 && line.length + 1 + chars.length > width) lines.push(line.splice(0).join(''));
    if (line.length > 0) line.push(' ');
    while (line.length + chars.length > width) {
      lines.push([...line, ...chars.slice(0, width - line.length)].join(''));
      chars = chars.slice(width - line.length);
      line = [];
    }
    line.push(...chars);
  }
  return [...lines, line.join('')].join('\n');
}

/** chalk at the level this process's stdout deserves. */
async function colours(stream: Stream = process.stdout) {
  const { Chalk } = await import('chalk');
  return new Chalk({ level: colourEnabled(stream) ? 1 : 0 });
}

/** How commands mark good and bad news in text output (plain when colour is off). */
export interface Palette {
  good(text: string): string;
  bad(text: string): string;
}

export async function palette(): Promise<Palette> {
  if (!colourEnabled(process.stdout)) return { good: (text) => text, bad: (text) => text };
  const chalk = await colours();
  return { good: (text) => chalk.green(text), bad: (text) => chalk.red(text) };
}
