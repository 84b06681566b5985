// verify's record tables of every segment (record-table.ts) and their join
// with the index entries (docs/design.md "Verify", Memory). Up to
// `limits.records` records the tables stay in memory and each entry is
// checked as the index walk meets it. Beyond, the tables go to a scratch file
// in pieces, the walk files each entry (position, fingerprint, place in walk
// order) with the partition of pieces that holds its position, and join()
// loads one partition at a time and checks its entries in walk order: memory
// holds one partition, not the log. One partition at a time is also held
// during the walk, its entries checked at once: an index in log order (a
// bulk load, a compacted store) files almost nothing. The walk is then run
// again with the entries found wrong (only when there are some), so it
// reports them in the order, and with the words, of the in-memory check.
// Past 300 lines with a reason: one algorithm, whose in-memory and spilled
// halves share the pieces, partitions and verdicts; a partition's filed
// entries are entry-batch.ts.
import { REC_REFERENCED, RecordTable } from './record-table.js';
import type { Scratch, VerifyLimits } from './scratch.js';
import { MAX_KEPT } from './verify-log.js';
import { ENTRY_BATCH, EntryBatch } from './entry-batch.js';

/** How an index entry compares with the record at its position. */
const CHECK_OK = 0;
/** No valid indexed record starts there. */
export const CHECK_NONE = 1;
/** The record there has another fingerprint (key, kind, length or expiry). */
export const CHECK_DIFFERS = 2;
/** An earlier entry (in walk order) points at the same record. */
export const CHECK_TWICE = 3;

/** Consecutive records of one segment; `table` null while spilled (at `at` in the scratch file). */
interface Piece {
  segment: number;
  length: number;
  firstOffset: number;
  table: RecordTable | null;
  at: number;
  partition: number;
}

/** Checks an entry against a table (marking its record referenced), the one check of both ways. */
function checkIn(table: RecordTable, offset: number, print: number): number {
  const i = table.find(offset);
  if (i < 0) return CHECK_NONE;
  if (print !== table.prints[i]) return CHECK_DIFFERS;
  if ((table.flags[i] & REC_REFERENCED) !== 0) return CHECK_TWICE;
  table.flags[i] |= REC_REFERENCED;
  return CHECK_OK;
}

export class RecordJoin {
  /** Records some entry points at (counted by check() in memory, by join() when spilled). */
  referenced = 0;
  /** Segments whose records could be read (false: could not be read at all). */
  private readonly readable = new Map<number, boolean>();
  private readonly pieces: Piece[] = [];
  private current: RecordTable | null = null;
  private currentSegment = -1;
  private currentFirst = true;
  private inMemory = 0;
  private spilled = false;
  private recordsFile: { path: string; fd: number } | null = null;
  private recordsBytes = 0;
  private entriesFile: { path: string; fd: number } | null = null;
  private entriesBytes = 0;
  /** Spilled: per segment its pieces, for routing an entry to its partition. */
  private readonly routes = new Map<number, Piece[]>();
  private batches: EntryBatch[] = [];
  /** The partition held in memory during the walk, its pieces and their tables. */
  private resident = -1;
  private residentPieces: Piece[] = [];
  private residentTables = new Map<number, RecordTable>();
  /** Wrong entries: each partition's first MAX_KEPT, and how many in all. */
  private readonly wrong: Array<{ seq: number; verdict: number }> = [];
  private wrongCount = 0;
  /** After join(): the first MAX_KEPT wrong entries by walk sequence; check() answers from them. */
  private verdicts: Map<number, number> | null = null;
  /** In memory: each readable segment's one table. */
  private readonly tables = new Map<number, RecordTable>();
  private lastSegment = -1;
  private lastTable: RecordTable | undefined;
  private readonly spare: RecordTable[] = [];

  constructor(
    private readonly limits: VerifyLimits,
    private readonly scratch: Scratch,
  ) {}

