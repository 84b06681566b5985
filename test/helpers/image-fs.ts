// A file system for tests of what verify reads: realFs, except that some
// files read as other bytes (damage only the injected file system shows,
// the disk intact).
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';

/** realFs, except that the files in `images` read as those bytes; nothing on disk changes. */
export function imageFs(images: Map<string, Buffer>): FileSystem {
  const paths = new Map<number, string>();
  return {
    ...realFs,
    openRead(path) {
      const fd = realFs.openRead(path);
      paths.set(fd, path);
      return fd;
    },
    read(fd, buf, offset, length, position) {
      const image = images.get(paths.get(fd) ?? '');
      if (!image) return realFs.read(fd, buf, offset, length, position);
      const n = Math.max(0, Math.min(length, image.length - position));
      image.copy(buf, offset, position, position + n);
      return n;
    },
    close(fd) {
      paths.delete(fd);
      realFs.close(fd);
    },
  };
}
