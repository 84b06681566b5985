// What `tzkv batch` does once its command line is parsed (docs/cli.md
// "batch"): reads operations, one a line (src/cli/batch-line.ts), and
// applies them in one process, either all in one transaction (the default:
// every line read first, then Store.transact) or one by one (--each, as the
// lines arrive), printing one result a line (src/cli/batch-ops.ts).

import type { Store } from '../api.js';
import { readFileSync } from 'node:fs';
import { EXIT_CODES, TzkvError, ioError, isTzkvError } from '../errors.js';
import { bucketPrefix } from './bucket.js';
import { type BatchOp, isRead, keyOf, LineReader } from './batch-line.js';
import { type BatchResult, applyOp, failureJson, failureText, readOp, resultJson, resultText } from './batch-ops.js';
import { openSource, readStdin, splitLines, type Source } from './input.js';
import { type StoreFlags, withStore } from './open-store.js';
import { note, printMessage, shown, writeOut } from './output.js';
import { givenPath } from './paths.js';
import { terminalJson } from './terminal-text.js';
import { mark } from './trace.js';

export interface BatchRequest extends StoreFlags {
  /** FILE: "-" reads stdin; left out, a usage error (a loop's input is not a batch's). */
  file?: string;
  bucket?: string;
  /** --each: line by line; otherwise all lines in one transaction. */
  each: boolean;
  json: boolean;
}

/** A line of input that holds an operation, or should: the operation, or why it is none. */
interface Read {
  line: number;
  op?: BatchOp;
  error?: TzkvError;
}

/** Runs the batch; resolves to the exit code (errors that stop it before any result are thrown). */
export async function runBatch(request: BatchRequest): Promise<number> {
  if (request.file === undefined) throw new TzkvError('INVALID_ARGUMENT', 'missing FILE: give a file of operations, or "-" to read them from stdin (… | tzkv batch -)');
  const path = givenPath(request.file, 'FILE', 'a file name cannot be empty ("-" is stdin)');
  if (path === '-' && process.stdin.isTTY) note('reading operations from the terminal, one a line; end with Ctrl-D');
  const prefix = Buffer.from(bucketPrefix(request.bucket));
  const print = new ResultPrinter(request.json);
  return request.each ? runEach(request, await openSource(path), prefix, print) : runAtomic(request, path, prefix, print);
}

/** Every line read first (a malformed one stops it all: exit 2, nothing applied), then one transaction. */
async function runAtomic(request: BatchRequest, path: string, prefix: Buffer, print: ResultPrinter): Promise<number> {
  const name = path === '-' ? 'standard input' : path;
  const ops = readAll(await wholeInput(path), name, new LineReader(prefix.length, Date.now()));
  mark('batch read');
  if (ops.length === 0) return 0;
  const results = await withStore(request, 'create', 'tzkv batch', (store) =>
    store
      .transact(async (tx) => {
        mark('batch locked');
        const out: BatchResult[] = new Array(ops.length);
        let i = 0;
        try {
          for (; i < ops.length; i++) {
            const op = ops[i];
            const result = applyOp(tx, op, stored(prefix, keyOf(op)));
            out[i] = result instanceof Promise ? await result : result;
          }
        } catch (err) {
          throw atLine(name, ops[i].line, err, 'nothing was applied');
        }
        mark('batch applied');
        return out;
      })
      .catch((err: unknown) => {
        throw tooLargeForEtcd(err);
      }),
  );
  mark('batch committed');
  const now = Date.now();
  const lines = new Array<string>(ops.length);
  for (let i = 0; i < ops.length; i++) lines[i] = print.result(ops[i], results[i], now);
  await print.all(lines);
  mark('batch printed');
  return 0;
}

/**
 * Each line as it arrives, in its own transaction (a read: straight from the
 * store), its result printed at once. A line that fails for its own reason
 * (exit 1 or 2) is reported and the rest go on: exit 1. A failure of the
 * store (exit 3, 4 or 5) stops the batch at that line, with its exit code; a
 * bug (70) stops it as anywhere.
 */