  /** Starts a segment's records; `capacity` a guess of their number. */
  begin(segment: number, capacity: number): void {
    this.readable.set(segment, true);
    this.currentSegment = segment;
    this.currentFirst = true;
    this.current = this.spilled ? this.table(this.limits.records) : new RecordTable(Math.max(16, Math.min(capacity, this.limits.records)));
  }

  /** Adds a record of the segment begun last (in log order). */
  push(offset: number, print: number, keyHash: number, put: boolean): void {
    this.current!.push(offset, print, keyHash, put);
    if (++this.inMemory >= this.limits.records) this.overflow();
  }

  /** Ends the segment begun last. */
  end(): void {
    this.closePiece();
    this.current = null;
  }

  /** The segment could not be read (or not whole): none of its records are kept, its entries are not checked. */
  unreadable(segment: number): void {
    this.readable.set(segment, false);
    if (this.current && segment === this.currentSegment) {
      this.inMemory -= this.current.length;
      this.current = null;
    }
    while (this.pieces.length > 0 && this.pieces[this.pieces.length - 1].segment === segment) {
      const p = this.pieces.pop()!;
      if (p.table) this.inMemory -= p.table.length;
    }
  }

  /** Whether `err` is a failure of verify's scratch files, not of the store (verify.ts starts again in memory). */
  owns(err: unknown): boolean {
    return this.scratch.failure(err) !== null;
  }

  /** true: the segment's records are checked; false: it could not be read; undefined: not in the store. */
  state(segment: number): boolean | undefined {
    return this.readable.get(segment);
  }

  get anyUnreadable(): boolean {
    return [...this.readable.values()].some((r) => !r);
  }

  /** Valid indexed records of the readable segments. */
  get records(): number {
    return this.pieces.reduce((n, p) => n + p.length, 0);
  }

  private closePiece(): void {
    const t = this.current;
    if (!t || (t.length === 0 && !this.currentFirst)) return;
    const piece: Piece = { segment: this.currentSegment, length: t.length, firstOffset: t.length > 0 ? t.offsets[0] : 0, table: t, at: -1, partition: -1 };
    this.pieces.push(piece);
    this.currentFirst = false;
    if (this.spilled) this.spill(piece);
  }

  /** The records in memory reached the limit: every piece goes to the scratch file, and from now on each piece as it fills. */
  private overflow(): void {
    this.recordsFile ??= this.scratch.create('records');
    this.entriesFile ??= this.scratch.create('entries');
    this.spilled = true;
    this.closePiece();
    for (const p of this.pieces) if (p.table) this.spill(p);
    this.current = this.table(this.limits.records);
  }

  private spill(p: Piece): void {
    const t = p.table!;
    const n = t.length;
    p.at = this.recordsBytes;
    for (const column of [t.offsets, t.prints, t.keyHashes, t.flags]) {
      const bytes = new Uint8Array(column.buffer, 0, n * column.BYTES_PER_ELEMENT);
      this.scratch.write(this.recordsFile!.fd, this.recordsFile!.path, bytes, this.recordsBytes);
      this.recordsBytes += bytes.length;
    }
    this.inMemory -= n;
    p.table = null;
    this.release(t);
  }

  /**
   * A table for `capacity` records, a spare one when there is one: tables of
   * megabytes freed and allocated again would keep the freed ones in the
   * process's resident memory.
   */
  private table(capacity: number): RecordTable {
    const i = this.spare.findIndex((t) => t.offsets.length >= capacity);
    if (i < 0) return new RecordTable(Math.max(16, capacity));
    const t = this.spare.splice(i, 1)[0];
    t.length = 0;
    return t;
  }

  /** Keeps `t` as a spare while the spares hold no more than one partition's records. */
  private release(t: RecordTable): void {
    const held = this.spare.reduce((n, s) => n + s.offsets.length, 0);
    if (held + t.offsets.length <= this.limits.records) this.spare.push(t);
  }

