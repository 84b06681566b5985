// Reading records through a window read ahead. Listings and verify's index
// checks visit records roughly in log order (bulk loads are sorted by key),
// so one read of a window serves many records.
import type { FileSystem } from '../../io/fs.js';

export class ReadWindow {
  private segment = -1;
  private start = 0;
  private buf: Buffer = Buffer.alloc(0);
  private backing: Buffer | undefined;

  /**
   * `size`: bytes to read ahead. `reuse`: read every window into one buffer —
   * only when no returned slice outlives the next read (verify); a listing
   * hands values to its caller and gets a fresh buffer per window.
   */
  constructor(
    private readonly size: number,
    private readonly reuse: boolean,
  ) {}

  /**
   * Bytes [offset, offset + length) of `segment` (open as `fd`); fewer when
   * the file ends first. REQUIRES: a returned slice of a reusing window is
   * used before the next read.
   */
  read(fs: FileSystem, fd: number, segment: number, offset: number, length: number): Buffer {
    if (segment === this.segment && offset >= this.start && offset + length <= this.start + this.buf.length) {
      return this.buf.subarray(offset - this.start, offset - this.start + length);
    }
    if (length >= this.size) {
      const buf = Buffer.allocUnsafe(length);
      return buf.subarray(0, fs.read(fd, buf, 0, length, offset));
    }
    const into = this.reuse ? (this.backing ??= Buffer.allocUnsafe(this.size)) : Buffer.allocUnsafe(this.size);
    this.segment = segment;
    this.start = offset;
    this.buf = into.subarray(0, fs.read(fd, into, 0, this.size, offset));
    return this.buf.subarray(0, Math.min(length, this.buf.length));
  }
}