async function runEach(request: BatchRequest, source: Source, prefix: Buffer, print: ResultPrinter): Promise<number> {
  const chunks = operations(source, prefix);
  let first = await chunks.next();
  while (!first.done && first.value.length === 0) first = await chunks.next();
  if (first.done) return 0;
  const firstReads = first.value;
  return withStore(request, 'create', 'tzkv batch', async (store) => {
    let failed = false;
    for (let reads: Read[] | void = firstReads; reads !== undefined; reads = (await chunks.next()).value) {
      for (const read of reads) {
        let error = read.error;
        let result: BatchResult | undefined;
        if (read.op !== undefined) {
          try {
            result = await apply(store, read.op, prefix);
          } catch (err) {
            error = atLine(source.name, read.line, err);
          }
        }
        if (result !== undefined) {
          await print.all([print.result(read.op!, result, Date.now())]);
          continue;
        }
        await print.all([print.failure(read.line, read.op, error!)]);
        if (error!.exitCode !== EXIT_CODES.PRECONDITION && error!.exitCode !== EXIT_CODES.INVALID_ARGUMENT) {
          printMessage(`${error!.message}; stopped: the lines before it were applied, none after it`);
          return error!.exitCode;
        }
        printMessage(error!.message);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  });
}

/** One line of --each: a read from the store as it is, a write as its own transaction. */
function apply(store: Store, op: BatchOp, prefix: Buffer): Promise<BatchResult> {
  const key = stored(prefix, keyOf(op));
  if (isRead(op.op)) return readOp(store, op as BatchOp & { op: 'get' | 'ttl' }, key);
  return store.transact((tx) => applyOp(tx, op, key));
}

/**
 * All of the input: stdin as it comes, a file at once, synchronously
 * (nothing else runs meanwhile, and node:fs/promises, its file handles and
 * their chunked reads cost a batch more than reading the file).
 */
async function wholeInput(path: string): Promise<Buffer> {
  if (path === '-') return readStdin();
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError(err, 'cannot read', path);
  }
}

/**
 * The operations of a whole input, in order. Lines end at `\n` (a `\r`
 * before it dropped), as splitLines has them; no Buffer is made per line.
 * A malformed line: INVALID_ARGUMENT naming it, nothing applied.
 */
function readAll(input: Buffer, name: string, reader: LineReader): BatchOp[] {
  const ops: BatchOp[] = [];
  let number = 0;
  for (let start = bomLength(input); start < input.length; ) {
    const newline = input.indexOf(10, start);
    const next = newline === -1 ? input.length : newline + 1;
    let end = newline === -1 ? input.length : newline;
    if (end > start && input[end - 1] === 13) end--;
    number++;
    try {
      const op = reader.read(input, start, end, number);
      if (op !== undefined) ops.push(op);
    } catch (err) {
      throw atLine(name, number, err, 'nothing was applied');
    }
    start = next;
  }
  return ops;
}

/** The operations of a streamed input in order, a chunk of it at a time (one await per chunk, not per line); a line that is none gives its error. */
async function* operations(source: Source, prefix: Buffer): AsyncGenerator<Read[]> {
  const reader = new LineReader(prefix.length, Date.now());
  for await (const { first, lines } of splitLines(source.stream, source.name)) {
    const reads: Read[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = first + i;
      try {
        // The line is a view of the chunk: the operation may hold on to it, so it gets a copy.
        const op = reader.read(Buffer.from(lines[i]), line === 1 ? bomLength(lines[i]) : 0, lines[i].length, line);
        if (op !== undefined) reads.push({ line, op });
      } catch (err) {
        reads.push({ line, error: atLine(source.name, line, err) });
      }
    }
    yield reads;
  }
}

/** The length of a UTF-8 byte order mark at the start of `input` (an editor's, on Windows): 3, or 0 when there is none. */
const bomLength = (input: Buffer) => (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf ? 3 : 0);

/** A line's error, naming the input and the line (and saying `after`, when given); anything but a TzkvError (a bug) as it is. */
function atLine(name: string, line: number, err: unknown, after?: string): TzkvError {
  if (!(err instanceof TzkvError)) throw err;
  const message = `${name} line ${line}: ${err.message}${after === undefined ? '' : ` (${after})`}`;
  return new TzkvError(err.code, message, { path: err.path, cause: err, info: { ...err.info, line } });
}

/** An atomic batch past one etcd transaction (src/etcd/transaction.ts) is told what to do instead. */
function tooLargeForEtcd(err: unknown): unknown {
  if (!isTzkvError(err, 'INVALID_ARGUMENT') || typeof err.info?.writes !== 'number') return err;
  return new TzkvError(err.code, `${err.message}; split the input, or apply it line by line with --each`, { cause: err, info: err.info });
}

const stored = (prefix: Buffer, key: Buffer) => (prefix.length === 0 ? key : Buffer.concat([prefix, key]));

/** Results as lines of text or of JSON, as stdout should show them (escaped on a terminal). */
class ResultPrinter {
  constructor(private readonly json: boolean) {}

  result(op: BatchOp, result: BatchResult, now: number): string {
    return this.json ? this.jsonLine(resultJson(op, result, now)) : resultText(result, now);
  }

  failure(line: number, op: BatchOp | undefined, err: TzkvError): string {
    return this.json ? this.jsonLine(failureJson(line, op, err)) : failureText(err.code);
  }

  async all(lines: string[]): Promise<void> {
    const text = `${lines.join('\n')}\n`;
    await writeOut(this.json ? text : shown(text, { keep: '\n' }));
  }

  private jsonLine(value: unknown): string {
    const text = JSON.stringify(value);
    return process.stdout.isTTY ? terminalJson(text) : text;
  }
}