  /** The piece's table: its own in memory, else a spare one read back (release() it after use). */
  private load(p: Piece): RecordTable {
    if (p.table) return p.table;
    const t = this.table(p.length);
    t.length = p.length;
    let at = p.at;
    for (const column of [t.offsets, t.prints, t.keyHashes, t.flags]) {
      const bytes = new Uint8Array(column.buffer, 0, p.length * column.BYTES_PER_ELEMENT);
      this.scratch.read(this.recordsFile!.fd, this.recordsFile!.path, bytes, at);
      at += bytes.length;
    }
    return t;
  }

  /** Called once every segment is scanned, before the index walk: spilled pieces are grouped into partitions of at most `limits.records` records. */
  seal(): void {
    if (!this.spilled) {
      for (const p of this.pieces) this.tables.set(p.segment, p.table!);
      return;
    }
    let partition = -1;
    let size = Infinity;
    let segments = new Set<number>();
    for (const p of this.pieces) {
      if (size + p.length > this.limits.records || segments.has(p.segment)) {
        partition++;
        size = 0;
        segments = new Set();
      }
      p.partition = partition;
      size += p.length;
      segments.add(p.segment);
      const route = this.routes.get(p.segment) ?? [];
      route.push(p);
      this.routes.set(p.segment, route);
    }
    const batch = Math.max(1, Math.min(ENTRY_BATCH, this.limits.records));
    this.batches = Array.from({ length: partition + 1 }, () => new EntryBatch(batch));
  }

  /**
   * Checks the entry with walk sequence `seq` against the record at its
   * position (a readable segment's). In memory: at once. Spilled: the first
   * walk checks it at once when its partition is the resident one, else files
   * it, and says CHECK_OK either way; the second answers with what was found.
   */
  check(seq: number, segment: number, offset: number, print: number): number {
    if (this.verdicts) return this.verdicts.get(seq) ?? CHECK_OK;
    if (!this.spilled) {
      if (segment !== this.lastSegment) {
        this.lastSegment = segment;
        this.lastTable = this.tables.get(segment);
      }
      const v = checkIn(this.lastTable!, offset, print);
      if (v === CHECK_OK) this.referenced++;
      return v;
    }
    const route = this.routes.get(segment)!;
    let k = route.length - 1;
    while (k > 0 && route[k].firstOffset > offset) k--;
    const partition = route[k].partition;
    const b = this.batches[partition];
    if (partition === this.resident) {
      this.checkOne(b, this.residentTables, seq, segment, offset, print);
      return CHECK_OK;
    }
    b.offsets[b.n] = offset;
    b.seqs[b.n] = seq;
    b.prints[b.n] = print;
    b.segments[b.n] = segment;
    if (++b.n === b.offsets.length) {
      if (!b.wasResident && b.spilled.length === 0) this.makeResident(partition);
      else this.flush(b);
    }
    return CHECK_OK;
  }

  /** Checks one entry of partition `b` against its tables; a wrong one is noted for the second walk. */
  private checkOne(b: EntryBatch, tables: Map<number, RecordTable>, seq: number, segment: number, offset: number, print: number): void {
    const v = checkIn(tables.get(segment)!, offset, print);
    if (v === CHECK_OK) {
      this.referenced++;
      return;
    }
    this.wrongCount++;
    // Each partition's entries are checked in walk order: its first MAX_KEPT are all it can add to the report.
    if (b.kept++ < MAX_KEPT) this.wrong.push({ seq, verdict: v });
  }

  /** Checks the first `n` entries of `from`, filed for partition `b`, in order. */
  private checkFiled(b: EntryBatch, tables: Map<number, RecordTable>, from: EntryBatch, n: number): void {
    for (let i = 0; i < n; i++) this.checkOne(b, tables, from.seqs[i], from.segments[i], from.offsets[i], from.prints[i]);
  }

  /** A partition's pieces and their tables, read back (release() them after use). */
  private loadPartition(partition: number): { pieces: Piece[]; tables: Map<number, RecordTable> } {
    const pieces = this.pieces.filter((p) => p.partition === partition);
    return { pieces, tables: new Map(pieces.map((p) => [p.segment, this.load(p)])) };
  }

  /** Writes a partition's referenced flags back and frees its tables. */
  private unload(pieces: Piece[], tables: Map<number, RecordTable>): void {
    for (const p of pieces) {
      this.storeFlags(p, tables.get(p.segment)!);
      this.release(tables.get(p.segment)!);
    }
  }

  /**
   * Holds `partition` in memory from now on (once at most, when its first
   * batch fills): the entries filed for it, all in that batch, are checked,
   * and so is each later one as the walk meets it, in walk order.
   */
  private makeResident(partition: number): void {
    this.unload(this.residentPieces, this.residentTables);
    const b = this.batches[partition];
    ({ pieces: this.residentPieces, tables: this.residentTables } = this.loadPartition(partition));
    this.resident = partition;
    b.wasResident = true;
    this.checkFiled(b, this.residentTables, b, b.n);
    b.n = 0;
  }

  private flush(b: EntryBatch): void {
    if (b.n === 0) return;
    b.spilled.push({ at: this.entriesBytes, n: b.n });
    for (const bytes of b.columns(b.n)) {
      this.scratch.write(this.entriesFile!.fd, this.entriesFile!.path, bytes, this.entriesBytes);
      this.entriesBytes += bytes.length;
    }
    b.n = 0;
  }

  /**
   * Spilled: checks every filed entry, partition by partition; returns how
   * many entries are wrong (0 in memory, where check() did it all). The first
   * MAX_KEPT of them, by walk sequence, answer check() from now on.
   */
  join(): number {
    if (!this.spilled || this.verdicts) return 0;
    this.unload(this.residentPieces, this.residentTables);
    this.resident = -1;
    this.residentPieces = [];
    const read = new EntryBatch(this.batches[0]?.offsets.length ?? 1);
    for (let partition = 0; partition < this.batches.length; partition++) {
      const b = this.batches[partition];
      if (b.spilled.length === 0 && b.n === 0) continue;
      const { pieces, tables } = this.loadPartition(partition);
      for (const { at, n } of b.spilled) {
        let from = at;
        for (const bytes of read.columns(n)) {
          this.scratch.read(this.entriesFile!.fd, this.entriesFile!.path, bytes, from);
          from += bytes.length;
        }
        this.checkFiled(b, tables, read, n);
      }
      // Then those still in the batch: the latest in walk order.
      this.checkFiled(b, tables, b, b.n);
      b.n = 0;
      this.unload(pieces, tables);
    }
    this.wrong.sort((x, y) => x.seq - y.seq);
    this.verdicts = new Map(this.wrong.slice(0, MAX_KEPT).map((w) => [w.seq, w.verdict]));
    return this.wrongCount;
  }

  /** How many of join()'s wrong entries check() will not answer (beyond the first MAX_KEPT: counted, never listed). */
  unlisted(count: number): number {
    return count - (this.verdicts?.size ?? 0);
  }

  private storeFlags(p: Piece, t: RecordTable): void {
    const flagsAt = p.at + p.length * (8 + 4 + 4);
    this.scratch.write(this.recordsFile!.fd, this.recordsFile!.path, t.flags.subarray(0, p.length), flagsAt);
  }

  /** The readable segments' tables, newest record first: each piece's table in turn (a spilled one read back into a spare table). */
  *newestFirst(): Generator<{ segment: number; table: RecordTable }> {
    for (let i = this.pieces.length - 1; i >= 0; i--) {
      const p = this.pieces[i];
      const table = this.load(p);
      yield { segment: p.segment, table };
      if (!p.table) this.release(table);
    }
  }
}
